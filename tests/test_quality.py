"""The checks CI relies on, run as part of the suite so `make test` is the one gate."""

import ast
import os
import secrets
import shutil
import subprocess
import sys
import tomllib
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


def test_the_layer_contract_is_kept():
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a lower layer reaching up, hidden in a function as cycles used to be
        ("members/selectors.py", "def _x():\n    from tickets.models import Ticket\n", "tickets"),
        ("core/models.py", "from cooperative.models import Unit\n", "cooperative"),
        # one face using another
        ("backoffice/forms.py", "from portal import views\n", "portal"),
        # an admin module is a face: it must not use the face apps either
        ("routing/admin.py", "from backoffice.views import inbox\n", "backoffice"),
    ],
)
def test_the_layer_contract_fails_on_an_upward_import(tmp_path, module, line, broken):
    """The contract is not vacuous: the same check on a copy of the code with
    one forbidden import added fails and names it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a") as handle:
        handle.write("\n" + line)
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"not allowed to import {broken}" in result.stdout, result.stdout


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


# Test modules share helpers through helper modules (tests/helpers.py,
# tests/factories.py, tests/browser.py), never by importing each other.


def imported_test_modules(source: str) -> list[str]:
    """The tests.test_* modules a source imports, anywhere in it (also
    inside functions), absolutely or relatively (modules are in tests/)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("tests.test_")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative to tests/: from .test_x import y, from . import test_x
                module = "tests" + ("." + module if module else "")
            if module.startswith("tests.test_"):
                found.append(module)
            elif module == "tests":
                found += [f"tests.{a.name}" for a in node.names if a.name.startswith("test_")]
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tests.test_browser import log_in\n", ["tests.test_browser"]),
        ("import tests.test_routing\n", ["tests.test_routing"]),
        ("import tests.test_routing as routing\n", ["tests.test_routing"]),
        ("def test_x():\n    from tests.test_demo import _answer\n", ["tests.test_demo"]),
        ("from tests import helpers, test_routing\n", ["tests.test_routing"]),
        ("from .test_browser import PHONE\n", ["tests.test_browser"]),
        ("from . import test_browser\n", ["tests.test_browser"]),
        (
            "import os\nfrom tests.browser import PHONE\nfrom tests.factories import TAP\n"
            "from tests.helpers import de\nimport tests.factories\n",
            [],
        ),
    ],
)
def test_the_import_check_finds_test_modules_importing_test_modules(source, expected):
    assert imported_test_modules(source) == expected


def test_no_test_module_imports_another_test_module():
    offenders = {
        path.name: found
        for path in sorted((ROOT / "tests").glob("test_*.py"))
        if (found := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move shared helpers into tests/helpers.py, factories.py or browser.py"
