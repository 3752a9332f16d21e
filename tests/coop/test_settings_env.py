"""Settings come from the environment: checked in a fresh interpreter for each case."""

import json
import os
import subprocess
import sys

from django.conf import settings


def _settings_value(expression: str, **environment: str) -> subprocess.CompletedProcess:
    overridden = {
        "DEBUG",
        "SECRET_KEY",
        "DATABASE_URL",
        "DATABASE_POOL",
        "REDIS_URL",
        "LOG_FORMAT",
        "TRUSTED_PROXY_COUNT",
        "SESSION_IDLE_MINUTES",
    }
    env = {k: v for k, v in os.environ.items() if k not in overridden}
    env.update(environment)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    code = (
        "import logging, django; django.setup(); from django.conf import settings; "
        f"print({expression})"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_value("settings.SECRET_KEY", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_has_a_development_secret_key_and_sqlite_default():
    result = _settings_value(
        "settings.SECRET_KEY, settings.DATABASES['default']['ENGINE']", DEBUG="true"
    )
    assert result.returncode == 0, result.stderr
    assert "dev-only" in result.stdout
    assert "sqlite3" in result.stdout


def test_database_url_selects_postgresql():
    result = _settings_value(
        "settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME']",
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/coop_example",
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout and "coop_example" in result.stdout


def test_production_uses_compressed_manifest_static_files_and_secure_cookies():
    result = _settings_value(
        "settings.STORAGES['staticfiles']['BACKEND'], settings.SESSION_COOKIE_SECURE, "
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS",
        DEBUG="false",
        SECRET_KEY="x" * 60,
    )
    assert result.returncode == 0, result.stderr
    assert "CompressedManifestStaticFilesStorage" in result.stdout
    assert "True True 31536000" in result.stdout


def test_allowed_hosts_time_zone_and_email_come_from_the_environment():
    result = _settings_value(
        "settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS, "
        "settings.TIME_ZONE, settings.MAILERS",
        DEBUG="false",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="crm.example.coop,crm2.example.coop",
        CSRF_TRUSTED_ORIGINS="https://crm.example.coop",
        TIME_ZONE="Europe/Lisbon",
        EMAIL_URL="smtp://mailer:secret@mail.example.coop:587",
    )
    assert result.returncode == 0, result.stderr
    assert "['crm.example.coop', 'crm2.example.coop']" in result.stdout
    assert "https://crm.example.coop" in result.stdout
    assert "Europe/Lisbon" in result.stdout
    assert "mail.example.coop" in result.stdout


def test_production_pools_postgresql_connections_and_development_does_not():
    expression = "settings.DATABASES['default'].get('OPTIONS', {}).get('pool', False)"
    pg = "postgres://postgres@127.0.0.1:5432/coop_example"
    production = _settings_value(expression, DEBUG="false", SECRET_KEY="x" * 60, DATABASE_URL=pg)
    development = _settings_value(expression, DEBUG="true", DATABASE_URL=pg)
    assert production.returncode == 0, production.stderr
    assert "'max_size': 10" in production.stdout
    assert development.stdout.strip() == "False"


def test_a_replica_url_adds_the_replica_alias():
    result = _settings_value(
        "sorted(settings.DATABASES), settings.DATABASES['replica']['HOST']",
        DEBUG="true",
        DATABASE_URL="postgres://postgres@primary.internal:5432/coop",
        DATABASE_REPLICA_URL="postgres://postgres@replica.internal:5432/coop",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default', 'replica'] replica.internal"


def test_redis_url_selects_the_redis_cache_and_cached_sessions():
    with_redis = _settings_value(
        "settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE",
        DEBUG="true",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )
    without = _settings_value("settings.CACHES['default']['BACKEND']", DEBUG="true")
    assert with_redis.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "django.contrib.sessions.backends.cached_db",
    ]
    assert "LocMemCache" in without.stdout


def test_log_format_json_writes_one_json_object_per_line():
    result = _settings_value(
        "logging.getLogger('coop.test').warning('hello')",
        DEBUG="true",
        LOG_FORMAT="json",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record.pop("time")
    assert record == {
        "level": "WARNING",
        "logger": "coop.test",
        "request_id": "-",
        "message": "hello",
    }


def test_the_trusted_proxy_count_comes_from_the_environment_and_defaults_to_none():
    expression = "settings.TRUSTED_PROXY_COUNT, settings.AXES_CLIENT_IP_CALLABLE"
    behind_one = _settings_value(expression, DEBUG="true", TRUSTED_PROXY_COUNT="1")
    direct = _settings_value(expression, DEBUG="true")
    negative = _settings_value(expression, DEBUG="true", TRUSTED_PROXY_COUNT="-1")
    assert behind_one.stdout.split() == ["1", "coop.client_ip.client_ip"]
    assert direct.stdout.split() == ["0", "coop.client_ip.client_ip"]
    assert negative.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in negative.stderr


def test_the_session_idle_timeout_comes_from_the_environment():
    result = _settings_value("settings.SESSION_COOKIE_AGE", DEBUG="true", SESSION_IDLE_MINUTES="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1800"


def test_in_development_too_every_django_log_line_goes_through_the_redaction():
    result = _settings_value(
        "logging.getLogger('django.request').warning('Not Found: %s', '/calendar/feed/t0k3n.ics'),"
        "logging.getLogger('django.server').info('\"GET /calendar/feed/t0k3n.ics HTTP/1.1\" 404')",
        DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("WARNING django.request [-] Not Found: /calendar/feed/[redacted]")
    assert lines[1].endswith('INFO django.server [-] "GET /calendar/feed/[redacted] HTTP/1.1" 404')
