"""Compiled message catalogues for tests that render pages in another language.

The `.mo` files are build output (not in git): `use_catalogues` compiles the apps' `.po` files
with msgfmt where the `.mo` is missing or older, then drops Django's cached translations so
the new catalogues are read."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parent.parent


def compile_catalogues(apps: tuple[str, ...]) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("gettext's msgfmt is not installed")
    for app in apps:
        for po in (ROOT / app / "locale").glob("*/LC_MESSAGES/django.po"):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)
    trans_real._translations = {}
    trans_real._default = None
