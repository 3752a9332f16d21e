"""Encryption at rest of CalDAV app passwords (Fernet: AES-128-CBC with HMAC-SHA256).

Keys come from `settings.CALDAV_ENCRYPTION_KEYS` (env `CALDAV_ENCRYPTION_KEY`, comma separated,
newest first). `MultiFernet` encrypts with the first and decrypts with any, so a rotation adds
the new key in front, runs `manage.py caldav_rotate_key` (re-encrypts every stored password with
it), then drops the old key (docs/operations.md). Only with DEBUG on and no key set is a
development key derived from SECRET_KEY, so a production database never holds passwords under a
key that lives in the code's defaults.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]


def _keys() -> list[bytes]:
    keys = [key.encode() for key in settings.CALDAV_ENCRYPTION_KEYS if key]
    if keys:
        return keys
    if settings.DEBUG:
        digest = hashlib.sha256(b"coop-crm caldav dev key:" + settings.SECRET_KEY.encode())
        return [base64.urlsafe_b64encode(digest.digest())]
    raise ImproperlyConfigured(
        "Set CALDAV_ENCRYPTION_KEY (a Fernet key) to store calendar passwords; see "
        "docs/operations.md."
    )


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    """The secret; raises `InvalidToken` when no configured key opens it."""
    return _fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same secret encrypted with the newest key."""
    return _fernet().rotate(token.encode()).decode()
