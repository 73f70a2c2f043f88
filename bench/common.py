"""What every benchmark script needs around its database and server: a
free port on loopback, and a PostgreSQL database of its own, dropped and
created fresh — only ever one whose name says "bench", so a benchmark
pointed at the wrong URL refuses instead of emptying real data."""

import socket
import sys
from urllib.parse import urlparse, urlunparse

import psycopg
from psycopg import sql

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def postgres_admin(url: str) -> psycopg.Connection:
    """A connection to the server's maintenance database (autocommit:
    CREATE/DROP DATABASE cannot run in a transaction)."""
    parts = urlparse(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


def bench_name(url: str) -> str:
    """The database name of `url`; exits unless it contains "bench"."""
    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop {name!r}: the database name must contain 'bench'")
    return name


def postgres_drop(url: str) -> None:
    with postgres_admin(url) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(bench_name(url))
            )
        )


def postgres_fresh(url: str, *, name: str | None = None) -> str:
    """Drops and creates the database of `url` (or `name` on its server);
    returns the URL of the fresh, empty database."""
    if name is not None:
        url = urlunparse(urlparse(url)._replace(path=f"/{name}"))
    postgres_drop(url)
    with postgres_admin(url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(bench_name(url))))
    return url
