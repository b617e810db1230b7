"""Errors of the backup tools, classified, each with a clear French message."""

from __future__ import annotations

WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an error kind, not a secret
MISSING = "missing_repository"
LOCKED = "locked"
TOOL_MISSING = "tool_missing"
FAILED = "failed"
CONFIG = "config"

MESSAGES = {
    WRONG_PASSWORD: "mot de passe du dépôt refusé",
    MISSING: "dépôt introuvable à cet emplacement",
    LOCKED: "dépôt verrouillé par un autre processus",
    TOOL_MISSING: "outil de sauvegarde absent de cette machine",
    FAILED: "la commande a échoué",
}


class BackupToolError(Exception):
    """A backup command that failed; ``kind`` is one of the constants above."""

    def __init__(self, kind: str, message: str, detail: str = "", exit_code: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.detail = detail
        self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(ValueError):
    """A configuration that cannot be used (the message is in French and says where)."""
