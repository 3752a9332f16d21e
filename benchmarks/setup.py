"""Production-like settings for the benchmarks (DEBUG off, so no query log and no debug
toolbar; collected static files), on the database of `DATABASE_URL`, over plain HTTP on
loopback."""

import os


def django_setup() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("The benchmarks need DATABASE_URL=postgres://... (seeded --scale large).")
    os.environ["DEBUG"] = "false"  # production-like, even when the shell exports DEBUG=true
    for name, value in {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "benchmark-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
    }.items():
        os.environ.setdefault(name, value)
    import django
    from django.core.management import call_command

    django.setup()
    # DEBUG off serves hashed static files, as in production: build their manifest.
    call_command("collectstatic", "--noinput", verbosity=0)
