"""Compiled message catalogues for tests that render pages in another language.

The `.mo` files are build output (not in git): `use_catalogues` compiles the apps' `.po` files
with msgfmt where the `.mo` is missing or older, then drops Django's cached translations so
the new catalogues are read."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation
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


def page_in(client, user, url: str, language: str) -> str:
    """The page at `url` as `user` reads it in `language`: their own setting, the browser's
    Accept-Language and the active language all say it, whichever the middleware follows."""
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    with translation.override(language):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.text
