"""Record an audit event; the request's actor and IP come from AuditContextMiddleware."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from django.db import models

from careops.core.models import AuditEvent

logger = logging.getLogger("careops.audit")
_request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("ip", default=None)


def set_request_ip(ip: str | None) -> contextvars.Token:
    """Remember the current request's client address for the events it records."""
    return _request_ip.set(ip)


def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    organisation=None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event and log it (never with secrets: callers pass no secret values)."""
    event = AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        organisation=organisation,
        summary=summary,
        changes=changes or {},
        ip=_request_ip.get(),
    )
    logger.info("audit %s by %s: %s", action, actor, summary)
    return event
