"""The verification configuration (YAML), validated whole; errors in French with their place.

Format documented in docs/backups.md. Secrets are never in the file itself: ``password_file``,
``password_env`` and ``*_file`` / ``*_env`` name where to read them. Those names are for the
operator's own configuration files (``careops backups verify``); configurations built for a web
user are parsed with ``server_secrets=False``, which refuses them: a user never names an
environment variable or a file of the server.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from careops.backups.engine.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataCheck(_Strict):
    """Integrity of the data: restic rotating subsets ``n/cycle``; borg ``--verify-data``."""

    cycle: int = Field(default=1, ge=1, le=10000)
    max_duration: int | None = Field(default=None, ge=1)


class ObjectLockCheck(_Strict):
    bucket: str
    endpoint: str | None = None
    region: str = "us-east-1"
    access_key_file: str | None = None
    access_key_env: str | None = None
    secret_key_file: str | None = None
    secret_key_env: str | None = None
    min_retention_days: int = Field(default=1, ge=0)
    probe_delete: bool = True


class RestoreCheck(_Strict):
    system: str
    snapshot: str = "latest"
    target: str | None = None
    source_path: str | None = None
    include: list[str] = Field(default_factory=list)
    manifest: str | None = None
    keep: bool = False


class Checks(_Strict):
    structure: bool = True
    data: DataCheck | None = None
    append_only: bool = False
    object_lock: ObjectLockCheck | None = None
    restore: RestoreCheck | None = None


class RepositoryConfig(_Strict):
    name: str = Field(min_length=1)
    driver: Literal["restic", "borg"]
    location: str = Field(min_length=1)
    password_file: str | None = None
    password_env: str | None = None
    cache_dir: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    env_files: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=6 * 3600, gt=0)
    checks: Checks = Field(default_factory=Checks)


class Match(_Strict):
    host: str = ""
    tags: list[str] = Field(default_factory=list)
    path: str = ""
    archive_glob: str = ""


class SystemConfig(_Strict):
    name: str = Field(min_length=1)
    rpo_hours: float = Field(gt=0)
    rto_hours: float | None = Field(default=None, gt=0)
    repository: str | None = None
    job_report: bool = False
    job_name: str | None = None
    match: Match = Field(default_factory=Match)

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.repository) == bool(self.job_report):
            raise ValueError("indiquer soit repository, soit job_report: true")
        return self


class JobReportConfig(_Strict):
    path: str
    format: Literal["auto", "json", "csv"] = "auto"


class VerifyConfig(_Strict):
    version: Literal[1] = 1
    state_file: str | None = None
    work_dir: str | None = None
    repositories: list[RepositoryConfig] = Field(default_factory=list)
    systems: list[SystemConfig] = Field(default_factory=list)
    job_reports: list[JobReportConfig] = Field(default_factory=list)
    base_dir: str = Field(default=".", exclude=True)

    def path(self, value: str | None) -> str | None:
        """A path of the file, relative to the configuration file's folder."""
        if value is None:
            return None
        return str(Path(self.base_dir, os.path.expanduser(value)))

    def location(self, repo: RepositoryConfig) -> str:
        """A repository's location, a relative local path resolved from the file's folder."""
        if is_local_location(repo.driver, repo.location):
            path = repo.location.removeprefix("local:").removeprefix("file://")
            return str(Path(self.base_dir, os.path.expanduser(path)).resolve())
        return repo.location

    def repository(self, name: str) -> RepositoryConfig:
        return next(r for r in self.repositories if r.name == name)

    def system(self, name: str) -> SystemConfig:
        return next(s for s in self.systems if s.name == name)


_RESTIC_REMOTE = ("rest:", "s3:", "sftp:", "swift:", "b2:", "azure:", "gs:", "rclone:")
_SCP_STYLE = re.compile(r"^(?:[^@/:]+@)?(\[[^\]]+\]|[^/:\[\]]+):")


def is_local_location(driver: str, location: str) -> bool:
    """Whether a restic/borg location is a path on this machine (not a remote backend)."""
    if driver == "restic":
        return not location.startswith(_RESTIC_REMOTE)
    if location.startswith("file://"):
        return True
    return not (location.startswith("ssh://") or _SCP_STYLE.match(location))


