"""RP-initiated logout: the provider's end_session_endpoint with the ID token as hint."""

from __future__ import annotations

import logging

from django.urls import reverse
from django.utils.http import urlencode

logger = logging.getLogger("careops.identity")


def provider_logout_url(request) -> str | None:
    """Where to send a user who logs out after a federated login, or None."""
    from careops.identity.provider import ID_TOKEN_KEY, CareopsOIDCAdapter

    pending = request.session.get(ID_TOKEN_KEY)
    if not pending:
        return None
    try:
        adapter = CareopsOIDCAdapter(request, pending["provider_id"])
        endpoint = adapter.openid_config.get("end_session_endpoint")
    except Exception as exc:  # noqa: BLE001 — logging out must never fail on the provider
        logger.warning("no provider logout for %s: %s", pending.get("provider_id"), exc)
        return None
    if not endpoint:
        return None
    back = request.build_absolute_uri(reverse("account_login"))
    query = urlencode({"id_token_hint": pending["id_token"], "post_logout_redirect_uri": back})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
