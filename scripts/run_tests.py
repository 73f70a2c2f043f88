"""Run the whole suite on SQLite, then again on PostgreSQL when reachable.

With CI=true an unreachable PostgreSQL is a failure, not a skip: CI must
prove both databases."""

import os
import subprocess
import sys
from urllib.parse import urlparse

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/genoportal"


def postgres_reachable(url: str) -> str | None:
    import psycopg

    parts = urlparse(url)
    try:
        with psycopg.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname="postgres",
            connect_timeout=3,
        ):
            return None
    except psycopg.Error as exc:
        return str(exc).strip()


def pytest(env_extra: dict[str, str], label: str) -> int:
    print(f"\n=== test suite on {label} ===", flush=True)
    env = {**os.environ, **env_extra}
    # One worker per core (pytest-xdist), a file's tests on one worker: each
    # worker has its own test database (SQLite: a file per process id;
    # PostgreSQL: pytest-django's "_gw0" … suffix), and module fixtures
    # such as the Dovecot server start once per worker, not per test.
    parallel = ["-n", "auto", "--dist", "loadfile"]
    return subprocess.call([sys.executable, "-m", "pytest", *parallel, *sys.argv[1:]], env=env)


def main() -> int:
    ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    sqlite_env = {"DATABASE_URL": ""}
    status = pytest(sqlite_env, "SQLite")
    pg_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    problem = postgres_reachable(pg_url)
    if problem:
        print(f"PostgreSQL at {pg_url} is not reachable: {problem}", flush=True)
        if ci:
            print("CI=true: a missing PostgreSQL is a failure.", flush=True)
            return 1
        print("Skipping the PostgreSQL run (outside CI).", flush=True)
        return status
    return pytest({"DATABASE_URL": pg_url}, "PostgreSQL") or status


if __name__ == "__main__":
    sys.exit(main())
