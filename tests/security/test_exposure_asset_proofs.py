"""Attacks on the exposure API's asset proofs (GET /assets/N, POST /verify, /attest, /approve):
who may attest and approve a range, and inputs that reached the database unchecked."""

import pytest
from django.test import Client

from careops.exposure.models import Asset, AssetStatus
from tests.api.conftest import Api


def attested_range(organisation, author, value="193.51.24.0/28") -> Asset:
    return Asset.objects.create(
        organisation=organisation,
        kind="ipv4",
        value=value,
        status=AssetStatus.ATTESTED,
        attestation="Bloc RIPE inetnum au nom du CH Bêta, contrat opérateur 2026",
        attested_by=author,
        created_by=author,
    )


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("es_rssi", 403),  # the organisation's own RSSI (and author of the attestation)
        ("ght_rssi", 403),  # above it
        ("contributor", 403),
        ("ans_instructor", 403),
        ("ars_instructor", 404),  # the ARS of another region does not even see it
        ("reader", 404),  # granted on another node
    ],
)
def test_only_an_outside_approver_approves_a_range(org_tree, role_users, who, code):
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    answer = Api(role_users[who]).post(
        f"/api/exposure/assets/{asset.pk}/approve", {"holder": "RIPE : CH Bêta"}
    )
    assert answer.status_code == code, answer.content
    asset.refresh_from_db()
    assert (asset.status, asset.verified_by) == (AssetStatus.ATTESTED, None)


def test_an_administrator_never_approves_what_they_attested(org_tree, role_users):
    admin = Api(role_users["administrator"])
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    attest = admin.post(
        f"/api/exposure/assets/{asset.pk}/attest",
        {"attestation": "Attestation déposée par l'administrateur lui-même"},
    )
    assert attest.status_code == 200
    answer = admin.post(f"/api/exposure/assets/{asset.pk}/approve", {"holder": "RIPE CH Bêta"})
    assert answer.status_code == 403
    assert "auteur" in answer.json()["detail"]


def test_vendor_and_instructor_without_second_factor_reach_nothing(org_tree, role_users, make_user):
    from careops.core import tokens

    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    vendor = Api(make_user("vendor", org_tree.ej_b))
    assert vendor.get(f"/api/exposure/assets/{asset.pk}").status_code == 404
    assert (
        vendor.post(
            f"/api/exposure/assets/{asset.pk}/attest", {"attestation": "x" * 40}
        ).status_code
        == 404
    )
    instructor = make_user("ars_instructor", org_tree.ars_idf)  # no TOTP enrolled
    _token, value = tokens.issue(instructor, "sans double authentification")
    client = Client(headers={"Authorization": f"Bearer {value}"})
    answer = client.post(
        f"/api/exposure/assets/{asset.pk}/approve",
        {"holder": "RIPE CH Bêta"},
        content_type="application/json",
    )
    assert answer.status_code == 401
    asset.refresh_from_db()
    assert asset.status == AssetStatus.ATTESTED


def test_session_write_without_csrf_token_is_refused(org_tree, role_users):
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(role_users["es_rssi"])
    answer = browser.post(
        f"/api/exposure/assets/{asset.pk}/attest",
        {"attestation": "Attestation forgée depuis un autre site web"},
        content_type="application/json",
    )
    assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]
    asset.refresh_from_db()
    assert "forgée" not in asset.attestation


def test_an_instructor_approves_no_range_beyond_the_limit(org_tree, role_users, make_user):
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"], "193.51.0.0/21")
    instructor = Api(make_user("ars_instructor", org_tree.ars_idf))
    answer = instructor.post(f"/api/exposure/assets/{asset.pk}/approve", {"holder": "RIPE"})
    assert answer.status_code == 403 and "2048 adresses" in answer.json()["detail"]
    assert Asset.objects.get(pk=asset.pk).status == AssetStatus.ATTESTED


def test_an_overlong_holder_is_refused_in_french(org_tree, role_users, make_user):
    """The column holds 255 characters: PostgreSQL answered a longer holder with a 500."""
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    instructor = Api(make_user("ars_instructor", org_tree.ars_idf))
    answer = instructor.post(f"/api/exposure/assets/{asset.pk}/approve", {"holder": "R" * 256})
    assert answer.status_code == 422
    assert "255 caractères" in answer.json()["errors"]["holder"][0]
    assert Asset.objects.get(pk=asset.pk).status == AssetStatus.ATTESTED


