"""Attacks on the scan scope (issue 11.5): a GHT RSSI invites a second account and approves
their own range; a range of any size; a verified name pointing at someone else's address.

Range approval needs an ARS instructor of the organisation's region or a platform
administrator, never someone of the organisation; the approver records the holder they saw;
an instructor approves up to 1 024 addresses (/22, /118 in IPv6); addresses of verified names
outside approved ranges are recorded, shown, and refused by the scan until approved.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from careops.core.models import AuditEvent
from careops.exposure import services
from careops.exposure.models import Asset, AssetStatus, ScanRun
from careops.tenancy.models import RoleAssignment
from tests.exposure import helpers
from tests.web.helpers import enable_totp

RANGE = "193.51.24.0/28"
ATTESTATION = "Bloc RIPE inetnum 193.51.24.0/28 au nom du GHT (test)"


@pytest.fixture
def regional(org_tree, make_user):
    """The ARS Île-de-France instructor (the GHT's region) and the platform administrator."""
    ars = enable_totp(make_user("ars_instructor", org_tree.ars_idf, username="ars.idf"))
    admin = enable_totp(make_user("administrator", org_tree.ans, username="admin"))
    other = enable_totp(make_user("ars_instructor", org_tree.ars_ara, username="ars.ara"))
    return ars, admin, other


def attested(user, organisation, value=RANGE):
    asset = services.declare_asset(user, organisation, value)
    return services.attest_range(user, asset, ATTESTATION)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_ght_rssi_invites_an_accomplice_who_cannot_approve_the_range(org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    rssi_client = client_for(rssi)
    invited = rssi_client.post(
        f"/organisations/{org_tree.ght.pk}/roles/",
        {"user": "complice@ght.test", "role": "ght_rssi", "include_subtree": "on"},
    )
    assert invited.status_code == 302
    accomplice = RoleAssignment.objects.get(user__email="complice@ght.test").user
    asset = attested(rssi, org_tree.ght)
    response = client_for(accomplice).post(
        f"/exposition/actifs/{asset.pk}/approbation/",
        {"decision": "approve", "holder": "GHT (vu par moi-même)"},
    )
    assert response.status_code == 403
    asset.refresh_from_db()
    assert asset.status == AssetStatus.ATTESTED and asset.holder == ""
    with pytest.raises(PermissionDenied):
        services.approve_range(accomplice, asset, holder="GHT")
    # the GHT above an establishment, or a contributor of it, does not approve either
    establishment = attested(make_user("es_rssi", org_tree.ej_a), org_tree.ej_a)
    for user in (rssi, make_user("contributor", org_tree.ej_a)):
        with pytest.raises(PermissionDenied):
            services.approve_range(user, establishment, holder="CH Alpha")
    assert not services.verified_scope(org_tree.ght)["networks"]


def test_only_the_regions_instructor_or_an_administrator_approve(org_tree, make_user, regional):
    ars, admin, other_region = regional
    rssi = make_user("ght_rssi", org_tree.ght)
    asset = attested(rssi, org_tree.ght)
    with pytest.raises(PermissionDenied):
        services.approve_range(other_region, asset, holder="GHT Val-de-Seine")
    ans = enable_totp(make_user("ans_instructor", org_tree.ans))
    with pytest.raises(PermissionDenied):
        services.approve_range(ans, asset, holder="GHT Val-de-Seine")
    with pytest.raises(ValidationError, match="titulaire"):
        services.approve_range(ars, asset, holder="  ")  # the holder as seen is required
    services.approve_range(ars, asset, holder="RIPE inetnum : GHT Val-de-Seine (FR)")
    asset.refresh_from_db()
    assert asset.status == AssetStatus.VERIFIED and asset.verified_by == ars
    assert asset.holder == "RIPE inetnum : GHT Val-de-Seine (FR)"
    event = AuditEvent.objects.get(action="exposure.asset.approve")
    assert event.actor == ars and "GHT Val-de-Seine (FR)" in event.summary
    assert event.changes["holder"] == "RIPE inetnum : GHT Val-de-Seine (FR)"
    page = client_for(rssi).get(f"/exposition/actifs/{asset.pk}/").content.decode()
    assert "RIPE inetnum : GHT Val-de-Seine (FR)" in page


def test_an_administrator_of_the_organisation_itself_cannot_approve(org_tree, make_user, regional):
    _ars, admin, _other = regional
    rssi = make_user("ght_rssi", org_tree.ght)
    asset = attested(rssi, org_tree.ght)
    RoleAssignment.objects.create(user=admin, organisation=org_tree.ej_b, role="reader")
    admin._careops_grants = None
    with pytest.raises(PermissionDenied):
        services.approve_range(admin, asset, holder="GHT")


def test_size_beyond_a_slash_22_needs_an_administrator(org_tree, make_user, regional):
    ars, admin, _other = regional
    rssi = make_user("ght_rssi", org_tree.ght)
    v4 = attested(rssi, org_tree.ght, "193.51.16.0/21")  # 2 048 addresses
    with pytest.raises(PermissionDenied, match="administrateur"):
        services.approve_range(ars, v4, holder="GHT")
    page = client_for(ars).get(f"/exposition/actifs/{v4.pk}/").content.decode()
    assert "seul un administrateur" in page
    v4.refresh_from_db()
    assert v4.status == AssetStatus.ATTESTED
    services.approve_range(admin, v4, holder="RIPE : GHT")
    v6 = attested(rssi, org_tree.ght, "2001:db8::/117")  # 2 048 addresses
    with pytest.raises(PermissionDenied):
        services.approve_range(ars, v6, holder="GHT")
    ok = attested(rssi, org_tree.ght, "193.51.20.0/22")  # exactly 1 024: an instructor may
    services.approve_range(ars, ok, holder="RIPE : GHT")
    assert Asset.objects.get(pk=ok.pk).status == AssetStatus.VERIFIED


@pytest.fixture
def dns_server(settings):
    server = helpers.DnsServer()
    settings.EXPOSURE_NAMESERVERS = [server.address]
    yield server
    server.stop()


def test_addresses_of_a_verified_name_need_the_same_approval(
    org_tree, make_user, regional, dns_server, django_capture_on_commit_callbacks
):
    ars, admin, _other = regional
    rssi = make_user("es_rssi", org_tree.ej_b)
    org = org_tree.ej_b
    name = services.declare_asset(rssi, org, "vpn.ch-beta.fr")
    dns_server.records[(name.txt_name, "TXT")] = [name.txt_value]
    # the name is the establishment's; the address it points to may be anyone's
    dns_server.records[(name.value, "A")] = ["127.0.0.1"]
    assert services.verify_domain(rssi, name)
    derived = Asset.objects.get(resolved_from=name)
    assert derived.value == "127.0.0.1/32" and derived.status == AssetStatus.PENDING
    assert "127.0.0.1/32" in client_for(rssi).get(f"/exposition/actifs/{name.pk}/").content.decode()
    services.set_internal_audit(admin, org, True)  # loopback: the only address tests may scan
    services.update_profile(rssi, org, str(helpers.free_port()), monthly=False)

    with django_capture_on_commit_callbacks(execute=True):
        refused = services.start_run(rssi, org)
    refused.refresh_from_db()
    assert refused.result["hosts"] == []
    assert any("hors des plages approuvées" in e for e in refused.errors)
    assert refused.exposure_level == "" and refused.evidence_id is None

    services.attest_range(rssi, derived, "Adresse du concentrateur VPN, hébergé chez nous (test)")
    with pytest.raises(PermissionDenied):
        services.approve_range(rssi, derived, holder="CH Bêta")
    services.approve_range(admin, derived, holder="Boucle locale du banc de test")
    with django_capture_on_commit_callbacks(execute=True):
        approved = services.start_run(rssi, org)
    approved.refresh_from_db()
    assert [h["address"] for h in approved.result["hosts"]] == ["127.0.0.1"]
    assert approved.result["hosts"][0]["hostnames"] == ["vpn.ch-beta.fr"]
    # an approved address of a name is never a target of its own: only through the name
    assert "127.0.0.1/32" not in approved.scope["targets"]
    assert ScanRun.objects.filter(organisation=org).count() == 2


@pytest.mark.django_db(transaction=True)
def test_ranges_approved_before_the_rule_must_be_approved_again(org_tree, make_user):
    """The data migration: a range verified without a recorded holder (possibly by a peer)
    goes back to "to approve"; names and ranges approved with their holder stay verified."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    rssi = make_user("ght_rssi", org_tree.ght)
    old = Asset.objects.create(
        organisation=org_tree.ght,
        kind="ipv4",
        value="193.51.24.0/28",
        status="verified",
        verified_by=rssi,
    )
    kept = Asset.objects.create(
        organisation=org_tree.ght,
        kind="ipv4",
        value="193.51.25.0/28",
        status="verified",
        holder="RIPE : GHT",
    )
    name = Asset.objects.create(
        organisation=org_tree.ght, kind="domain", value="ght.fr", status="verified"
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("exposure", "0002_asset_holder_and_resolved_addresses")])
    executor = MigrationExecutor(connection)
    executor.migrate([("exposure", "0003_reapprove_ranges_without_holder")])
    old.refresh_from_db()
    assert old.status == AssetStatus.ATTESTED and "à renouveler" in old.verification_note
    assert Asset.objects.get(pk=kept.pk).status == AssetStatus.VERIFIED
    assert Asset.objects.get(pk=name.pk).status == AssetStatus.VERIFIED
    assert old.value not in services.verified_scope(org_tree.ght)["targets"]
