"""Every user-facing string is translated: German complete (the default),
English complete, and the catalogues hold every string the code uses."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every Python package of the project plus the templates.
PACKAGES = sorted(
    p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"
)
SOURCE_DIRS = [*PACKAGES, "templates"]


def _msgids(po: Path) -> set[str]:
    text = po.read_text(encoding="utf-8")
    ids = set()
    for block in text.split("\n\n"):
        if "#~" in block:
            continue
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if match:
            msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
            if msgid:
                ids.add(msgid)
    return ids


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_catalogue_is_complete(language):
    po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr, result.stderr
    assert "fuzzy" not in result.stderr, result.stderr


def test_the_catalogues_hold_every_string_in_the_code(tmp_path):
    """Re-extract the strings from a copy of the sources and compare."""
    for name in [*SOURCE_DIRS, "manage.py"]:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tmp_path / name)
    (tmp_path / "locale" / "de").mkdir(parents=True)
    result = subprocess.run(["xgettext", "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, "GNU gettext is needed"
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-location"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    extracted = _msgids(tmp_path / "locale" / "de" / "LC_MESSAGES" / "django.po")
    committed = _msgids(ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po")
    missing = sorted(extracted - committed)
    assert not missing, "run `manage.py makemessages -l de -l en` and translate:\n" + "\n".join(
        missing
    )