def destinations(driver: str, location: str) -> list[tuple[str, int]]:
    """The network destinations (host, port) a repository location makes the tool connect to.

    Raises ConfigError for a backend careops cannot vouch for (rclone runs a server-side
    configuration).
    """
    if is_local_location(driver, location):
        return []
    if driver == "restic":
        scheme, _, rest = location.partition(":")
        if scheme == "rclone":
            raise ConfigError(f"{location} : le moteur rclone n'est pas accepté par careops")
        if scheme in ("b2", "azure", "gs", "swift"):
            return []  # fixed cloud providers, reached by name through their own APIs
        if rest.startswith(("http://", "https://")):
            parts = urlsplit(rest)
            default = 443 if parts.scheme == "https" else 80
            return [(parts.hostname or "", parts.port or default)]
        if scheme == "s3":
            host = rest.split("/", 1)[0]
            name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
            return [(name or host, int(port) if port.isdigit() else 443)]
        if scheme == "sftp":
            if rest.startswith("//"):
                parts = urlsplit("sftp:" + rest)
                return [(parts.hostname or "", parts.port or 22)]
            match = _SCP_STYLE.match(rest)
            return [(match.group(1).strip("[]"), 22)] if match else []
        return []
    if location.startswith("ssh://"):
        parts = urlsplit(location)
        return [(parts.hostname or "", parts.port or 22)]
    match = _SCP_STYLE.match(location)
    return [(match.group(1).strip("[]"), 22)] if match else []


_SERVER_SECRETS = ("password_file", "password_env", "env", "env_files")
_S3_SERVER_SECRETS = ("access_key_file", "access_key_env", "secret_key_file", "secret_key_env")


def _server_secret_fields(config: VerifyConfig) -> list[str]:
    problems = []
    for repo in config.repositories:
        named = [f for f in _SERVER_SECRETS if getattr(repo, f)]
        lock = repo.checks.object_lock
        if lock:
            named += [f"checks.object_lock.{f}" for f in _S3_SERVER_SECRETS if getattr(lock, f)]
        problems += [
            f"repositories.{repo.name}.{f} : non accepté ici (les secrets se saisissent dans "
            "careops, chiffrés par dépôt)"
            for f in named
        ]
        if repo.location.startswith("rclone:"):
            problems.append(f"repositories.{repo.name}.location : moteur rclone non accepté")
    return problems


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(racine)"


_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ inconnu",
    "literal_error": "valeur non permise",
    "greater_than": "doit être strictement positif",
    "greater_than_equal": "valeur trop petite",
    "string_too_short": "ne doit pas être vide",
}


def _cross_check(config: VerifyConfig, require_passwords: bool) -> list[str]:
    problems = []
    for repo in config.repositories:
        if require_passwords and bool(repo.password_file) == bool(repo.password_env):
            problems.append(
                f"repositories.{repo.name} : indiquer exactement un de password_file ou password_env"
            )
    repos = [r.name for r in config.repositories]
    systems = [s.name for s in config.systems]
    for label, names in (("dépôt", repos), ("système", systems)):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        problems += [f"{label} « {n} » déclaré plusieurs fois" for n in duplicates]
    for system in config.systems:
        if system.repository and system.repository not in repos:
            problems.append(
                f"systems.{system.name}.repository : le dépôt « {system.repository} » n'est pas déclaré"
            )
    for repo in config.repositories:
        restore = repo.checks.restore
        if restore and restore.system not in systems:
            problems.append(
                f"repositories.{repo.name}.checks.restore.system : le système « {restore.system} » "
                "n'est pas déclaré"
            )
        if repo.checks.append_only and repo.driver != "borg":
            problems.append(
                f"repositories.{repo.name}.checks.append_only : réservé aux dépôts borg"
            )
    if any(s.job_report for s in config.systems) and not config.job_reports:
        problems.append(
            "job_reports : un système lit les rapports de tâches mais aucun n'est donné"
        )
    return problems


def parse_config(
    data: object, base_dir: str = ".", require_passwords: bool = True, server_secrets: bool = True
) -> VerifyConfig:
    """Validate a configuration already read from YAML/JSON.

    ``server_secrets=False`` (configurations built for a web user) refuses every field that
    names a file or an environment variable of the server.
    """
    if not isinstance(data, dict):
        raise ConfigError("configuration : un dictionnaire YAML est attendu")
    try:
        config = VerifyConfig.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
            lines.append(f"{_where(error['loc'])} : {message}")
        raise ConfigError("configuration invalide :\n  " + "\n  ".join(lines)) from exc
    problems = _cross_check(config, require_passwords)
    if not server_secrets:
        problems += _server_secret_fields(config)
    if problems:
        raise ConfigError("configuration invalide :\n  " + "\n  ".join(problems))
    return config


def _why(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "fichier introuvable"
    if isinstance(exc, PermissionError):
        return "accès refusé"
    return exc.strerror or str(exc)


def load_config(path: str) -> VerifyConfig:
    """Read and validate a YAML configuration file."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"{path} : lecture impossible ({_why(exc)})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where} : YAML invalide") from exc
    return parse_config(data, base_dir=str(Path(path).resolve().parent))


def read_secret(config: VerifyConfig, file: str | None, env: str | None, what: str) -> str:
    """A secret from a file (first line, without its newline) or an environment variable."""
    if file:
        try:
            with open(config.path(file), encoding="utf-8") as handle:
                return handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{what} : fichier de secret illisible ({_why(exc)})") from exc
    if env:
        if env not in os.environ:
            raise ConfigError(f"{what} : variable d'environnement {env} absente")
        return os.environ[env]
    return ""
