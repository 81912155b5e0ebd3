"""Pavior settings, driven by the environment (see docs/configuration.md).

Every setting a self-hoster may change is read here, once, from an environment
variable; `*_FILE` variants exist for secrets so they can come from a mounted
file instead of the process environment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

from pavior.core import email_config


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str = "false") -> bool:
    return env(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    return int(env(name, str(default)))


def envsecret(name: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE."""
    if path := env(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return env(name)


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("PAVIOR_DATA_DIR", "./pavior-data")).resolve()


def _data_dir() -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return DATA_DIR


def _secret_key() -> str:
    """PAVIOR_SECRET_KEY, else one generated once and kept in the data dir.

    Keeping it on disk means sessions and signed links survive a restart
    without asking a first-time user to invent a key.
    """
    if key := envsecret("PAVIOR_SECRET_KEY"):
        return key
    path = _data_dir() / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("PAVIOR_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in env("PAVIOR_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("PAVIOR_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]
# Public base URL put into the install snippet and email links (SPEC §10:
# PAVIOR_BASE_URL; PAVIOR_SITE_URL is its older name). Empty = the request's own,
# which emails cannot use: sending email needs it set (docs/email.md).
SITE_URL = (env("PAVIOR_BASE_URL") or env("PAVIOR_SITE_URL")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page's assets locally (no CDN)
    "django_tasks",
    "django_tasks_db",
    "axes",
    "pavior.workspaces",
    "pavior.people",
    "pavior.tracking",
    "pavior.imports",
    "pavior.segments",
    "pavior.messaging",
    "pavior.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every middleware here is async-capable, so under ASGI Django runs the chain
    # without hopping to a thread per middleware (only the view itself does).
    "servestatic.middleware.ServeStaticMiddleware",
    "pavior.api.middleware.BodySizeLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "pavior.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "pavior.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pavior.web.context.workspace_context",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # A connection pool rather than persistent connections: under ASGI
        # each request may run on another thread, and per-thread persistent
        # connections pile up until the server refuses new ones.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": envint("PAVIOR_DB_POOL_MIN", 2),
            "max_size": envint("PAVIOR_DB_POOL_MAX", 20),
            "timeout": 10,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_data_dir() / "pavior.sqlite3"),
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the
                # write lock at BEGIN so two writers queue instead of deadlocking
                # on a lock upgrade (SQLITE_BUSY mid-transaction).
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=10000;"
                    "PRAGMA temp_store=MEMORY;PRAGMA cache_size=-65536"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Tests use a real file (not shared-cache memory) so locking and WAL
            # behave as they do for users; one per process so parallel runs never
            # share it.
            "TEST": {
                "NAME": env("PAVIOR_TEST_SQLITE_NAME")
                or str(DATA_DIR / f"test-{os.getpid()}.sqlite3")
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (live attributes) ----------------------------------------------------
REDIS_URL = env("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Without Redis, one SQLite file in the data dir (pavior.sqlite_cache): the
    # web processes of `pavior serve` (one per core) and its worker share it.
    CACHES = {
        "default": {
            "BACKEND": "pavior.sqlite_cache.SQLiteCache",
            "LOCATION": str(_data_dir() / "cache.sqlite3"),
        }
    }
# Each user's candidate messages (messaging.targeting): shared by every process.
CACHES["candidates"] = {**CACHES["default"], "KEY_PREFIX": "pavior"}
# Rate-limit counters must be shared by every process (`pavior serve --workers N`):
# Redis when there is one, else one small locked file per counter in the data dir
# (local memory would give each process its own count; see counter_cache.py).
if REDIS_URL:
    CACHES["rate_limits"] = {**CACHES["default"], "KEY_PREFIX": "pavior"}
else:
    CACHES["rate_limits"] = {
        "BACKEND": "pavior.counter_cache.CounterFileCache",
        "LOCATION": str(_data_dir() / "rate-limits"),
    }

# --- Background tasks ------------------------------------------------------------
TASKS = {"default": {"BACKEND": env("PAVIOR_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# --- Email (SPEC §13; docs/email.md) ------------------------------------------------
# PAVIOR_SMTP_URL (smtp://user:pass@host:port?starttls=true, smtps:// for implicit
# TLS) is parsed by pavior.core.email_config and mapped onto Django's EMAIL_*;
# PAVIOR_EMAIL_BACKEND picks another Django email backend instead (an email service
# through django-anymail, e.g. anymail.backends.mailgun.EmailBackend), whose
# settings come from ANYMAIL_* variables (ANYMAIL_MAILGUN_API_KEY -> ANYMAIL["MAILGUN_API_KEY"]).
PAVIOR_SMTP_URL = envsecret("PAVIOR_SMTP_URL")
PAVIOR_EMAIL_BACKEND = env("PAVIOR_EMAIL_BACKEND")
EMAIL_BACKEND = PAVIOR_EMAIL_BACKEND or "django.core.mail.backends.smtp.EmailBackend"
try:
    if PAVIOR_SMTP_URL:
        _smtp = email_config.parse_smtp_url(PAVIOR_SMTP_URL)
        EMAIL_HOST, EMAIL_PORT = _smtp.host, _smtp.port
        EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _smtp.username, _smtp.password
        EMAIL_USE_TLS, EMAIL_USE_SSL = _smtp.use_tls, _smtp.use_ssl
        EMAIL_TIMEOUT = _smtp.timeout
    else:
        EMAIL_TIMEOUT = email_config.DEFAULT_TIMEOUT
    # Where emails come from ("Acme <hello@acme.example>"); no default, so nothing
    # goes out as webmaster@localhost.
    PAVIOR_EMAIL_FROM = (
        email_config.parse_address(env("PAVIOR_EMAIL_FROM"), name="PAVIOR_EMAIL_FROM")
        if env("PAVIOR_EMAIL_FROM").strip()
        else ""
    )
    # Optional: Reply-To, and the mailto: form of List-Unsubscribe.
    PAVIOR_EMAIL_REPLY_TO = (
        email_config.parse_address(env("PAVIOR_EMAIL_REPLY_TO"), name="PAVIOR_EMAIL_REPLY_TO")
        if env("PAVIOR_EMAIL_REPLY_TO").strip()
        else ""
    )
    # Emails per second from one worker (0: as fast as the server takes them).
    PAVIOR_EMAIL_RATE = email_config.parse_rate(env("PAVIOR_EMAIL_RATE", "100"))
except email_config.EmailConfigError as _exc:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(str(_exc)) from None
DEFAULT_FROM_EMAIL = PAVIOR_EMAIL_FROM or "webmaster@localhost"
ANYMAIL = {k.removeprefix("ANYMAIL_"): v for k, v in os.environ.items() if k.startswith("ANYMAIL_")}

# --- Auth, sessions, security ----------------------------------------------------
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = envbool("PAVIOR_SECURE_COOKIES")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AXES_FAILURE_LIMIT = envint("PAVIOR_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = 0.25  # hours
# Two separate locks: the account (from any address) and the address (whatever
# account it tries). The pair alone would let a guesser move to a new address,
# and let the right password in from one while the account is under attack.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The client address by the trusted-proxy rule (PAVIOR_TRUSTED_PROXIES), never
# an X-Forwarded-For header from anyone else.
AXES_CLIENT_IP_CALLABLE = "pavior.workspaces.addresses.request_ip"
AXES_LOCKOUT_CALLABLE = "pavior.web.views.auth.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLED = envbool("PAVIOR_LOGIN_THROTTLING", "true")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Limits ---------------------------------------------------------------------
PAVIOR_MAX_CUSTOM_ATTRIBUTES = envint("PAVIOR_MAX_CUSTOM_ATTRIBUTES", 250)
PAVIOR_MAX_STRING_LENGTH = envint("PAVIOR_MAX_STRING_LENGTH", 1000)
# A custom attribute gets an expression index after this many filter/sort uses
# (0 = never automatically), in workspaces of at least PAVIOR_INDEX_MIN_USERS users.
PAVIOR_INDEX_AFTER_USES = envint("PAVIOR_INDEX_AFTER_USES", 20)
PAVIOR_INDEX_MIN_USERS = envint("PAVIOR_INDEX_MIN_USERS", 20000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # JSON bodies over 1 MB are refused (413)

# --- Tracking: where derived attributes are worked out (docs/tracking.md) -----------
# true: the intake stores a visitor's page views and heartbeats and answers; the
# folder in `pavior worker` applies them to visits, time and last seen within
# about a second (some `pavior worker` must then run). false (the default: it
# measured faster on 2 cores, docs/benchmarks-tracking.md): the intake applies them.
PAVIOR_FOLD_IN_WORKER = envbool("PAVIOR_FOLD_IN_WORKER", "false")
# Most pending events a folder applies in one transaction, and how many folders
# the worker runs (several only help on PostgreSQL).
PAVIOR_FOLD_BATCH = envint("PAVIOR_FOLD_BATCH", 2000)
PAVIOR_FOLDERS = max(1, envint("PAVIOR_FOLDERS", 2 if IS_POSTGRES else 1))

# --- Rate limits (429 + Retry-After; docs/security.md) ------------------------------
# Calls allowed per window of PAVIOR_RATE_LIMIT_WINDOW seconds; 0 turns one off.
PAVIOR_RATE_LIMITS = envbool("PAVIOR_RATE_LIMITS", "true")
PAVIOR_RATE_LIMIT_WINDOW = envint("PAVIOR_RATE_LIMIT_WINDOW", 60)
PAVIOR_RATE_LIMIT_TRACKING_PER_KEY = envint("PAVIOR_RATE_LIMIT_TRACKING_PER_KEY", 30000)
PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS = envint("PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS", 600)
PAVIOR_RATE_LIMIT_API_PER_KEY = envint("PAVIOR_RATE_LIMIT_API_PER_KEY", 6000)
PAVIOR_RATE_LIMIT_SIGN_IN_PER_ADDRESS = envint("PAVIOR_RATE_LIMIT_SIGN_IN_PER_ADDRESS", 30)
PAVIOR_RATE_LIMIT_UNSUBSCRIBE_PER_ADDRESS = envint("PAVIOR_RATE_LIMIT_UNSUBSCRIBE_PER_ADDRESS", 60)

# --- Email service webhooks: bounces and complaints (docs/email-bounces.md) ---------
# The "user:password" the email service's webhook URL carries (HTTP basic auth,
# checked by django-anymail); empty = the webhook endpoints are off (404).
ANYMAIL_WEBHOOK_SECRET = envsecret("PAVIOR_EMAIL_WEBHOOK_SECRET")

# --- Tracking -------------------------------------------------------------------
PAVIOR_GEOIP_DB = env("PAVIOR_GEOIP_DB")
# Comma-separated proxy addresses whose X-Forwarded-For is believed.
PAVIOR_TRUSTED_PROXIES = [p.strip() for p in env("PAVIOR_TRUSTED_PROXIES").split(",") if p.strip()]

# --- Static files, i18n ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = str(_data_dir() / "static")
Path(STATIC_ROOT).mkdir(exist_ok=True)
# Serve static files straight from the packages: `pavior serve` needs no collectstatic.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# One line per record on stderr, each with the request id of the request being
# served ("-" outside one); the same id is the response's X-Request-ID header.
# django.request logs every 500 of a Django view with its traceback (Django
# sends it only to ADMINS by email otherwise, which Pavior does not configure).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "pavior.request_ids.RequestIdFilter"}},
    "formatters": {
        "pavior": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "pavior",
        }
    },
    "loggers": {
        "pavior": {"handlers": ["console"], "level": env("PAVIOR_LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
