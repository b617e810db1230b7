"""careops' OpenID Connect provider: allauth's, made strict for health-sector federations.

On top of allauth's OpenID Connect provider: PKCE always, a nonce bound to the state and checked
in the ID token, the ID token's signature always verified (allauth skips it when the token came
straight from the token endpoint), the authentication level (`acr`) checked against the accepted
values and recorded, no authorization parameter or scope taken from the caller's query string.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import parse_qs, urlparse

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

logger = logging.getLogger("careops.identity")
NONCE_KEY = "careops_oidc_nonce:"
ALGORITHMS = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
TOKEN_ERRORS = {
    "ExpiredSignatureError": "jeton d'identité expiré",
    "InvalidAudienceError": "jeton d'identité destiné à un autre service (audience)",
    "InvalidIssuerError": "jeton d'identité d'un autre émetteur",
    "ImmatureSignatureError": "jeton d'identité pas encore valide",
    "MissingRequiredClaimError": "jeton d'identité incomplet",
}
ID_TOKEN_KEY = "careops_oidc_id_token"  # noqa: S105 (a session key, not a secret)


class RefusedLogin(OAuth2Error):
    """An identity provider's answer that careops refuses; ``reason`` is in French."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CareopsOIDCAdapter(OpenIDConnectOAuth2Adapter):
    def get_callback_url(self, request, app):
        from allauth.utils import build_absolute_uri
        from django.urls import reverse

        path = reverse("careops_oidc_callback", kwargs={"provider_id": self.provider_id})
        return build_absolute_uri(request, path, self.redirect_uri_protocol)

    def _verify(self, app, raw: str) -> dict:
        """The ID token's claims, its signature checked against the provider's JWKS (the key
        named by ``kid``, or each published key when the token names none), with an asymmetric
        algorithm only, and its issuer, audience and expiry checked."""
        import jwt
        from allauth.socialaccount.adapter import get_adapter

        try:
            header = jwt.get_unverified_header(raw)
        except jwt.PyJWTError as exc:
            raise RefusedLogin("jeton d'identité illisible") from exc
        algorithm = header.get("alg", "")
        if algorithm not in ALGORITHMS:
            raise RefusedLogin(f"algorithme de signature « {algorithm} » refusé")
        with get_adapter().get_requests_session() as session:
            response = session.get(self.openid_config["jwks_uri"])
            response.raise_for_status()
            published = response.json().get("keys", [])
        keys = [k for k in published if "kid" not in header or k.get("kid") == header["kid"]]
        if not keys:
            raise RefusedLogin("clé de signature du jeton inconnue du fournisseur")
        for jwk in keys:
            try:
                key = jwt.PyJWK(jwk, algorithm=algorithm).key
                return jwt.decode(
                    raw,
                    key=key,
                    algorithms=[algorithm],
                    audience=app.client_id,
                    issuer=self.openid_config["issuer"],
                    options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise RefusedLogin(
                    TOKEN_ERRORS.get(
                        type(exc).__name__, f"jeton d'identité invalide ({type(exc).__name__})"
                    )
                ) from exc
        raise RefusedLogin("signature du jeton d'identité invalide")

    def complete_login(self, request, app, token, **kwargs):
        from careops.core import audit

        raw = (kwargs.get("response") or {}).get("id_token")
        try:
            if not raw:
                raise RefusedLogin("le fournisseur n'a pas renvoyé de jeton d'identité (id_token)")
            claims = self._verify(app, raw)
            expected = request.session.pop(NONCE_KEY + request.GET.get("state", ""), None)
            if not expected or not hmac.compare_digest(str(claims.get("nonce", "")), expected):
                raise RefusedLogin("le nonce du jeton d'identité ne correspond pas à la demande")
            accepted = list(app.settings.get("accepted_acr") or [])
            acr = claims.get("acr")
            if accepted and acr not in accepted:
                raise RefusedLogin(
                    f"niveau d'authentification « {acr or 'absent'} » insuffisant "
                    f"(attendu : {', '.join(accepted)})"
                )
        except RefusedLogin as exc:
            logger.warning("OIDC login refused (%s): %s", app.provider_id, exc.reason)
            audit.record(None, "login.oidc_refused", summary=f"{app.name} : {exc.reason}")
            raise
        data = {"id_token": claims, "userinfo": self._fetch_user_info(token.token)}
        data["userinfo"]["careops_acr"] = acr  # the level actually returned, kept on the account
        request.session[ID_TOKEN_KEY] = {"provider_id": app.provider_id, "id_token": raw}
        return self.get_provider().sociallogin_from_response(request, data)


class CareopsOIDCProvider(OpenIDConnectProvider):
    id = "careops_oidc"
    name = "OpenID Connect"
    oauth2_adapter_class = CareopsOIDCAdapter
    pkce_enabled_default = True

    def get_pkce_params(self) -> dict:
        from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge

        return generate_code_challenge()  # always, whatever the settings say

    def get_auth_params_from_request(self, request, action):
        return self.get_auth_params()  # nothing from the query string (acr_values, prompt…)

    def get_scope_from_request(self, request):
        return self.get_scope()

    def extract_uid(self, data):
        return str(data["id_token"][self.app.settings.get("uid_field", "sub")])

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None) or self.get_auth_params()
        auth_params["nonce"] = nonce
        response = super().redirect(
            request, process, next_url, data, auth_params=auth_params, **kwargs
        )
        location = response.get("Location", "")
        state = parse_qs(urlparse(location).query).get("state", [""])[0]
        if state:
            request.session[NONCE_KEY + state] = nonce
        return response

    def counts_as_mfa(self) -> bool:
        return bool(self.app.settings.get("counts_as_mfa"))


provider_classes = [CareopsOIDCProvider]
