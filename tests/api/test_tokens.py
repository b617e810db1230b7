"""API authentication: bearer tokens (issued by ``careops token``) and the browser session."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from careops.core import tokens
from careops.core.models import ApiToken, AuditEvent

ME = "/api/system/me"


def bearer(value: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {value}"})


def token_cli(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("careops_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_token_authenticates_its_user(org_tree, role_users):
    user = role_users["es_rssi"]
    token, value = tokens.issue(user, "script")
    response = bearer(value).get(ME)
    assert response.status_code == 200
    assert response.json()["username"] == user.username
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    ["", "Bearer ", "Bearer cop_not-a-token", "Token cop_x", "Basic dXNlcjpwYXNz"],
    ids=["none", "empty", "unknown", "wrong-scheme", "basic"],
)
def test_without_a_valid_token_the_api_answers_401(db, header):
    client = Client(headers={"Authorization": header} if header else {})
    assert client.get(ME).status_code == 401
    response = client.get("/api/evidence")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Authentification requise")


def test_a_method_a_path_does_not_offer_is_refused_in_french_json(org_tree, role_users):
    _, value = tokens.issue(role_users["reader"], "script")
    response = bearer(value).delete(ME)
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert response.json() == {"detail": "Méthode non permise ici ; méthodes permises : GET."}


def test_an_expired_token_is_refused(org_tree, role_users):
    _, value = tokens.issue(
        role_users["reader"], "old", expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert bearer(value).get(ME).status_code == 401


def test_a_token_of_an_inactive_user_is_refused(org_tree, role_users):
    user = role_users["reader"]
    _, value = tokens.issue(user, "script")
    user.is_active = False
    user.save()
    assert bearer(value).get(ME).status_code == 401


def test_the_database_never_holds_the_clear_token(org_tree, role_users):
    value = token_cli("create", role_users["reader"].username, "--name", "ci")[0].strip()
    assert bearer(value).get(ME).status_code == 200  # used once, so every column is written
    secret = value.removeprefix("cop_")[8:]  # everything past the displayed prefix
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 — names from the schema
            for row in cursor.fetchall():
                assert not any(secret in str(cell) for cell in row), table
    stored = ApiToken.objects.get()
    assert stored.prefix == value[4:12]
    assert len(stored.digest) == 64 and stored.digest not in value


def test_the_browser_session_also_authenticates(org_tree, role_users, client):
    client.force_login(role_users["ght_rssi"])
    assert client.get(ME).json()["roles"] == ["ght_rssi"]


# --- careops token create | list | revoke ------------------------------------------------


def test_cli_create_prints_the_token_once_and_it_works(org_tree, role_users):
    user = role_users["contributor"]
    out, err = token_cli("create", user.username, "--name", "sauvegarde", "--days", "30")
    value = out.strip()
    assert value.startswith("cop_") and "\n" not in value
    assert "il ne sera plus jamais affiché" in err
    token = ApiToken.objects.get(user=user)
    assert token.name == "sauvegarde"
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs((token.expires_at - expected).total_seconds()) < 60
    assert bearer(value).get(ME).json()["username"] == user.username
    event = AuditEvent.objects.get(action="token.create")
    assert value not in event.summary and token.prefix in event.summary


def test_cli_list_shows_prefixes_never_values(org_tree, role_users):
    user = role_users["contributor"]
    value = token_cli("create", user.username, "--name", "sauvegarde")[0].strip()
    tokens.issue(user, "ancien", expires_at=timezone.now() - dt.timedelta(days=1))
    out, _ = token_cli("list", user.username)
    assert value[4:12] in out
    assert value not in out
    assert "sauvegarde" in out and "actif" in out
    assert "ancien" in out and "expiré" in out


def test_cli_revoke_disables_the_token(org_tree, role_users):
    user = role_users["contributor"]
    value = token_cli("create", user.username, "--name", "sauvegarde")[0].strip()
    assert bearer(value).get(ME).status_code == 200
    out, _ = token_cli("revoke", value[4:12])
    assert "révoqué" in out
    assert bearer(value).get(ME).status_code == 401
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="token.revoke").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "inconnu", "--name", "x"), "Utilisateur « inconnu » introuvable."),
        (("list", "inconnu"), "Utilisateur « inconnu » introuvable."),
        (("revoke", "zzzzzzzz"), "Aucun jeton de préfixe « zzzzzzzz »."),
        (
            ("create", "{contributor}", "--name", "x", "--days", "0"),
            "La durée doit être comprise entre 1 et 365 jours",
        ),
    ],
)
def test_cli_errors_are_in_french(org_tree, role_users, args, message):
    args = [a.format(contributor=role_users["contributor"].username) for a in args]
    with pytest.raises(CommandError, match=message):
        token_cli(*args)
