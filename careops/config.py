"""The one configuration loader: defaults, then ``CAREOPS_*`` environment variables, then secrets.

A value may be given as ``file:///path`` (or through ``CAREOPS_<NAME>_FILE``), in which case the
secret is read from that file, so that no secret has to sit in the environment or the code.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import secrets
from pathlib import Path
from typing import Any

PREFIX = "CAREOPS_"
BASE_DIR = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # "production": refuses to start without the settings it needs
    "DEBUG": False,
    "DATA_DIR": str(BASE_DIR / "var"),
    "SECRET_KEY": "",
    "DATABASE_URL": "",  # empty: SQLite in DATA_DIR
    "QUEUE_URL": "",  # empty: SQLite queue in DATA_DIR; redis://… for Redis; "immediate" for tests
    "QUEUE_NAME": "careops",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CSRF_TRUSTED_ORIGINS": "",
    "LANGUAGE": "fr",
    "TIME_ZONE": "Europe/Paris",
    "MFA_REQUIRED_ROLES": "administrator,ans_instructor,ars_instructor",
    "UPLOAD_MAX_BYTES": 25 * 1024 * 1024,
    "UPLOAD_ALLOWED_TYPES": "pdf,docx,xlsx,odt,ods,png,jpg,jpeg,txt,csv,json,zip",
    "EMAIL_URL": "console://",
    "DEFAULT_FROM_EMAIL": "careops@localhost",
    "CACHE_URL": "",  # empty: Redis when QUEUE_URL is Redis, else the database table
    # Login throttling: failures allowed per account before delays start, and the longest delay
    # (seconds) an account can be held; a client address gets 4× the failures and 5× the delay.
    "LOGIN_FREE_FAILURES": 5,
    "LOGIN_MAX_DELAY": 60,
    # Reverse proxies in front of careops that append the client to X-Forwarded-For (0: none,
    # the header is ignored; 1 behind one nginx). Client addresses of throttling and the journal.
    "TRUSTED_PROXY_COUNT": 0,
    # careops serve: addresses of the reverse proxies whose X-Forwarded-* headers are kept (any
    # other peer's are dropped), where it listens, and its sizing (0: computed from the machine).
    "TRUSTED_PROXIES": "127.0.0.1,::1",
    "WEB_BIND": "127.0.0.1:8000",
    "WEB_WORKERS": 0,
    "WEB_THREADS": 0,
    "SECURE_COOKIES": False,
    "ENCRYPTION_KEY": "",
    "EXPOSURE_NAMESERVERS": "",  # comma-separated resolvers for exposure audits; empty: system
    # Politeness of the platform's exposure audits (per audit, all its hosts together).
    "EXPOSURE_RATE": 0.0,  # connection attempts per second; 0: unlimited
    "EXPOSURE_CONCURRENCY": 1000,  # connections in flight
    "EXPOSURE_PER_HOST": 500,  # connections in flight towards one host
    # new probes (SYNs) per second towards one host: ceiling of the SYN scan's slow start (each
    # host starts at 40,000/s and grows only while it answers every probe)
    "EXPOSURE_HOST_RATE": 250000.0,
    "EXPOSURE_TLS_CONNECTIONS": 5,  # TLS analysis connections at once towards one endpoint
    # Directory audits queued or running with no sign of life for this long are failed.
    "DIRECTORY_AUDIT_TIMEOUT_MINUTES": 60,
    # Durable tasks (careops.core.queue): a running task's lease (seconds), renewed by its worker;
    # a task whose worker stopped renewing it is enqueued again for another worker.
    "TASK_LEASE_SECONDS": 60,
    # OpenID Connect federations offered at login, by id (each configured by CAREOPS_OIDC_<ID>_*).
    "OIDC_PROVIDERS": "",
    # Observability (docs/observability.md). Log lines: "json" or "text"; empty: JSON in
    # production, text otherwise.
    "LOG_FORMAT": "",
    "LOG_LEVEL": "INFO",
    # Prometheus /metrics: a folder shared by the processes of one machine (gunicorn workers,
    # careops worker); empty: each process counts alone (careops run, one process).
    "METRICS_DIR": "",
    # Who may read /metrics: client networks, and a bearer token if set (plain, or "sha256:<hex>"
    # of the token). Both apply when both are set.
    "METRICS_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
    "METRICS_TOKEN": "",
    # Name of the backups repository holding careops' own backup (its verification age is a
    # metric of its own), and PEM certificates whose expiry dates are exported.
    "METRICS_PLATFORM_REPOSITORY": "",
    # host:port where "careops worker" serves its own /metrics (machines without a web node).
    "METRICS_WORKER_LISTEN": "",
    "METRICS_CERTIFICATES": "",
    # Evidence store (careops/core/storage.py, docs/platform-storage.md): "local" (DATA_DIR/media)
    # or "s3"; the keys are best given as files (CAREOPS_STORAGE_SECRET_KEY_FILE) or left empty
    # for boto3's own chain (AWS_* variables, instance role).
    "STORAGE": "local",
    "STORAGE_BUCKET": "",
    "STORAGE_ENDPOINT": "",  # https://s3.fr-par.scw.cloud…; empty: AWS
    "STORAGE_REGION": "",
    "STORAGE_ACCESS_KEY": "",
    "STORAGE_SECRET_KEY": "",
    "STORAGE_ADDRESSING": "auto",  # auto | path | virtual
    "STORAGE_SSE": "",  # "" | AES256 (SSE-S3) | aws:kms (SSE-KMS)
    "STORAGE_KMS_KEY_ID": "",
    "STORAGE_PREFIX": "",
}

# Defaults of the OpenID Connect federations careops knows by id; any other id is a generic one.
OIDC_DEFAULTS: dict[str, dict[str, Any]] = {
    "psc": {
        "NAME": "Pro Santé Connect",
        "SCOPE": "openid scope_all",
        "ACR": "eidas1",
        "MFA": True,  # a CPS card or the e-CPS app: two factors (PSC documentation)
    },
    "proconnect": {
        "NAME": "ProConnect",
        "SCOPE": "openid given_name usual_name email uid siret idp_id",
        "ACR": "eidas1",
        "MFA": False,
    },
}


class ConfigError(RuntimeError):
    """Raised when a configuration value cannot be read or parsed."""


def _read_secret(reference: str) -> str:
    path = Path(reference.removeprefix("file://"))
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise ConfigError(f"Impossible de lire le secret {path} : fichier introuvable") from exc
    except PermissionError as exc:
        raise ConfigError(
            f"Impossible de lire le secret {path} : lecture refusée au compte de careops"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "texte UTF-8 attendu"
        raise ConfigError(f"Impossible de lire le secret {path} : {reason}") from exc


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on", "oui"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"Valeur entière attendue, reçu {raw!r}") from exc
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"Valeur numérique attendue, reçu {raw!r}") from exc
    return raw


def load(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the effective configuration: defaults, overridden by the environment and secrets."""
    env = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        file_var = f"{PREFIX}{name}_FILE"
        if file_var in env:
            config[name] = _coerce(_read_secret(env[file_var]), default)
            continue
        if f"{PREFIX}{name}" in env:
            raw = env[f"{PREFIX}{name}"]
            if raw.startswith("file://"):
                raw = _read_secret(raw)
            config[name] = _coerce(raw, default)
    return config


