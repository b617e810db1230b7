"""Django settings, all derived from the one configuration loader (careops.config)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from careops import config as _config
from careops.core import logs as _logs
from careops.core import storage as _storage

CONFIG = _config.load()
_config.check_production(CONFIG)
PRODUCTION = str(CONFIG["ENV"]).lower() == "production"
BASE_DIR = _config.BASE_DIR
_config.check_encryption_key(CONFIG)
DATA_DIR = _config.private_folder(Path(CONFIG["DATA_DIR"]))

DEBUG = CONFIG["DEBUG"]
SECRET_KEY = _config.secret_key(CONFIG)
ALLOWED_HOSTS = _config.split(CONFIG["ALLOWED_HOSTS"])
CSRF_TRUSTED_ORIGINS = _config.split(CONFIG["CSRF_TRUSTED_ORIGINS"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves Swagger UI from its own static files (no CDN)
    "huey.contrib.djhuey",
    "rules.apps.AutodiscoverRulesConfig",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "careops.identity",
    "careops.core",
    "careops.tenancy",
    "careops.catalogue",
    "careops.compliance",
    "careops.exposure",
    "careops.directory",
    "careops.continuity",
    "careops.backups",
    "careops.remote_access",
    "careops.declarations",
    "careops.hospiconnect",
    "careops.maturity",
    "careops.awareness",
    "careops.exercises",
]

MIDDLEWARE = [
    "careops.core.logs.RequestIdMiddleware",
    "careops.core.health.HealthMiddleware",  # /healthz, /readyz: before host checks and redirects
    "careops.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "careops.core.locale.ExplicitLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "careops.core.middleware.SecurityHeadersMiddleware",
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
    if _db["NAME"] != ":memory:" and not str(_db["NAME"]).startswith("file:"):
        _config.private_file(Path(_db["NAME"]))  # WAL and journal files inherit its mode
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
ACCOUNT_FORMS = {"add_email": "careops.core.account_forms.AddEmailForm"}
# Password attempts are throttled by careops.core.throttle (per account and per client address,
# delays rather than a lock-out); allauth's own limits still guard the TOTP step.
ALLAUTH_TRUSTED_PROXY_COUNT = CONFIG["TRUSTED_PROXY_COUNT"]
LOGIN_THROTTLE = {
    "account_free": CONFIG["LOGIN_FREE_FAILURES"],
    "account_max_delay": CONFIG["LOGIN_MAX_DELAY"],
    "ip_free": 4 * CONFIG["LOGIN_FREE_FAILURES"],
    "ip_max_delay": 5 * CONFIG["LOGIN_MAX_DELAY"],
    "window": 3600,
}
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_ADAPTER = "careops.core.adapters.MFAAdapter"  # second-factor secrets encrypted at rest

# Federated sign-in (Pro Santé Connect, ProConnect): see careops/identity and docs/identity.md.
# A federated identity never signs up nor links itself to an account by its e-mail: it is linked
# by its owner once signed in, or by an administrator (careops identity link).
SOCIALACCOUNT_ADAPTER = "careops.identity.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "careops_oidc": {
        "APPS": [
            {
                "provider_id": provider["id"],
                "name": provider["name"],
                "client_id": provider["client_id"],
                "secret": provider["secret"],
                "settings": {
                    "server_url": provider["issuer"],
                    "scope": provider["scope"],
                    "auth_params": {"acr_values": provider["acr"]} if provider["acr"] else {},
                    "accepted_acr": provider["accepted_acr"],
                    "counts_as_mfa": provider["mfa"],
                    "uid_field": provider["uid_claim"],
                },
            }
            for provider in _config.oidc_providers()
        ]
    }
}
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
# The evidence store: content-addressed, verified reads, local folder or S3 (CAREOPS_STORAGE).
STORAGES = _storage.storages_setting(CONFIG)
FILE_UPLOAD_PERMISSIONS = 0o600  # evidence and imports: service account only
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
WHITENOISE_USE_FINDERS = True

UPLOAD_MAX_BYTES = CONFIG["UPLOAD_MAX_BYTES"]
UPLOAD_ALLOWED_TYPES = _config.split(CONFIG["UPLOAD_ALLOWED_TYPES"])
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_SECURE = CONFIG["SECURE_COOKIES"] or PRODUCTION
CSRF_COOKIE_SECURE = CONFIG["SECURE_COOKIES"] or PRODUCTION
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "careops.core.views.csrf_failure"
# Content-Security-Policy of every page: no inline script, nothing from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
if PRODUCTION:
    # careops runs behind a TLS reverse proxy that sets X-Forwarded-Proto (and drops the
    # client's own): plain HTTP is redirected, browsers are told to use HTTPS for a year.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^metrics$"]  # scraped in plain HTTP on the node (access-checked)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a decision for the owner of the whole domain, not for one application.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# The cache every process shares (login throttling, allauth's rate limits).
_cache = _config.cache_url(CONFIG)
if _cache.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache}
    }
elif _cache.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "careops_cache",
        }
    }

_queue = CONFIG["QUEUE_URL"]
if _queue == "immediate":
    HUEY = {"huey_class": "huey.MemoryHuey", "name": CONFIG["QUEUE_NAME"], "immediate": True}
elif _queue.startswith(("redis://", "rediss://", "unix://")):
    HUEY = {
        "huey_class": "careops.core.queue.DurableRedisHuey",
        "name": CONFIG["QUEUE_NAME"],
        "url": _queue,
        "immediate": False,
    }
else:
    _queue_file = _queue.removeprefix("sqlite:///") if _queue else str(DATA_DIR / "queue.sqlite3")
    _config.private_file(Path(_queue_file))
    HUEY = {
        "huey_class": "careops.core.queue.DurableSqliteHuey",
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
NINJA_PAGINATION_CLASS = "careops.core.pagination.BoundedPagination"

# Log lines (one JSON object per line in production) and Prometheus metrics at /metrics: see
# careops/core/logs.py, careops/core/metrics.py and docs/observability.md.
LOGGING = _logs.logging_config(_config.log_format(CONFIG), str(CONFIG["LOG_LEVEL"]).upper())
METRICS = _config.metrics_settings(CONFIG)
CONFIG["METRICS_TOKEN"] = "sha256:…" if METRICS["token_sha256"] else ""  # no token kept in clear

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
TASK_LEASE_SECONDS = CONFIG["TASK_LEASE_SECONDS"]
