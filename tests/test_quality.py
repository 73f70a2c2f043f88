"""The checks CI relies on, run as part of the suite so `make test` is the one gate."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*args, env=None):
    # The browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE for this process; a
    # deployment never has it, so the checked subprocess must not inherit it.
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**base, **(env or {})}
    )


def test_ruff_lint_is_clean():
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run(str(BIN / "ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_migrations_match_the_models():
    result = run(sys.executable, "manage.py", "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_pass_check_deploy():
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "portal.example.org",
        "DATABASE_URL": "",
    }
    result = run(
        sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "", "DJANGO_ALLOWED_HOSTS": "x"}
    result = run(sys.executable, "manage.py", "check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