def check_production(config: dict[str, Any], environ: dict[str, str] | None = None) -> None:
    """Refuse a production start that lacks what production needs (one message for all).

    Production (``CAREOPS_ENV=production``) needs its own secret key, the names it serves, a
    PostgreSQL database and a Redis queue: the development fallbacks (generated key, SQLite,
    localhost) are never silently used there.
    """
    if str(config["ENV"]).lower() != "production":
        return
    env = os.environ if environ is None else environ

    def given(name: str) -> bool:
        return f"{PREFIX}{name}" in env or f"{PREFIX}{name}_FILE" in env

    problems = []
    if not config["SECRET_KEY"]:
        problems.append("CAREOPS_SECRET_KEY (ou CAREOPS_SECRET_KEY_FILE) est obligatoire")
    elif len(config["SECRET_KEY"]) < 50 or len(set(config["SECRET_KEY"])) < 5:
        problems.append("CAREOPS_SECRET_KEY doit compter au moins 50 caractères variés")
    if not given("ALLOWED_HOSTS") or not split(config["ALLOWED_HOSTS"]):
        problems.append("CAREOPS_ALLOWED_HOSTS (noms servis) est obligatoire")
    if not str(config["DATABASE_URL"]).startswith(("postgres://", "postgresql://")):
        problems.append("CAREOPS_DATABASE_URL doit désigner une base PostgreSQL (postgres://…)")
    if not str(config["QUEUE_URL"]).startswith(("redis://", "rediss://", "unix://")):
        problems.append("CAREOPS_QUEUE_URL doit désigner un Redis (redis://…)")
    if not split(config["ENCRYPTION_KEY"] or ""):
        problems.append(
            "une clé de chiffrement dédiée est obligatoire (CAREOPS_ENCRYPTION_KEY_FILE, générée "
            "par « careops secrets generate-key »)"
        )
    if config["DEBUG"]:
        problems.append("CAREOPS_DEBUG doit rester désactivé")
    if problems:
        raise ConfigError(
            "Mode production (CAREOPS_ENV=production) : " + " ; ".join(problems) + "."
        )


