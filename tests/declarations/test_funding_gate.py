"""An item the referential marks ``mandatory_for_funding`` (D1 1.1: the ADS audit, S14): while
it is not met nothing is due, and the declaration's funding and the dashboards say why."""

from __future__ import annotations

import copy

import pytest
import time_machine

from tests.declarations.conftest import DOMAIN, REVIEW_AT, load_domain
from tests.declarations.test_web import client_for


@pytest.fixture
def version(db, tmp_path):
    """The test domain with D2.O1.B (the restore test, not met by the ``evidence`` fixture)
    made mandatory for any funding."""
    domain = copy.deepcopy(DOMAIN)
    for item in domain["items"]:
        if item["id"] == "D2.O1.B":
            item["mandatory_for_funding"] = True
    return load_domain(domain, tmp_path)


def test_a_mandatory_item_not_met_blocks_all_funding_with_its_reason(declared, people):
    from careops.declarations import services

    funding = services.funding_of(declared)
    assert funding["share"] == 0 and funding["amount_eur"] == "0.00"
    (reason,) = funding["blocked_by"]
    assert reason.startswith("D2.O1.B « Test de restauration » non atteint : obligatoire")
    with time_machine.travel(REVIEW_AT, tick=False):
        detail = client_for(people.ars).get(f"/declarations/{declared.pk}/").content.decode()
        dashboard = client_for(people.ans).get("/declarations/tableau-de-bord/").content.decode()
    assert "Part de financement nulle" in detail and "« Test de restauration »" in detail
    assert "Exigences conditionnant tout financement" in dashboard
    assert "1 déclaration sur 1 sans cette exigence atteinte" in dashboard
    assert "obligatoire pour percevoir tout financement du domaine D2" in dashboard
