"""Secrets at rest (directory credentials, backup repository passwords, S3 keys, second-factor
TOTP keys and recovery-code seeds): encrypted, never clear.

The keys come from ``CAREOPS_ENCRYPTION_KEY`` (ideally from a file through
``CAREOPS_ENCRYPTION_KEY_FILE``): one Fernet key, or several separated by commas — the first
encrypts, every one decrypts (MultiFernet), so that a key is rotated by putting the new one
first and running ``careops secrets rotate``. Without a key (development only: production
requires one, see careops.config), a key is derived from the Django secret key, so that a
default install still never stores a secret in clear; that derived key stays accepted for
reading, so that a dedicated key can be introduced by rotation.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import transaction

SUFFIX = "_encrypted"  # every model field holding a secret ends with this


class SecretUnreadable(ValueError):
    """A stored secret that cannot be decrypted (the key changed or the value was altered)."""


def _derived_key() -> str:
    digest = hashlib.sha256(("careops-secrets:" + settings.SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def configured_keys() -> list[str]:
    """The configured keys, the current one first (empty: the derived development key)."""
    raw = settings.CONFIG.get("ENCRYPTION_KEY") or ""
    return [part.strip() for part in raw.split(",") if part.strip()]


def _fernet() -> MultiFernet:
    keys = configured_keys() or [_derived_key()]
    if _derived_key() not in keys:
        keys.append(_derived_key())
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(value: str) -> str:
    """Encrypt a secret for storage (authenticated encryption, Fernet, current key)."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a stored secret, or raise SecretUnreadable with a French message."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(
            "Secret illisible : la clé de chiffrement a changé ou la valeur a été altérée."
        ) from exc


def is_encrypted(value: str) -> bool:
    """Whether ``value`` is a Fernet token (they all start with version byte 0x80, « gAAAAA »)."""
    return value.startswith("gAAAAA")


MFA_SECRET_KEYS = ("secret", "seed")  # allauth's TOTP key and recovery-code seed, in ``data``


def _rotate_mfa(fernet: MultiFernet) -> dict[str, int]:
    """Re-encrypt the second-factor secrets; encrypt those stored in clear before careops did."""
    from allauth.mfa.models import Authenticator

    counts = {"rotated": 0, "unreadable": 0}
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update().iterator():
            data, changed = dict(authenticator.data), False
            for key in MFA_SECRET_KEYS:
                value = data.get(key)
                if not isinstance(value, str) or not value:
                    continue
                try:
                    token = value.encode("ascii")
                    if is_encrypted(value):
                        data[key] = fernet.rotate(token).decode("ascii")
                    else:
                        data[key] = fernet.encrypt(value.encode("utf-8")).decode("ascii")
                except (InvalidToken, ValueError):
                    counts["unreadable"] += 1
                    continue
                changed = True
                counts["rotated"] += 1
            if changed:
                Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
    return counts


def secret_fields() -> list[tuple[type, str]]:
    """Every (model, field name) holding an encrypted secret, in every app."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.name.endswith(SUFFIX):
                found.append((model, field.name))
    return found


def rotate() -> dict[str, dict[str, int]]:
    """Re-encrypt every stored secret with the current key (old keys still read).

    Returns, per ``app.Model.field``, the count re-encrypted and the count unreadable (left as
    they are, to be entered again). All or nothing per field.
    """
    fernet = _fernet()
    report: dict[str, dict[str, int]] = {}
    for model, name in secret_fields():
        counts = {"rotated": 0, "unreadable": 0}
        with transaction.atomic():
            rows = model._default_manager.exclude(**{name: ""}).values_list("pk", name)
            for pk, token in rows.iterator():
                try:
                    fresh = fernet.rotate(token.encode("ascii")).decode("ascii")
                except (InvalidToken, ValueError):
                    counts["unreadable"] += 1
                    continue
                model._default_manager.filter(pk=pk).update(**{name: fresh})
                counts["rotated"] += 1
        report[f"{model._meta.label}.{name}"] = counts
    report["mfa.Authenticator.data"] = _rotate_mfa(fernet)
    return report
