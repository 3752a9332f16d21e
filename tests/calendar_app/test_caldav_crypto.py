"""App passwords at rest: Fernet with keys from the environment, rotation with MultiFernet."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from calendar_app import crypto
from tests.calendar_app.factories import CalDavAccountFactory

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_password_is_stored_encrypted_and_read_back(settings):
    settings.CALDAV_ENCRYPTION_KEYS = [OLD]
    token = crypto.encrypt("app-password")
    assert "app-password" not in token
    assert crypto.decrypt(token) == "app-password"


def test_production_without_a_key_refuses_to_store_passwords(settings):
    settings.CALDAV_ENCRYPTION_KEYS, settings.DEBUG = [], False
    with pytest.raises(ImproperlyConfigured, match="CALDAV_ENCRYPTION_KEY"):
        crypto.encrypt("app-password")


def test_development_derives_a_key_from_the_secret_key(settings):
    settings.CALDAV_ENCRYPTION_KEYS, settings.DEBUG = [], True
    assert crypto.decrypt(crypto.encrypt("app-password")) == "app-password"


@pytest.mark.django_db
def test_rotation_reencrypts_every_password_so_the_old_key_can_go(settings):
    settings.CALDAV_ENCRYPTION_KEYS = [OLD]
    account = CalDavAccountFactory()
    settings.CALDAV_ENCRYPTION_KEYS = [NEW, OLD]  # step 1: the new key in front

    out = StringIO()
    call_command("caldav_rotate_key", stdout=out)  # step 2

    assert "1 password re-encrypted" in out.getvalue()
    settings.CALDAV_ENCRYPTION_KEYS = [NEW]  # step 3: the old key removed
    account.refresh_from_db()
    assert crypto.decrypt(account.password_encrypted) == "app-password"
