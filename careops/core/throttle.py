"""Login throttling: per account and per client address, by delays, in the shared cache.

Each failed password attempt counts against two buckets: the account (whether it was named by
its username or its e-mail address: one bucket) and the client address. Past a few free
failures, the next attempt must wait a delay that doubles with each failure, up to a ceiling
(60 s per account and 300 s per address by default). Attempts made during a delay are refused
without checking the password and without counting, so nobody can lock an account out: the
real user waits at most the ceiling. Counters fade after an hour without failure; a successful
login clears the account's (never the address's). The buckets live in Django's default cache,
which the settings make shared by every process (the database table or Redis).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Q

logger = logging.getLogger("careops.security")


@dataclass(frozen=True)
class Bucket:
    key: str
    free: int
    max_delay: int


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def account_key(login: str) -> str:
    """One key per account, whichever identifier was typed; unknown logins get their own."""
    login = (login or "").strip()
    users = list(
        get_user_model()
        .objects.filter(Q(username__iexact=login) | Q(email__iexact=login))
        .values_list("pk", flat=True)[:2]
        if login
        else []
    )
    if len(users) == 1:
        return f"careops:login:user:{users[0]}"
    return f"careops:login:name:{_hash(login.lower())}"


def client_address(request) -> str:
    """The client's address: X-Forwarded-For only through ``CAREOPS_TRUSTED_PROXY_COUNT``
    proxies (allauth's rule, so that its own limits see the same address), else REMOTE_ADDR."""
    if request is None:
        return ""
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).get_client_ip(request) or ""
    except (PermissionDenied, ImproperlyConfigured):
        return request.META.get("REMOTE_ADDR") or ""


def _buckets(request, login: str) -> list[Bucket]:
    conf = settings.LOGIN_THROTTLE
    buckets = [Bucket(account_key(login), conf["account_free"], conf["account_max_delay"])]
    address = client_address(request)
    if address:
        buckets.append(
            Bucket(f"careops:login:ip:{_hash(address)}", conf["ip_free"], conf["ip_max_delay"])
        )
    return buckets


def _delay(failures: int, free: int, max_delay: int) -> int:
    if failures < free:
        return 0
    return min(max_delay, 2 ** (failures - free + 1))


def wait_seconds(request, login: str, now: float | None = None) -> int:
    """How long the next password attempt for ``login`` from this client must still wait."""
    now = time.time() if now is None else now
    wait = 0.0
    for bucket in _buckets(request, login):
        state = cache.get(bucket.key)
        if not state:
            continue
        ready_at = state["last"] + _delay(state["failures"], bucket.free, bucket.max_delay)
        wait = max(wait, ready_at - now)
    return int(wait + 0.999) if wait > 0 else 0


def record_failure(request, login: str, now: float | None = None) -> None:
    """Count a failed password attempt against the account and the client address."""
    now = time.time() if now is None else now
    window = settings.LOGIN_THROTTLE["window"]
    for bucket in _buckets(request, login):
        state = cache.get(bucket.key) or {"failures": 0, "last": now}
        state = {"failures": state["failures"] + 1, "last": now}
        cache.set(bucket.key, state, timeout=window)
        if state["failures"] >= bucket.free:
            from careops.core.metrics import LOGIN_DELAYS

            LOGIN_DELAYS.labels("address" if ":ip:" in bucket.key else "account").inc()
            logger.warning(
                "échecs de connexion répétés (%s échecs, %s) depuis %s",
                state["failures"],
                bucket.key.split(":")[2],
                client_address(request) or "?",
            )


def record_success(login: str) -> None:
    """Clear the account's failures after a successful password check."""
    cache.delete(account_key(login))
