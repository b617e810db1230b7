"""Fixtures of the remote-access tests: a BIA, paths around ``org_tree``, a vendor user."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest


@dataclass
class Scene:
    tree: object
    rssi: object
    es_rssi_b: object
    vendor: object
    campaign: object
    bio: object
    staff: object
    other: object


@pytest.fixture
def scene(org_tree, make_user):
    """CH Alpha's example BIA; a vendor path reaching the DPI (P1), a staff path, a path of
    CH Bêta; a vendor account invited on the first path only."""
    from careops.continuity import services as continuity
    from careops.continuity.engine.example import example_bia
    from careops.continuity.engine.workbook import workbook_bytes
    from careops.remote_access.models import AccessPath

    rssi = make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    es_rssi_b = make_user("es_rssi", org_tree.ej_b, username="rssi.beta")
    vendor = make_user("vendor", org_tree.ej_a, username="technicien.imagerie")
    campaign = continuity.create_campaign(rssi, org_tree.ej_a, "BIA du CH Alpha")
    done = continuity.import_workbook(
        rssi, campaign, io.BytesIO(workbook_bytes(example_bia(org_tree.ej_a.finess, "CH Alpha")))
    )
    assert done.imported, done.problems
    bio = AccessPath.objects.create(
        organisation=org_tree.ej_a,
        ref="RA-BIO-01",
        name="Télémaintenance IRM",
        population="biomedical_vendor",
        vendor="Imagerie SA",
        technology="ipsec_vpn",
        entry_point="203.0.113.5",
        internet_exposed=True,
        auth_factors=["password"],
        account_model="shared",
        accounts=["presta.irm"],
        directory="prod_ad",
        activation="permanent",
        vpn_connection="telemaintenance",
        target_networks=["10.20.0.0/24"],
    )
    bio.targets.set([campaign.resources.get(code="DPI")])
    bio.vendor_users.set([vendor])
    staff = AccessPath.objects.create(
        organisation=org_tree.ej_a,
        ref="RA-TT-01",
        name="Télétravail",
        population="staff_remote_work",
        technology="tls_vpn",
        auth_factors=["password", "totp"],
        account_model="nominative",
        managed_devices_only=True,
        admin_rights_from_remote=False,
    )
    staff.targets.set([campaign.resources.get(code="LOGPAIE")])
    other = AccessPath.objects.create(
        organisation=org_tree.ej_b,
        ref="RA-B-01",
        name="Maintenance PACS Bêta",
        population="vendor_telemaintenance",
        technology="vendor_tool",
    )
    return Scene(org_tree, rssi, es_rssi_b, vendor, campaign, bio, staff, other)