def test_an_attestation_is_a_paragraph_not_a_file(org_tree, role_users):
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    answer = Api(role_users["es_rssi"]).post(
        f"/api/exposure/assets/{asset.pk}/attest", {"attestation": "RIPE " * 200_000}
    )
    assert answer.status_code == 422
    assert "4000 caractères" in answer.json()["detail"]
    assert len(Asset.objects.get(pk=asset.pk).attestation) < 100


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("attest", {"attestation": "Bloc RIPE au nom du CH\x00 Bêta, contrat 2026"}),
        ("approve", {"holder": "RIPE\x00"}),
    ],
)
def test_a_nul_character_is_refused_in_french(org_tree, role_users, make_user, path, body):
    """PostgreSQL stores no NUL character: such a text answered a 500 (any JSON API write)."""
    asset = attested_range(org_tree.ej_b, role_users["es_rssi"])
    who = (
        role_users["es_rssi"] if path == "attest" else make_user("ars_instructor", org_tree.ars_idf)
    )
    answer = Api(who).post(f"/api/exposure/assets/{asset.pk}/{path}", body)
    assert answer.status_code == 422
    field = next(iter(body))
    assert "caractère nul" in answer.json()["errors"][field][0]
    asset.refresh_from_db()
    assert (asset.status, asset.holder) == (AssetStatus.ATTESTED, "")
    assert "\x00" not in asset.attestation


def test_a_nul_character_in_a_query_string_is_refused(org_tree, role_users):
    answer = Api(role_users["es_rssi"]).get("/api/exposure/findings", status="open\x00")
    assert answer.status_code == 422
    assert "caractère nul" in answer.json()["detail"]


def test_an_overlong_finding_owner_is_refused_in_french(org_tree, role_users):
    """The owner column holds 150 characters: PostgreSQL answered a longer one with a 500."""
    from django.utils import timezone

    from careops.exposure.models import Finding, RunStatus, ScanRun

    run = ScanRun.objects.create(
        organisation=org_tree.ej_b, scope={"ports": "443"}, status=RunStatus.DONE
    )
    finding = Finding.objects.create(
        organisation=org_tree.ej_b,
        fingerprint="EXP-T|192.0.2.1|443",
        rule="EXP-T",
        severity="high",
        host="192.0.2.1",
        port=443,
        title="constat",
        first_run=run,
        last_run=run,
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    answer = Api(role_users["es_rssi"]).patch(
        f"/api/exposure/findings/{finding.pk}", {"status": "in_progress", "owner": "O" * 151}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"]["owner"] == ["au plus 150 caractères"]
    assert Finding.objects.get(pk=finding.pk).owner == ""


@pytest.mark.parametrize(("who", "code"), [("contributor", 403), ("reader", 404), ("vendor", 404)])
def test_only_the_organisation_s_rssi_verifies_or_attests(
    org_tree, role_users, make_user, who, code
):
    user = make_user("vendor", org_tree.ej_b) if who == "vendor" else role_users[who]
    name = Asset.objects.create(organisation=org_tree.ej_b, kind="domain", value="chu-beta.fr")
    block = Asset.objects.create(organisation=org_tree.ej_b, kind="ipv4", value="193.51.24.0/28")
    api = Api(user)
    assert api.post(f"/api/exposure/assets/{name.pk}/verify", {}).status_code == code
    attest = api.post(
        f"/api/exposure/assets/{block.pk}/attest", {"attestation": "Bloc RIPE au nom du CH Bêta"}
    )
    assert attest.status_code == code
    name.refresh_from_db()
    block.refresh_from_db()
    assert (name.status, name.verification_note) == (AssetStatus.PENDING, "")  # no DNS look-up
    assert (block.status, block.attestation) == (AssetStatus.PENDING, "")


def test_a_value_the_database_refuses_is_a_french_422_not_a_500(rf):
    """Defence in depth for schemas without a length limit: PostgreSQL's « value too long » or
    « numeric out of range » answers 422 in French (a 500 before)."""
    from django.db import DataError

    from careops import api as site_api

    handler = site_api.api._exception_handlers[DataError]
    response = handler(rf.post("/api/x"), DataError("value too long for type character varying"))
    assert response.status_code == 422
    import json

    assert "trop long" in json.loads(response.content)["detail"]
