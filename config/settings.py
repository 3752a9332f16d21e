"""Co-op CRM settings: one module, driven by environment variables (see `.env.example`).

Development defaults (SQLite in the project folder, a dev secret key) apply only when
`DEBUG` is on; production differs only by environment variables.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from coop.languages import Language as coop_languages

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY")

# Old keys still accepted for signed data while a new SECRET_KEY rolls out (docs/operations.md).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "coop",
    "crm",
    "calendar_app",
    "health",
    "finance",
    "integrations",
]

MIDDLEWARE = [
    "coop.observability.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "coop.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the signed-in person's language, else the browser's.
    "coop.middleware.UserLanguageMiddleware",
    "coop.middleware.SessionIdleTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "coop.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "calendar_app.context_processors.notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Optional read replica for dashboards and reports (see coop/db_router.py).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
DATABASE_ROUTERS = ["coop.db_router.ReplicaRouter"]
# psycopg's connection pool on PostgreSQL: on by default in production, off in development.
# With a pool, connections are not kept per request (CONN_MAX_AGE stays 0).
_use_pool = env.bool("DATABASE_POOL", default=not DEBUG)
for _database in DATABASES.values():
    _database["ATOMIC_REQUESTS"] = False
    if _use_pool and _database["ENGINE"] == "django.db.backends.postgresql":
        _database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN", default=2),
            "max_size": env.int("DATABASE_POOL_MAX", default=10),
            "timeout": 10,
        }
        _database["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "coop.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): five failed logins for one username from one address lock
# that pair out for 15 minutes (answered 429 with our lockout page); a success resets the
# count. Locking the pair, not the username alone, keeps an attacker from locking a real
# person out from everywhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# The address in that pair, behind the proxies of docs/operations.md: with TRUSTED_PROXY_COUNT
# proxies in front of the app, the client is that many hops from the right of X-Forwarded-For
# (coop/client_ip.py); 0 (the default, no proxy) uses the connection's own address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
AXES_CLIENT_IP_CALLABLE = "coop.client_ip.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# The interface languages (coop.models.Language, whose complete catalogues we ship). English is
# British English ("en-gb"): its dates and numbers are the ones the app has always shown, and
# a browser asking for any English ("en", "en-us") gets it. Each person's language comes from
# their settings, else the browser's Accept-Language (or the login page's choice, a cookie),
# else English: coop.middleware.UserLanguageMiddleware.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb" if code == "en" else code, label) for code, label in coop_languages.choices]
# Catalogues of what belongs to no app: the project's templates/, config/, static/js/.
# Each app keeps its own in <app>/locale/ (CONTRIBUTING.md "Translations").
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files kept between requests: the uploads a background import reads (crm/imports.py). Every
# web process and worker must see the same MEDIA_ROOT (a shared volume when they run on
# several machines, or another storage backend for "default").
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Outgoing email from one URL (smtp://user:password@host:587, smtp+tls://..., consolemail://),
# turned into Django 6.1's MAILERS setting.
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_smtp_options = {
    "host": _email.get("EMAIL_HOST", ""),
    "port": _email.get("EMAIL_PORT") or 25,
    "username": _email.get("EMAIL_HOST_USER", ""),
    "password": _email.get("EMAIL_HOST_PASSWORD", ""),
    "use_tls": bool(_email.get("EMAIL_USE_TLS")),
    "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": _smtp_options if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Co-op CRM <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Content Security Policy: our pages load scripts and styles only from our own origin, plus
# script tags carrying the per-request nonce (htmx's loader). No inline handlers, no eval.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Transport security: on by default in production, off in development (plain http://).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The app shows health data: a session ends after SESSION_IDLE_MINUTES (8 hours by default)
# without a request; coop.middleware.SessionIdleTimeoutMiddleware keeps an active one alive.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=8 * 60) * 60
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Background tasks (coop/tasks.py): "database" queues them in PostgreSQL for
# `manage.py db_worker` processes (the production default); "immediate" runs them in the
# request that enqueues them (development, tests).
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="immediate" if DEBUG else "database")
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}

# CalDAV sync (calendar_app/caldav_sync.py). Fernet keys that encrypt the stored app
# passwords, comma separated, newest first: the first encrypts, all decrypt, so a rotation
# lists the new key before the old one (docs/operations.md "Rotate secrets"). Empty with
# DEBUG on: a development key derived from SECRET_KEY (calendar_app/crypto.py).
CALDAV_ENCRYPTION_KEYS = env.list("CALDAV_ENCRYPTION_KEY", default=[])
# Minutes between two periodic syncs of an account, and failures in a row before it stops.
CALDAV_SYNC_INTERVAL_MINUTES = env.int("CALDAV_SYNC_INTERVAL_MINUTES", default=10)
CALDAV_MAX_FAILURES = env.int("CALDAV_MAX_FAILURES", default=5)
# Seconds a CalDAV request may take before it counts as a network error (and is retried).
CALDAV_TIMEOUT_SECONDS = env.int("CALDAV_TIMEOUT_SECONDS", default=20)
# Whether people may connect a server on a private or loopback address (an intranet
# Nextcloud). Off in production so the form cannot be used to probe the internal network.
CALDAV_ALLOW_PRIVATE_ADDRESSES = env.bool("CALDAV_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)

# Cache: Redis when REDIS_URL is set (shared by every process; sessions are cached there in
# front of the database), otherwise a per-process memory cache. The app works with either.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "coop",
            "TIMEOUT": 300,
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Aggregates (coop/cache.py) are cached only where every process sees the same cache: a
# per-process cache would go on serving figures that another process has invalidated.
CACHES["aggregates"] = (
    {**CACHES["default"], "KEY_PREFIX": "coop-aggregates"}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
)
# Rendered fragments keyed by database versions (crm/timeline.py): in each process, so they
# cost no network round trip and a deploy never serves the previous release's markup.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

# Logs: every line carries the request id; LOG_FORMAT=json gives one JSON object per line.
# SQL statements slower than SLOW_QUERY_MS are logged on "coop.slow_query".
SLOW_QUERY_MS = env.float("SLOW_QUERY_MS", default=200.0)
# Optional dotted path of a callable(request=...) called for every unhandled exception
# (e.g. to forward it to an error-tracking service); errors are always logged.
ERROR_REPORTER = env.str("ERROR_REPORTER", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "coop.observability.RequestIdFilter"}},
    "formatters": {
        # Both replace calendar feed tokens with "[redacted]" (coop/log_redaction.py).
        "plain": {
            "()": "coop.log_redaction.RedactingFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "coop.log_redaction.RedactingJsonFormatter",
            "fmt": ["asctime", "levelname", "name", "request_id", "message"],
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env.str("LOG_FORMAT", default="plain"),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own handlers (its DEBUG console, runserver's request lines, mail to ADMINS)
    # would write lines without that redaction: its records go through ours alone.
    "loggers": {
        "django": {"handlers": []},
        "django.server": {"handlers": [], "propagate": True},
    },
}

# Shown by `seed_demo` and used for every demo user; never used outside demo data.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="coop-demo-2026")
