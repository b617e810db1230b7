"""Django settings, all derived from the one configuration loader (careops.config)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from careops import config as _config

CONFIG = _config.load()
BASE_DIR = _config.BASE_DIR
DATA_DIR = Path(CONFIG["DATA_DIR"])
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = CONFIG["DEBUG"]
SECRET_KEY = _config.secret_key(CONFIG)
ALLOWED_HOSTS = _config.split(CONFIG["ALLOWED_HOSTS"])
CSRF_TRUSTED_ORIGINS = _config.split(CONFIG["CSRF_TRUSTED_ORIGINS"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "huey.contrib.djhuey",
    "rules.apps.AutodiscoverRulesConfig",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "careops.core",
    "careops.tenancy",
    "careops.catalogue",
    "careops.compliance",
    "careops.exposure",
    "careops.directory",
    "careops.continuity",
    "careops.backups",
    "careops.declarations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "careops.core.locale.ExplicitLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "careops.core.middleware.MfaEnforcementMiddleware",
    "careops.core.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "careops.urls"
WSGI_APPLICATION = "careops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "careops" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "careops.core.context_processors.navigation",
            ],
        },
    },
]

if CONFIG["DATABASE_URL"]:
    _db = dj_database_url.parse(CONFIG["DATABASE_URL"], conn_max_age=60)
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "careops.sqlite3")}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: local accounts only (no self sign-up), TOTP MFA, login throttling.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "careops.core.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {"login_failed": CONFIG["LOGIN_FAILURES_LIMIT"]}
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "careops"
MFA_REQUIRED_ROLES = _config.split(CONFIG["MFA_REQUIRED_ROLES"])

LANGUAGE_CODE = CONFIG["LANGUAGE"]
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "careops" / "locale"]
TIME_ZONE = CONFIG["TIME_ZONE"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "careops" / "static"]
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = True

UPLOAD_MAX_BYTES = CONFIG["UPLOAD_MAX_BYTES"]
UPLOAD_ALLOWED_TYPES = _config.split(CONFIG["UPLOAD_ALLOWED_TYPES"])
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_SECURE = CONFIG["SECURE_COOKIES"]
CSRF_COOKIE_SECURE = CONFIG["SECURE_COOKIES"]
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

_queue = CONFIG["QUEUE_URL"]
if _queue == "immediate":
    HUEY = {"huey_class": "huey.MemoryHuey", "name": CONFIG["QUEUE_NAME"], "immediate": True}
elif _queue.startswith(("redis://", "rediss://", "unix://")):
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": CONFIG["QUEUE_NAME"],
        "url": _queue,
        "immediate": False,
    }
else:
    _queue_file = _queue.removeprefix("sqlite:///") if _queue else str(DATA_DIR / "queue.sqlite3")
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": CONFIG["QUEUE_NAME"],
        "filename": _queue_file,
        "immediate": False,
    }
HUEY["consumer"] = {"workers": 2, "worker_type": "thread"}

if CONFIG["EMAIL_URL"].startswith("console://"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif CONFIG["EMAIL_URL"].startswith("locmem://"):
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
else:
    from urllib.parse import urlparse

    _mail = urlparse(CONFIG["EMAIL_URL"])
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or 25
    EMAIL_HOST_USER = _mail.username or ""
    EMAIL_HOST_PASSWORD = _mail.password or ""
    EMAIL_USE_TLS = _mail.scheme == "smtp+tls"
DEFAULT_FROM_EMAIL = CONFIG["DEFAULT_FROM_EMAIL"]

NINJA_PAGINATION_PER_PAGE = 100

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "careops": {"handlers": ["console"], "level": "INFO"},
        "django.request": {"handlers": ["console"], "level": "WARNING"},
        "huey": {"handlers": ["console"], "level": "INFO"},
    },
}

# Exposure audits: resolvers used for declared names (empty: the system's).
EXPOSURE_NAMESERVERS = _config.split(CONFIG["EXPOSURE_NAMESERVERS"])
# Exposure audits: connect-scan politeness (PortScanOptions) and TLS analysis connections.
EXPOSURE_PORTSCAN = {
    "rate": CONFIG["EXPOSURE_RATE"] or None,
    "concurrency": CONFIG["EXPOSURE_CONCURRENCY"],
    "per_host": CONFIG["EXPOSURE_PER_HOST"],
    "host_rate": CONFIG["EXPOSURE_HOST_RATE"],
}
EXPOSURE_TLS_CONNECTIONS = CONFIG["EXPOSURE_TLS_CONNECTIONS"]

# Directory audits: a queued or running audit whose worker gave no sign of life (claim or progress
# update) for this many minutes is failed by the periodic sweeper.
DIRECTORY_AUDIT_TIMEOUT_MINUTES = CONFIG["DIRECTORY_AUDIT_TIMEOUT_MINUTES"]
