"""The one configuration loader: defaults, then ``CAREOPS_*`` environment variables, then secrets.

A value may be given as ``file:///path`` (or through ``CAREOPS_<NAME>_FILE``), in which case the
secret is read from that file, so that no secret has to sit in the environment or the code.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PREFIX = "CAREOPS_"
BASE_DIR = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
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
    "LOGIN_FAILURES_LIMIT": "5/5m/key",
    "SECURE_COOKIES": False,
    "ENCRYPTION_KEY": "",
    "EXPOSURE_NAMESERVERS": "",  # comma-separated resolvers for exposure audits; empty: system
    # Politeness of the platform's exposure audits (per audit, all its hosts together).
    "EXPOSURE_RATE": 0.0,  # connection attempts per second; 0: unlimited
    "EXPOSURE_CONCURRENCY": 1000,  # connections in flight
    "EXPOSURE_PER_HOST": 500,  # connections in flight towards one host
    "EXPOSURE_HOST_RATE": 40000.0,  # new probes (SYNs) per second towards one host, ceiling
    "EXPOSURE_TLS_CONNECTIONS": 5,  # TLS analysis connections at once towards one endpoint
    # Directory audits queued or running with no sign of life for this long are failed.
    "DIRECTORY_AUDIT_TIMEOUT_MINUTES": 60,
}


class ConfigError(RuntimeError):
    """Raised when a configuration value cannot be read or parsed."""


def _read_secret(reference: str) -> str:
    path = Path(reference.removeprefix("file://"))
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"Impossible de lire le secret {path} : {exc.strerror}") from exc


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


def secret_key(config: dict[str, Any]) -> str:
    """Return the configured secret key, or one generated once and kept in the data folder."""
    if config["SECRET_KEY"]:
        return config["SECRET_KEY"]
    data_dir = Path(config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


def split(value: str) -> list[str]:
    """Split a comma-separated configuration value into its non-empty parts."""
    return [part.strip() for part in value.split(",") if part.strip()]
