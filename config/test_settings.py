"""Test overrides: fast hashing, plain static files, no TLS redirects on the live server."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
# Tests open and close their own connections; a pool would keep the test database busy.
os.environ.setdefault("DATABASE_POOL", "false")
# Tasks run in the test that enqueues them; tests of the queue itself set the backend.
os.environ.setdefault("TASKS_BACKEND", "immediate")
# The test CalDAV server (Radicale) listens on a loopback address.
os.environ.setdefault("CALDAV_ALLOW_PRIVATE_ADDRESSES", "true")
# A fixed Fernet key for the CalDAV credentials (a real one comes from the environment).
os.environ.setdefault("CALDAV_ENCRYPTION_KEY", "dGVzdC1vbmx5LWNhbGRhdi1rZXktMDEyMzQ1Njc4OWE=")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ALLOWED_HOSTS = ["*"]
# Uploaded files (imports) go to a scratch folder, not the checkout.
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), "coop-test-media")

# TEST_WITH_REPLICA=1 adds a read-replica alias that mirrors the test database, for the
# replica-routing tests (tests/coop/test_operations.py); CI runs them in a step of their own,
# because reads through a second connection only see committed rows (transactional tests).
if os.environ.get("TEST_WITH_REPLICA"):
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
