"""Secrets at rest (directory credentials, backup repository passwords): encrypted, never clear.

The key comes from ``CAREOPS_ENCRYPTION_KEY`` (a Fernet key, ideally from a file through
``CAREOPS_ENCRYPTION_KEY_FILE``); without it, a key is derived from the Django secret key, so that
a default install still never stores a secret in clear.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(ValueError):
    """A stored secret that cannot be decrypted (the key changed or the value was altered)."""


def _fernet() -> Fernet:
    key = settings.CONFIG.get("ENCRYPTION_KEY") or ""
    if not key:
        digest = hashlib.sha256(("careops-secrets:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(value: str) -> str:
    """Encrypt a secret for storage (authenticated encryption, Fernet)."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a stored secret, or raise SecretUnreadable with a French message."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(
            "Secret illisible : la clé de chiffrement a changé ou la valeur a été altérée."
        ) from exc
