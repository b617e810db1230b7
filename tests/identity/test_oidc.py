"""Sign-in with Pro Santé Connect / ProConnect against a real OpenID Connect provider on loopback
(oidc-provider-mock: the authorization, token, userinfo, JWKS and end-session endpoints are real
HTTP; the tests only choose the claims the provider puts in its tokens)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.management import call_command
from django.urls import reverse
from oidc_provider_mock import run_server_in_thread

from careops.core.models import AuditEvent
from tests.web.helpers import enable_totp

NATIONAL_ID = "810101234567"


@pytest.fixture(scope="module")
def idp():
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def federations(settings, idp):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "careops_oidc": {
            "APPS": [
                {
                    "provider_id": "psc",
                    "name": "Pro Santé Connect",
                    "client_id": "careops-test",
                    "secret": "secret-de-test",
                    "settings": {
                        "server_url": idp,
                        "scope": ["openid", "scope_all"],
                        "auth_params": {"acr_values": "eidas1"},
                        "accepted_acr": ["eidas1"],
                        "counts_as_mfa": True,
                        "uid_field": "sub",
                    },
                },
                {
                    "provider_id": "proconnect",
                    "name": "ProConnect",
                    "client_id": "careops-agents",
                    "secret": "autre-secret",
                    "settings": {
                        "server_url": idp,
                        "scope": ["openid", "email"],
                        "auth_params": {"acr_values": "eidas1"},
                        "accepted_acr": ["eidas1"],
                        "counts_as_mfa": False,
                    },
                },
            ]
        }
    }
    return idp


def set_identity(idp, sub, **claims):
    base = {"acr": "eidas1", "SubjectNameID": NATIONAL_ID, "given_name": "Camille"}
    response = httpx.put(f"{idp}/users/{sub}", json=base | claims)
    assert response.status_code == 204


def start(client, provider="psc", process="login"):
    """careops' login button: returns the provider's authorization URL it redirects to."""
    response = client.post(reverse("careops_oidc_login", args=[provider]) + f"?process={process}")
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def authorize(location, sub):
    """The user chooses their identity at the provider, which sends the browser back."""
    response = httpx.post(location, data={"sub": sub})
    assert response.status_code == 302, response.text[:300]
    return response.headers["location"]


def finish(client, callback):
    parsed = urlparse(callback)
    return client.get(parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()})


def login_via(client, idp, sub, provider="psc"):
    location = start(client, provider)
    query = parse_qs(urlparse(location).query)
    assert query["acr_values"] == ["eidas1"] and query["code_challenge_method"] == ["S256"]
    assert query["nonce"][0] and query["state"][0]
    return finish(client, authorize(location, sub))


def logged_in_user(client):
    return client.session.get("_auth_user_id")


def refusal(reason_part: str) -> bool:
    return AuditEvent.objects.filter(
        action="login.oidc_refused", summary__contains=reason_part
    ).exists()


def test_linked_identity_signs_in_and_psc_counts_as_mfa(client, federations, org_tree, make_user):
    user = make_user("ars_instructor", org_tree.ars_idf)  # a role that requires MFA
    enable_totp(user)
    set_identity(federations, "psc-camille")
    call_command("identity", "link", user.username, "psc", "psc-camille")
    response = login_via(client, federations, "psc-camille")
    assert response.status_code == 302
    assert logged_in_user(client) == str(user.pk)  # no TOTP code asked: PSC is the second factor
    account = SocialAccount.objects.get(user=user)
    assert account.extra_data["userinfo"]["careops_acr"] == "eidas1"
    assert account.extra_data["id_token"]["SubjectNameID"] == NATIONAL_ID
    assert client.get("/").status_code == 200  # not sent to the TOTP set-up page
    event = AuditEvent.objects.get(action="login.oidc")
    assert "niveau eidas1" in event.summary and "vaut double authentification" in event.summary


def test_proconnect_login_does_not_replace_the_second_factor(
    client, federations, org_tree, make_user
):
    user = make_user("ars_instructor", org_tree.ars_idf)
    enable_totp(user)
    set_identity(federations, "agent-ars")
    call_command("identity", "link", user.username, "proconnect", "agent-ars")
    response = login_via(client, federations, "agent-ars", provider="proconnect")
    assert logged_in_user(client) is None  # the TOTP step comes next
    assert response["Location"] == reverse("mfa_authenticate")


def test_wrong_state_is_refused(client, federations, org_tree, make_user):
    user = make_user("es_rssi", org_tree.ej_a)
    set_identity(federations, "psc-state")
    call_command("identity", "link", user.username, "psc", "psc-state")
    callback = authorize(start(client), "psc-state")
    forged = callback.replace("state=", "state=x")
    response = finish(client, forged)
    assert response.status_code == 401 and "Connexion refusée" in response.content.decode()
    assert logged_in_user(client) is None


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"nonce": "rejoue-par-un-attaquant"}, "nonce"),
        ({"exp": int(time.time()) - 3600}, "jeton d'identité expiré"),
        ({"aud": "un-autre-service"}, "destiné à un autre service"),
        ({"acr": "eidas0"}, "niveau d'authentification « eidas0 » insuffisant"),
    ],
    ids=["wrong-nonce", "expired", "wrong-audience", "acr-too-low"],
)
def test_tokens_careops_must_not_accept(client, federations, org_tree, make_user, claims, reason):
    user = make_user("es_rssi", org_tree.ej_a)
    sub = f"psc-{reason[:8]}"
    set_identity(federations, sub, **claims)
    call_command("identity", "link", user.username, "psc", sub)
    response = login_via(client, federations, sub)
    assert response.status_code == 401
    assert "Connexion refusée" in response.content.decode()
    assert logged_in_user(client) is None
    assert refusal(reason), list(AuditEvent.objects.values_list("summary", flat=True))


def test_unknown_identity_never_claims_an_account_by_email(
    client, federations, org_tree, make_user
):
    user = make_user("es_rssi", org_tree.ej_a)
    set_identity(federations, "psc-inconnu", email=user.email, email_verified=True)
    response = login_via(client, federations, "psc-inconnu")
    assert "Compte inconnu" in response.content.decode()
    assert logged_in_user(client) is None
    assert not SocialAccount.objects.exists()
    assert AuditEvent.objects.filter(action="login.oidc_unknown").exists()


def test_revoked_account_cannot_sign_in(client, federations, org_tree, make_user):
    user = make_user("es_rssi", org_tree.ej_a)
    set_identity(federations, "psc-parti")
    call_command("identity", "link", user.username, "psc", "psc-parti")
    user.is_active = False
    user.save()
    login_via(client, federations, "psc-parti")
    assert logged_in_user(client) is None


def test_signed_in_user_links_their_identity_then_logout_ends_the_provider_session(
    client, federations, org_tree, make_user
):
    from tests.conftest import PASSWORD

    user = make_user("es_rssi", org_tree.ej_a)
    set_identity(federations, "psc-lien")
    assert client.login(username=user.username, password=PASSWORD)
    callback = authorize(start(client, process="connect"), "psc-lien")
    finish(client, callback)
    assert SocialAccount.objects.get(uid="psc-lien").user == user
    client.logout()
    login_via(client, federations, "psc-lien")
    assert logged_in_user(client) == str(user.pk)
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}" == federations
    assert target.path == "/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["id_token_hint"][0].count(".") == 2
    assert query["post_logout_redirect_uri"] == ["http://testserver" + reverse("account_login")]
    assert logged_in_user(client) is None


def test_login_page_offers_the_configured_federations(client, federations, db):
    page = client.get(reverse("account_login")).content.decode()
    assert "Se connecter avec Pro Santé Connect" in page and "Se connecter avec ProConnect" in page


def test_oidc_configuration_from_the_environment(tmp_path):
    from careops import config

    secret = tmp_path / "psc-secret"
    secret.write_text("s3cret\n", encoding="utf-8")
    providers = config.oidc_providers(
        {
            "CAREOPS_OIDC_PROVIDERS": "psc,proconnect",
            "CAREOPS_OIDC_PSC_ISSUER": "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/",
            "CAREOPS_OIDC_PSC_CLIENT_ID": "careops",
            "CAREOPS_OIDC_PSC_SECRET_FILE": str(secret),
            "CAREOPS_OIDC_PROCONNECT_ISSUER": "https://proconnect.example/api/v2",
            "CAREOPS_OIDC_PROCONNECT_CLIENT_ID": "careops-agents",
            "CAREOPS_OIDC_PROCONNECT_SECRET": "x",
            "CAREOPS_OIDC_PROCONNECT_MFA": "true",
        }
    )
    psc, proconnect = providers
    assert psc["secret"] == "s3cret" and psc["scope"] == ["openid", "scope_all"]
    assert psc["acr"] == "eidas1" and psc["mfa"] is True and psc["issuer"].endswith("esante-wallet")
    assert proconnect["name"] == "ProConnect" and proconnect["mfa"] is True
    with pytest.raises(config.ConfigError, match="CAREOPS_OIDC_PSC_CLIENT_ID"):
        config.oidc_providers(
            {
                "CAREOPS_OIDC_PROVIDERS": "psc",
                "CAREOPS_OIDC_PSC_ISSUER": "https://x",
                "CAREOPS_OIDC_PSC_SECRET": "y",
            }
        )


def test_linking_to_an_unconfigured_federation_says_how_to_configure_it(
    db, org_tree, make_user, settings
):
    from django.core.management.base import CommandError

    settings.SOCIALACCOUNT_PROVIDERS = {}  # no federation configured
    user = make_user("establishment_rssi", org_tree.ej_a)
    with pytest.raises(CommandError) as error:
        call_command("identity", "link", user.username, "psc", "psc-camille")
    assert "Fédération inconnue : psc (configurées : aucune)" in str(error.value)
    assert "CAREOPS_OIDC_PROVIDERS" in str(error.value)
    assert not SocialAccount.objects.filter(user=user).exists()


def test_identity_list_says_when_an_account_has_no_linked_identity(
    federations, org_tree, make_user, capsys
):
    user = make_user("es_rssi", org_tree.ej_a)
    call_command("identity", "list", user.username)
    assert f"Aucune identité de fédération liée à {user.username}." in capsys.readouterr().out
    call_command("identity", "link", user.username, "psc", "psc-liste")
    call_command("identity", "list", user.username)
    out = capsys.readouterr().out
    assert "psc\tpsc-liste\t" in out and "Aucune" not in out
