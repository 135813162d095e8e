"""Settings for kefu. One settings module for web and worker; everything site-specific comes from
environment variables (documented in docs/operator-guide.md), so the same code runs on a laptop
(SQLite, DEBUG) and in production (PostgreSQL, KEFU_PRODUCTION=1).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEFU_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


PRODUCTION = _env_bool("KEFU_PRODUCTION")
DEBUG = _env_bool("KEFU_DEBUG", default=not PRODUCTION)


def _secret_key() -> str:
    """Production must set KEFU_SECRET_KEY; a development machine keeps a random one in var/."""
    if key := os.environ.get("KEFU_SECRET_KEY"):
        return key
    if PRODUCTION:
        raise RuntimeError("KEFU_SECRET_KEY must be set when KEFU_PRODUCTION=1")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h for h in os.environ.get("KEFU_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h
]
#: Reverse proxies in front of the web process: the client's address is the N-th entry from the right of
#: X-Forwarded-For (kefu.accounts.context.client_ip); 0 = not behind a proxy, the header is ignored.
KEFU_TRUSTED_PROXY_COUNT = int(os.environ.get("KEFU_TRUSTED_PROXY_COUNT", "0"))
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KEFU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # its Swagger UI / ReDoc files are served from the package, no CDN (intranets)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "huey.contrib.djhuey",
    "kefu.core",
    "kefu.accounts",
    "kefu.exports",
    "kefu.customers",
    "kefu.tickets",
    "kefu.field",
    "kefu.sla",
    "kefu.notify",
    "kefu.kpi",
    "kefu.telephony",
    "kefu.followups",
    "kefu.outages",
    "kefu.workforce",
    "kefu.quality",
    "kefu.counter",
    "kefu.portal",
    "kefu.inspections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kefu.core.routers.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kefu.accounts.middleware.RequestContextMiddleware",
    "kefu.accounts.refusals.RefusalAuditMiddleware",
    "kefu.accounts.middleware.SecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.core.middleware.ContentSecurityPolicyMiddleware",
    "kefu.core.middleware.BadInputMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kefu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.accounts.context_processors.kefu_shell",
                "kefu.notify.context_processors.notifications",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# KEFU_DATABASE_URL=postgres://user@host:5432/kefu for production; SQLite (WAL) otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("KEFU_DATABASE_URL", f"sqlite:///{VAR_DIR / 'kefu.sqlite3'}"),
        conn_max_age=int(os.environ.get("KEFU_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections persist on SQLite too (CONN_MAX_AGE above): a new connection re-reads the whole
    # schema and runs the PRAGMAs, which doubled the cost of a work-order create.
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue instead of failing with "database is locked" half-way.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KEFU_SQLITE_TEST_NAME") or None}
else:
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("KEFU_PG_TEST_NAME") or None

# Read replica (docs/operator-guide.md "Growing past one server"): with KEFU_REPLICA_DATABASE_URL
# set, safe-method requests' reads go to it and everything else to the primary (kefu.core.routers).
if os.environ.get("KEFU_REPLICA_DATABASE_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["KEFU_REPLICA_DATABASE_URL"],
        conn_max_age=int(os.environ.get("KEFU_DB_CONN_MAX_AGE", "60")),
    )
    # Tests read what they just wrote: the replica is the primary's test database there.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["kefu.core.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Authentication and the 等保 level-3 policy (S1) -----------------------------------------
# Every number of the policy is here, in one place; docs/security.md explains each.
KEFU_SECURITY = {
    "PASSWORD_MIN_LENGTH": int(os.environ.get("KEFU_PASSWORD_MIN_LENGTH", "10")),
    "PASSWORD_MIN_CLASSES": 3,
    "PASSWORD_HISTORY": 5,
    "PASSWORD_MAX_AGE_DAYS": int(os.environ.get("KEFU_PASSWORD_MAX_AGE_DAYS", "90")),
    "LOCKOUT_THRESHOLD": 5,
    "LOCKOUT_MINUTES": 30,
    "SESSION_IDLE_MINUTES": int(os.environ.get("KEFU_SESSION_IDLE_MINUTES", "30")),
    "MFA_ROLES": ("admin", "auditor", "supervisor"),
    "MFA_ENFORCED": _env_bool("KEFU_MFA_ENFORCED", True),
    "AUDIT_RETENTION_DAYS": int(os.environ.get("KEFU_AUDIT_RETENTION_DAYS", "180")),
    # Refused access (403, 404 of another company's object) is audited at most once per actor and
    # kind in this many seconds; the next row counts the refusals in between (accounts/refusals.py).
    "REFUSAL_AUDIT_WINDOW_SECONDS": 60,
}

AUTHENTICATION_BACKENDS = ["kefu.accounts.backends.PolicyBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "employee_no", "email", "mobile")},
    },
    {
        "NAME": "kefu.accounts.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": KEFU_SECURITY["PASSWORD_MIN_LENGTH"]},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "kefu.accounts.passwords.CharacterClassValidator"},
    {"NAME": "kefu.accounts.passwords.PasswordHistoryValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = KEFU_SECURITY["SESSION_IDLE_MINUTES"] * 60
SESSION_SAVE_EVERY_REQUEST = True  # the 30 minutes are idle time: every request starts them again
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("KEFU_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("KEFU_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "kefu" / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("KEFU_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "kefu" / "static"]
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(os.environ.get("KEFU_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Background work ----------------------------------------------------------------------
# Huey: SQLite storage by default (no extra server), Redis when KEFU_REDIS_URL is set (several
# workers on several hosts). Jobs are only triggers; state lives in database rows (ARCHITECTURE).
KEFU_REDIS_URL = os.environ.get("KEFU_REDIS_URL", "")
HUEY = {
    "name": os.environ.get("KEFU_HUEY_NAME", "kefu"),
    "immediate": _env_bool("KEFU_HUEY_IMMEDIATE", False),
    "results": False,
    "utc": True,
    "consumer": {"workers": int(os.environ.get("KEFU_WORKER_THREADS", "2")), "worker_type": "thread"},
}
if KEFU_REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": KEFU_REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})
# Periodic jobs and health (kefu.core.leases, kefu.core.health; docs/operator-guide.md "After a crash").
KEFU_SLA_SWEEP_BATCH = int(os.environ.get("KEFU_SLA_SWEEP_BATCH", "500"))
# Outage notices (docs/outages.md): the SMS gateway adapter ("console" logs and delivers at once;
# "yunpian" is the 云片 HTTP API) and its key.
KEFU_SMS_GATEWAY = os.environ.get("KEFU_SMS_GATEWAY", "console")
KEFU_SMS_API_KEY = os.environ.get("KEFU_SMS_API_KEY", "")
# The counter's billing adapter (docs/counter.md): "none", "record", or a dotted path to an adapter class.
KEFU_COUNTER_BILLING = os.environ.get("KEFU_COUNTER_BILLING", "none")
# The customer portal's WeChat official account (docs/portal.md): server-URL token, app id and secret,
# the work-order progress template id, and the portal's address for the template's link.
KEFU_WECHAT = {
    "TOKEN": os.environ.get("KEFU_WECHAT_TOKEN", ""),
    "APP_ID": os.environ.get("KEFU_WECHAT_APP_ID", ""),
    "APP_SECRET": os.environ.get("KEFU_WECHAT_APP_SECRET", ""),
    "TEMPLATE_PROGRESS": os.environ.get("KEFU_WECHAT_TEMPLATE_PROGRESS", ""),
    "PORTAL_URL": os.environ.get("KEFU_PORTAL_URL", ""),
}
#: Portal requests per client address per minute (kefu.portal.rules; a benchmark on loopback raises it).
KEFU_PORTAL_REQUESTS_PER_MINUTE = int(os.environ.get("KEFU_PORTAL_REQUESTS_PER_MINUTE", "120"))
# The address customers reach kefu at (e.g. https://kefu.example-gas.cn), for links in SMS; empty: none.
KEFU_PUBLIC_URL = os.environ.get("KEFU_PUBLIC_URL", "")
# The roster solver's time budget (W1): the best roster found within it is proposed.
KEFU_ROSTER_SOLVER_SECONDS = float(os.environ.get("KEFU_ROSTER_SOLVER_SECONDS", "50"))
KEFU_HEALTH_SWEEP_MAX_AGE = int(os.environ.get("KEFU_HEALTH_SWEEP_MAX_AGE", "300"))  # seconds
# Imports (docs/security.md "Hostile files"): the reader runs in a child process with these limits.
KEFU_IMPORT = {
    "MEMORY_MB": int(os.environ.get("KEFU_IMPORT_MEMORY_MB", "1024")),  # address space on top of the worker's
    "CPU_SECONDS": int(os.environ.get("KEFU_IMPORT_CPU_SECONDS", "1800")),
    "MAX_LINE_CHARS": int(os.environ.get("KEFU_IMPORT_MAX_LINE_CHARS", "65536")),
    "MAX_COLUMNS": int(os.environ.get("KEFU_IMPORT_MAX_COLUMNS", "256")),
    "MAX_CELLS": int(os.environ.get("KEFU_IMPORT_MAX_CELLS", "64000000")),  # declared rows x columns
    "MAX_UNZIPPED_MB": int(os.environ.get("KEFU_IMPORT_MAX_UNZIPPED_MB", "4096")),
    "MAX_ZIP_RATIO": int(os.environ.get("KEFU_IMPORT_MAX_ZIP_RATIO", "200")),  # for entries over 16 MB
    "STALE_SECONDS": int(os.environ.get("KEFU_IMPORT_STALE_SECONDS", "600")),  # heartbeat age of a dead run
    "FILE_RETENTION_HOURS": int(os.environ.get("KEFU_IMPORT_FILE_RETENTION_HOURS", "24")),
}
KEFU_TOKEN_PREFIX = "kefu_"
KEFU_DEMO_PASSWORD = os.environ.get("KEFU_DEMO_PASSWORD", "Kefu@Demo2026")
#: Where call recordings whose reference is not a full URL are served from (kefu.telephony).
KEFU_RECORDINGS_URL = os.environ.get("KEFU_RECORDINGS_URL", "/recordings/")
SILENCED_SYSTEM_CHECKS: list[str] = []
TEST_RUNNER = "django.test.runner.DiscoverRunner"

# Click-to-call (kefu/telephony/adapters/cti.py): ami://user:secret@host:5038/context, fake://, or unset
KEFU_CTI_URL = os.environ.get("KEFU_CTI_URL", "")
