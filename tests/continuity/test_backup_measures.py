"""The gap between inherited objectives and what the backups module measured: for a resource
linked to protected systems, the last successful restore test (achieved RTO) and the backup age
and snapshot interval (achieved PDMA); typed values for the others."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from careops.backups.models import ProtectedSystem, Repository, VerificationRun
from careops.continuity import services
from careops.continuity.engine import compute
from careops.continuity.engine.model import HOUR, Activity, Bia, Dependency, Measured, Resource

pytestmark = pytest.mark.django_db


def _linked_system(scene, code="DPI", name="DPI — base", organisation=None):
    resource = scene.campaign.resources.get(code=code)
    system = ProtectedSystem(
        organisation=organisation or scene.tree.ej_a,
        name=name,
        resource=resource,
        job_name=name,
    )
    system.full_clean()  # the inherited PDMA stands for the typed one
    system.save()
    return system


def _restore(system, hours, days_ago=1, outcome="ok"):
    repo, _ = Repository.objects.get_or_create(
        organisation=system.organisation,
        name="restic-dpi",
        defaults={"driver": "restic", "location": "/srv/restic", "password_encrypted": "x"},
    )
    finished = timezone.now() - dt.timedelta(days=days_ago)
    return VerificationRun.objects.create(
        organisation=system.organisation,
        repository=repo,
        protected_system=system,
        kind="restore",
        status="done",
        outcome=outcome,
        restore_seconds=hours * 3600,
        finished_at=finished,
    )


def _objective(analysis, code):
    return next(o for o in analysis.resources if o.code == code)


def test_engine_uses_measures_passed_in_and_keeps_typed_ones_otherwise():
    bia = Bia(
        activities=[Activity("URG", "Urgences", rto_seconds=2 * HOUR, rpo_seconds=HOUR)],
        resources=[
            Resource("DPI", "DPI", measured_rto_seconds=HOUR),
            Resource("SIL", "SIL", measured_rto_seconds=3 * HOUR),
        ],
        dependencies=[Dependency("URG", "DPI"), Dependency("URG", "SIL")],
    )
    measured = {"DPI": Measured(rto_seconds=3 * HOUR, rto_source="test du 01/10")}
    analysis = compute.analyse(bia, measured=measured)
    dpi, sil = _objective(analysis, "DPI"), _objective(analysis, "SIL")
    assert (dpi.measured_rto_seconds, dpi.rto_gap, dpi.measured_from) == (
        3 * HOUR,
        "not_met",
        "external",
    )
    assert dpi.measured_rto_source == "test du 01/10" and dpi.rpo_gap == "unknown"
    assert (sil.rto_gap, sil.measured_from) == ("not_met", "manual")
    # a partial measure within the objective proves nothing; beyond it, it still fails
    partial = {"DPI": Measured(rto_seconds=HOUR, rto_complete=False)}
    assert _objective(compute.analyse(bia, measured=partial), "DPI").rto_gap == "unknown"
    partial = {"DPI": Measured(rto_seconds=5 * HOUR, rto_complete=False)}
    assert _objective(compute.analyse(bia, measured=partial), "DPI").rto_gap == "not_met"


def test_restore_test_of_3_hours_makes_the_2_hour_rto_not_held(scene, client_for):
    system = _linked_system(scene)
    _restore(system, 1, days_ago=10)
    _restore(system, 3, days_ago=1)  # the latest successful test counts
    _restore(system, 0.5, days_ago=0, outcome="failed")  # a failed test measures nothing
    dpi = _objective(services.analyse(scene.campaign), "DPI")
    assert dpi.required_rto_seconds == 2 * HOUR  # inherited from the emergency department
    assert dpi.measured_rto_seconds == 3 * HOUR  # not the 10 h typed in the workbook
    assert dpi.rto_gap == "not_met" and dpi.measured_from == "external"
    assert "test de restauration de « DPI — base »" in dpi.measured_rto_source
    page = client_for(scene.ght_rssi).get(reverse("continuity:campaign", args=[scene.campaign.pk]))
    text = page.content.decode()
    assert "NON TENU" in text and "mesuré : 3 h — test de restauration" in text
    # the API gives the same gap
    api = client_for(scene.ght_rssi).get(f"/api/continuity/campaigns/{scene.campaign.pk}/analysis")
    resource = next(r for r in api.json()["resources"] if r["code"] == "DPI")
    assert resource["rto_gap"] == "not_met" and resource["measured_from"] == "external"


def test_restore_within_the_rto_is_held_until_another_linked_system_is_untested(scene):
    system = _linked_system(scene)
    _restore(system, 1.5)
    assert _objective(services.analyse(scene.campaign), "DPI").rto_gap == "met"
    _linked_system(scene, name="DPI — serveur d'application")
    dpi = _objective(services.analyse(scene.campaign), "DPI")
    assert dpi.rto_gap == "unknown" and "1 système(s) lié(s) non testé(s)" in (
        dpi.measured_rto_source
    )


def test_backup_age_and_interval_are_the_measured_pdma(scene):
    system = _linked_system(scene)
    now = timezone.now()
    system.last_backup_at = now - dt.timedelta(minutes=30)
    system.last_checked_at = now
    system.backup_interval_hours = 0.75
    system.save()
    dpi = _objective(services.analyse(scene.campaign), "DPI")
    assert dpi.required_rpo_seconds == HOUR
    assert dpi.measured_rpo_seconds == 45 * 60 and dpi.rpo_gap == "met"
    assert "intervalle 45 min" in dpi.measured_rpo_source
    system.backup_interval_hours = 24  # a nightly backup cannot hold a 1 h PDMA
    system.save()
    dpi = _objective(services.analyse(scene.campaign), "DPI")
    assert dpi.measured_rpo_seconds == 24 * HOUR and dpi.rpo_gap == "not_met"


def test_unlinked_resources_keep_their_typed_measures(scene):
    _restore(_linked_system(scene), 3)
    sil = scene.campaign.resources.get(code="SIL")
    sil.measured_rto_hours = Decimal("1.5")
    sil.save()
    sil_objective = _objective(services.analyse(scene.campaign), "SIL")
    assert sil_objective.measured_from == "manual"
    assert sil_objective.measured_rto_seconds == 90 * 60


def test_a_link_to_an_older_version_measures_the_new_version(scene):
    system = _linked_system(scene)
    _restore(system, 3)
    draft = services.new_version(scene.ght_rssi, scene.campaign)
    assert _objective(services.analyse(draft), "DPI").rto_gap == "not_met"


def test_measures_of_systems_the_user_cannot_see_are_left_out(scene):
    """A GHT-level system linked to the hospital's BIA is not shown to the hospital's reader."""
    system = _linked_system(scene, organisation=scene.tree.ght)
    _restore(system, 3)
    assert _objective(services.analyse(scene.campaign), "DPI").rto_gap == "not_met"
    for_reader = _objective(services.analyse(scene.campaign, user=scene.reader), "DPI")
    assert for_reader.measured_from == "manual"  # the typed 10 h of the workbook
    assert for_reader.measured_rto_seconds == 10 * HOUR


def test_restore_test_evidence_names_the_bia_activities_its_system_serves(scene):
    """D2.O4 (S1): the restore test is on an IS that supports a D2.O1.C activity. A system
    linked to the DPI resource serves URG (needs DPI) and LAB (needs SIL, which needs DPI);
    the evidence says so, and the 1.1 referential relates it to the BIA's critical activities."""
    from careops.backups import services as backups
    from careops.catalogue.engine import evaluate, load_referential, parse_dossier

    system = _linked_system(scene)
    run = _restore(system, hours=1)
    run.business_referent = "cadre de santé des urgences"
    run.result = {
        "repositories": [{"checks": [{"name": "restore", "message": "SHA-256 ok", "details": {}}]}]
    }
    run.save()
    attributes = backups.restore_test_evidence(None, run).current.attributes
    assert attributes["activities"] == ["LAB", "URG"]
    unlinked = ProtectedSystem.objects.create(
        organisation=scene.tree.ej_a, name="Serveur isolé", job_name="isolé"
    )
    assert backups.supported_activities(unlinked) == []

    d2 = load_referential().domain("D2")
    day = run.finished_at.date().isoformat()

    def related(critical: list[str]):
        dossier = {
            "domain": "D2",
            "candidate": {"name": "CH Alpha", "kind": "ej"},
            "as_of": day,
            "evidence": [
                {"kind": "bia", "date": day, "attributes": {"critical_activities": critical}},
                {"kind": "restore_test", "date": day, "attributes": attributes},
            ],
        }
        result = evaluate(d2, parse_dossier(dossier)).result("D2.O4")
        return next(c for c in result.criteria if c.type == "related_evidence")

    assert related(["URG", "PAIE"]).status == "met"
    other = related(["PAIE"])
    assert other.status == "not_met"
    assert "absent de « liste des activités critiques »" in other.reasons[0]