def cache_url(config: dict[str, Any]) -> str:
    """The cache shared by every process: the configured one, else Redis or the database."""
    if config["CACHE_URL"]:
        return config["CACHE_URL"]
    if str(config["QUEUE_URL"]).startswith(("redis://", "rediss://", "unix://")):
        return config["QUEUE_URL"]
    return "db://"


def check_encryption_key(config: dict[str, Any]) -> None:
    """Every configured encryption key is a Fernet key (production requires one: see
    ``check_production``)."""
    keys = split(config["ENCRYPTION_KEY"] or "")
    for number, key in enumerate(keys, 1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(
                f"CAREOPS_ENCRYPTION_KEY : la clé n° {number} n'est pas une clé Fernet "
                "(32 octets en base64 url, « careops secrets generate-key »)."
            )


def private_folder(path: Path) -> Path:
    """Create (or tighten) a folder readable by the service account only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create (or tighten) a file readable by the service account only (0600)."""
    if not path.parent.is_dir():
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o600)
    return path


def secret_key(config: dict[str, Any]) -> str:
    """Return the configured secret key, or one generated once and kept in the data folder."""
    if config["SECRET_KEY"]:
        return config["SECRET_KEY"]
    data_dir = Path(config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(64))
    return key_file.read_text(encoding="utf-8").strip()


