"""Finding 11.3: /api/ accepted a password-only session and tokens of users without MFA.

The attacks: an instructor (or someone who knows their password) calls the API with a session
that never went through TOTP, or with a token; a read-only token writes; a user without MFA
creates a token. The refusals: 401/403 until the MFA rule is met; read-only tokens answer 403
on every unsafe method; tokens are created (CLI or web) only by users who meet the rule.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from careops.core import tokens
from careops.core.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD
from tests.web.helpers import enable_totp, totp_code

ME = "/api/system/me"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def bearer(value: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {value}"})


def password_login(client, user):
    return client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})


@pytest.mark.parametrize("role", ["administrator", "ans_instructor", "ars_instructor"])
def test_password_only_session_of_an_mfa_role_is_refused_by_the_api(
    role, client, org_tree, make_user
):
    node = org_tree.ans if role != "ars_instructor" else org_tree.ars_idf
    user = make_user(role, node)  # no TOTP enrolled: the password is all the attacker needs
    assert password_login(client, user).status_code == 302
    assert "_auth_user_id" in client.session
    assert client.get(ME).status_code == 401
    assert client.get("/api/organisations/").status_code == 401


def test_a_session_that_skipped_the_totp_step_is_refused(client, org_tree, make_user):
    user = enable_totp(make_user("ans_instructor", org_tree.ans))
    client.force_login(user)  # a session without any second-factor record
    assert client.get(ME).status_code == 401


def test_the_session_counts_once_the_totp_code_is_given(client, org_tree, make_user):
    user = enable_totp(make_user("ans_instructor", org_tree.ans), SECRET)
    answer = password_login(client, user)
    assert "/accounts/2fa/authenticate/" in answer["Location"]
    assert client.get(ME).status_code == 401  # half signed in
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(SECRET)})
    assert client.get(ME).status_code == 200


def test_the_session_that_enrolled_totp_counts(client, org_tree, make_user, transactional_db):
    # transactional: allauth announces the new authenticator once the transaction commits
    user = make_user("ars_instructor", org_tree.ars_idf)
    password_login(client, user)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # no second password prompt (issue 12, item 14)
    secret = page.context["form"].secret
    answer = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert answer.status_code == 302
    assert client.get(ME).status_code == 200
    assert AuditEvent.objects.filter(action="mfa.add", actor=user).exists()


def test_other_roles_keep_their_session_on_the_api(client, org_tree, make_user):
    password_login(client, make_user("es_rssi", org_tree.ej_b))
    assert client.get(ME).status_code == 200


def test_a_token_of_an_mfa_role_without_authenticator_is_refused(org_tree, make_user):
    user = make_user("administrator", org_tree.ans)
    _, value = tokens.issue(user, "ancien")  # e.g. created before the rule
    assert bearer(value).get(ME).status_code == 401
    enable_totp(user)
    assert bearer(value).get(ME).status_code == 200


def test_cli_refuses_a_token_for_a_user_without_mfa(org_tree, make_user):
    user = make_user("ars_instructor", org_tree.ars_idf)
    with pytest.raises(CommandError, match="double authentification"):
        call_command("careops_token", "create", user.username, "--name", "script")
    assert not ApiToken.objects.exists()


def test_web_refuses_a_token_to_a_session_without_mfa(client, org_tree, make_user):
    user = enable_totp(make_user("administrator", org_tree.ans))
    client.force_login(user)  # TOTP enrolled, but this session never gave a code
    page = client.get("/compte/jetons/")
    assert "Créer le jeton" not in page.content.decode()
    answer = client.post("/compte/jetons/", {"name": "x", "days": 90})
    assert answer.status_code == 422 and not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/organisations/"),
        ("post", "/api/assessments"),
        ("patch", "/api/assessments/1"),
        ("patch", "/api/exposure/findings/1"),
        ("post", "/api/exposure/runs"),
        ("post", "/api/backups/job-reports"),
    ],
)
def test_a_read_only_token_never_writes(method, path, org_tree, make_user):
    user = make_user("ght_rssi", org_tree.ght)
    _, value = tokens.issue(user, "lecture", read_only=True)
    client = bearer(value)
    assert client.get(ME).status_code == 200
    answer = getattr(client, method)(
        path, {"parent": org_tree.ght.pk}, content_type="application/json"
    )
    assert answer.status_code == 403
    assert answer.json() == {"detail": "Ce jeton d'API est en lecture seule."}


def test_a_read_only_token_cannot_start_a_worker_ping(org_tree, make_user):
    admin = enable_totp(make_user("administrator", org_tree.ans))
    _, value = tokens.issue(admin, "lecture", read_only=True)
    assert bearer(value).post("/api/system/worker-ping").status_code == 403


# --- the token page ---------------------------------------------------------------------------


@pytest.fixture
def rssi_client(client, org_tree, make_user):
    user = make_user("ght_rssi", org_tree.ght, username="rssi.jetons")
    password_login(client, user)
    return client


def test_token_page_creates_a_90_day_token_shown_once(rssi_client):
    page = rssi_client.get("/compte/jetons/")
    assert page.status_code == 200
    assert 'value="90"' in page.content.decode()
    answer = rssi_client.post("/compte/jetons/", {"name": "sauvegarde", "days": 90})
    html = answer.content.decode()
    value = re.search(r'value="(cop_[^"]+)"', html).group(1)
    token = ApiToken.objects.get()
    assert token.read_only is False and token.name == "sauvegarde"
    expected = timezone.now() + dt.timedelta(days=90)
    assert abs((token.expires_at - expected).total_seconds()) < 60
    assert bearer(value).get(ME).json()["username"] == "rssi.jetons"
    # shown once: the list never shows it again
    assert value not in rssi_client.get("/compte/jetons/").content.decode()
    event = AuditEvent.objects.get(action="token.create")
    assert event.actor.username == "rssi.jetons" and value not in event.summary


def test_token_page_read_only_option_is_enforced(rssi_client, org_tree):
    answer = rssi_client.post("/compte/jetons/", {"name": "tableau", "days": 7, "read_only": "on"})
    value = re.search(r'value="(cop_[^"]+)"', answer.content.decode()).group(1)
    assert ApiToken.objects.get().read_only
    assert bearer(value).get("/api/organisations/").status_code == 200
    assert (
        bearer(value)
        .post("/api/organisations/", {"parent": org_tree.ght.pk}, content_type="application/json")
        .status_code
        == 403
    )


@pytest.mark.parametrize(("days", "message"), [("0", "supérieure ou égale à 1"), ("366", "365")])
def test_token_page_bounds_the_expiry(rssi_client, days, message):
    answer = rssi_client.post("/compte/jetons/", {"name": "x", "days": days})
    assert answer.status_code == 422 and message in answer.content.decode()
    assert not ApiToken.objects.exists()


def test_token_page_revokes_own_tokens_only(rssi_client, org_tree, make_user):
    rssi_client.post("/compte/jetons/", {"name": "a", "days": 30})
    own = ApiToken.objects.get()
    other, _ = tokens.issue(make_user("es_rssi", org_tree.ej_b), "autre")
    assert rssi_client.post(f"/compte/jetons/{other.pk}/revoquer/").status_code == 404
    assert ApiToken.objects.filter(pk=other.pk).exists()
    assert rssi_client.post(f"/compte/jetons/{own.pk}/revoquer/").status_code == 302
    assert not ApiToken.objects.filter(pk=own.pk).exists()
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_cli_create_defaults_to_90_days_and_offers_read_only(org_tree, make_user, capsys):
    user = make_user("contributor", org_tree.ej_b)
    call_command("careops_token", "create", user.username, "--name", "lecture", "--read-only")
    value = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert token.read_only
    expected = timezone.now() + dt.timedelta(days=90)
    assert abs((token.expires_at - expected).total_seconds()) < 60
    assert bearer(value).get(ME).status_code == 200
    assert (
        bearer(value).post("/api/assessments", {}, content_type="application/json").status_code
        == 403
    )
