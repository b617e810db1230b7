"""Fixtures of the continuity tests: users around ``org_tree`` and a filled campaign."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from careops.continuity.engine.example import example_bia
from careops.continuity.engine.workbook import workbook_bytes


@dataclass
class Scene:
    tree: object
    ght_rssi: object
    es_rssi: object
    contributor: object
    reader: object
    outsider: object
    campaign: object


def fill_pcra(campaign):
    """Complete the PCRA part of a campaign (strategy, crisis cell, plan blanc, procedures)."""
    from careops.continuity.models import CrisisRole, Procedure

    si = campaign.scenarios.get(kind="si_unavailable")
    si.strategy = "Bascule sur les procédures papier ; reprise du socle de confiance puis du DPI."
    si.save()
    CrisisRole.objects.create(
        campaign=campaign,
        role="Directeur de crise",
        holder="Directeur général",
        deputy="Directeur adjoint",
        contact="06 00 00 00 00",
    )
    Procedure.objects.create(
        campaign=campaign, kind="reporting", title="Remontée d'information", version="1"
    )
    Procedure.objects.create(
        campaign=campaign, kind="reflex", title="Fiche réflexe SI indisponible"
    )
    campaign.white_plan_link = "Le volet numérique du plan blanc renvoie à ce PCRA."
    campaign.governance = "Comité de continuité trimestriel présidé par le directeur."
    campaign.governance_body = "Directoire"
    import datetime as dt

    campaign.governance_approved_on = dt.date(2025, 9, 1)
    campaign.save()


@pytest.fixture
def scene(org_tree, make_user) -> Scene:
    from careops.continuity import services

    t = org_tree
    ght_rssi = make_user("ght_rssi", t.ght)
    campaign = services.create_campaign(ght_rssi, t.ej_a, "BIA du CH Alpha")
    outcome = services.import_workbook(
        ght_rssi, campaign, io.BytesIO(workbook_bytes(example_bia(t.ej_a.finess, t.ej_a.name)))
    )
    assert outcome.imported, outcome.problems
    return Scene(
        tree=t,
        ght_rssi=ght_rssi,
        es_rssi=make_user("es_rssi", t.ej_b),
        contributor=make_user("contributor", t.ej_a),
        reader=make_user("reader", t.ej_a),
        outsider=make_user("es_rssi", t.ej_other),
        campaign=campaign,
    )


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Evidence files filed by the app go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