def oidc_providers(environ: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The OpenID Connect federations named by ``CAREOPS_OIDC_PROVIDERS`` (``psc,proconnect``),
    each read from ``CAREOPS_OIDC_<ID>_ISSUER``, ``_CLIENT_ID``, ``_SECRET`` (or ``_SECRET_FILE``),
    and optionally ``_NAME``, ``_SCOPE``, ``_ACR`` (required level, sent as acr_values),
    ``_ACCEPTED_ACR`` (levels accepted in the ID token; default: the required one), ``_MFA``
    (whether that level stands for the second factor) and ``_UID_CLAIM`` (default ``sub``)."""
    env = os.environ if environ is None else environ
    providers = []
    for ident in split(load(env)["OIDC_PROVIDERS"]):
        ident = ident.lower()
        prefix = f"{PREFIX}OIDC_{ident.upper()}_"
        defaults = OIDC_DEFAULTS.get(
            ident, {"NAME": ident, "SCOPE": "openid", "ACR": "", "MFA": False}
        )

        def value(name: str, default: Any = "", *, prefix=prefix) -> Any:
            if f"{prefix}{name}_FILE" in env:
                return _read_secret(env[f"{prefix}{name}_FILE"])
            raw = env.get(f"{prefix}{name}")
            if raw is None:
                return default
            if raw.startswith("file://"):
                return _read_secret(raw)
            return _coerce(raw, default) if isinstance(default, bool) else raw

        issuer, client_id, secret = value("ISSUER"), value("CLIENT_ID"), value("SECRET")
        missing = [
            name
            for name, given in (("ISSUER", issuer), ("CLIENT_ID", client_id), ("SECRET", secret))
            if not given
        ]
        if missing:
            raise ConfigError(
                f"Fédération OpenID Connect « {ident} » : "
                + ", ".join(f"{prefix}{name}" for name in missing)
                + " manquant(s)"
            )
        required = value("ACR", defaults["ACR"])
        providers.append(
            {
                "id": ident,
                "name": value("NAME", defaults["NAME"]),
                "issuer": issuer.rstrip("/"),
                "client_id": client_id,
                "secret": secret,
                "scope": value("SCOPE", defaults["SCOPE"]).split(),
                "acr": required,
                "accepted_acr": split(value("ACCEPTED_ACR", required)),
                "mfa": value("MFA", defaults["MFA"]),
                "uid_claim": value("UID_CLAIM", "sub"),
            }
        )
    return providers


def metrics_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The /metrics settings: allowed client networks, the token's SHA-256 (never the token), the
    shared multi-process folder (created 0700 and announced to prometheus_client through
    ``PROMETHEUS_MULTIPROC_DIR``, which must be set before prometheus_client is imported)."""
    try:
        networks = [
            ipaddress.ip_network(net, strict=False)
            for net in split(config["METRICS_ALLOWED_NETWORKS"])
        ]
    except ValueError as exc:
        raise ConfigError(f"CAREOPS_METRICS_ALLOWED_NETWORKS : réseau invalide ({exc})") from exc
    token = str(config["METRICS_TOKEN"] or "").strip()
    if not token:
        digest = None
    elif re.fullmatch(r"sha256:[0-9a-fA-F]{64}", token):
        digest = bytes.fromhex(token.removeprefix("sha256:"))
    elif len(token) < 24:
        raise ConfigError("CAREOPS_METRICS_TOKEN doit compter au moins 24 caractères")
    else:
        digest = hashlib.sha256(token.encode()).digest()
    folder = str(config["METRICS_DIR"] or "")
    if folder:
        private_folder(Path(folder))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return {
        "networks": networks,
        "token_sha256": digest,
        "dir": folder or os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""),
        "platform_repository": str(config["METRICS_PLATFORM_REPOSITORY"] or ""),
        "certificates": split(str(config["METRICS_CERTIFICATES"] or "")),
        "worker_listen": str(config["METRICS_WORKER_LISTEN"] or ""),
        "state_ttl": 15.0,  # seconds the database/queue figures are reused between scrapes
    }


def log_format(config: dict[str, Any]) -> str:
    """``json`` or ``text``: the configured one, else JSON in production and text elsewhere."""
    chosen = str(config["LOG_FORMAT"] or "").strip().lower()
    if not chosen:
        return "json" if str(config["ENV"]).lower() == "production" else "text"
    if chosen not in {"json", "text"}:
        raise ConfigError(f"CAREOPS_LOG_FORMAT : « json » ou « text » attendu, reçu {chosen!r}")
    return chosen


def split(value: str) -> list[str]:
    """Split a comma-separated configuration value into its non-empty parts."""
    return [part.strip() for part in value.split(",") if part.strip()]
