"""Protected systems linked to a BIA resource: RPO/RTO inherited from the latest validated
campaign (else the draft) with their source, typed overrides with a reason, freshness against the
inherited PDMA, and tenant isolation of the link."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from careops.backups import services
from careops.backups.forms import ProtectedSystemForm
from careops.backups.models import Alert, JobRecord, ProtectedSystem, Repository
from careops.backups.objectives import ObjectiveResolver, objectives_of
from careops.continuity import services as continuity
from careops.continuity.engine.example import example_bia
from careops.continuity.engine.workbook import workbook_bytes
from careops.core import crypto
from tests.backups.conftest import PASSWORD as REPO_PASSWORD
from tests.backups.test_app import login
from tests.continuity.conftest import fill_pcra

pytestmark = pytest.mark.django_db


def _campaign(user, organisation, title):
    campaign = continuity.create_campaign(user, organisation, title)
    outcome = continuity.import_workbook(
        user,
        campaign,
        io.BytesIO(workbook_bytes(example_bia(organisation.finess, organisation.name))),
    )
    assert outcome.imported, outcome.problems
    return campaign


@pytest.fixture
def bia(org_tree, make_user):
    """The example BIA of CH Alpha: DPI inherits RTO 2 h / PDMA 1 h from the emergency
    department, the payroll software RTO 72 h / PDMA 24 h."""
    rssi = make_user("ght_rssi", org_tree.ght)
    return rssi, _campaign(rssi, org_tree.ej_a, "BIA du CH Alpha")


def _system(organisation, resource, **extra):
    values = {"organisation": organisation, "name": "DPI", "resource": resource, "job_name": "DPI"}
    values.update(extra)
    return ProtectedSystem(**values)


def test_linked_system_inherits_the_bia_objectives_with_their_source(org_tree, bia):
    rssi, campaign = bia
    system = _system(org_tree.ej_a, campaign.resources.get(code="DPI"))
    system.full_clean()
    system.save()
    objectives = objectives_of(system)
    assert (objectives.rpo_hours, objectives.rto_hours) == (1, 2)
    assert (objectives.rpo_source, objectives.rto_source) == ("bia", "bia")
    assert objectives.label == (
        "hérité du BIA « BIA du CH Alpha » (v1, brouillon) : PDMA 1 h, RTO 2 h"
    )
    payroll = _system(org_tree.ej_a, campaign.resources.get(code="LOGPAIE"), name="Paie")
    assert objectives_of(payroll).label.endswith("PDMA 24 h, RTO 3 j")
    capability = next(
        c for c in services.achieved_capabilities(org_tree.ej_a) if c["system_id"] == system.pk
    )
    assert capability["rpo_hours"] == 1 and capability["resource_code"] == "DPI"


def test_latest_validated_campaign_wins_over_a_newer_draft(org_tree, bia):
    rssi, campaign = bia
    system = _system(org_tree.ej_a, campaign.resources.get(code="LOGPAIE"), name="Paie")
    system.full_clean()
    system.save()
    fill_pcra(campaign)
    continuity.validate_campaign(rssi, campaign)
    draft = continuity.new_version(rssi, campaign)
    payroll = draft.activities.get(code="PAIE")
    payroll.rpo_hours = 12
    payroll.save()
    objectives = objectives_of(ProtectedSystem.objects.get(pk=system.pk))
    assert objectives.rpo_hours == 24
    assert "« BIA du CH Alpha » (v1, validée)" in objectives.label
    # the draft counts only while no version is validated
    draft.status = "validated"
    draft.save()
    campaign.status = "archived"
    campaign.save()
    assert objectives_of(ProtectedSystem.objects.get(pk=system.pk)).rpo_hours == 12


def test_typed_values_override_the_bia_only_with_a_reason(org_tree, bia):
    _, campaign = bia
    system = _system(org_tree.ej_a, campaign.resources.get(code="DPI"), rpo_hours=4)
    with pytest.raises(ValidationError) as error:
        system.full_clean()
    assert "override_reason" in error.value.message_dict
    system.override_reason = "Sauvegarde continue impossible avant la migration du stockage"
    system.full_clean()
    objectives = ObjectiveResolver().objectives(system)
    assert (objectives.rpo_hours, objectives.rpo_source) == (4, "override")
    assert (objectives.rto_hours, objectives.rto_source) == (2, "bia")
    assert "dérogation saisie : PDMA 4 h (Sauvegarde continue" in objectives.label


def test_an_unlinked_system_still_needs_a_typed_pdma(org_tree):
    system = ProtectedSystem(organisation=org_tree.ej_a, name="Messagerie", job_name="EXCH")
    with pytest.raises(ValidationError) as error:
        system.full_clean()
    assert "rpo_hours" in error.value.message_dict
    system.rpo_hours = 12
    system.full_clean()
    assert objectives_of(system).label == "saisi"


def test_a_resource_of_another_organisation_is_refused(org_tree, make_user, bia):
    rssi, campaign = bia
    other_rssi = make_user("es_rssi", org_tree.ej_other)
    other = _campaign(other_rssi, org_tree.ej_other, "BIA de la clinique")
    foreign = other.resources.get(code="DPI")
    # the form does not even offer it, and refuses it when posted
    user = make_user("es_rssi", org_tree.ej_a)
    form = ProtectedSystemForm(user=user)
    offered = set(form.fields["resource"].queryset.values_list("pk", flat=True))
    assert foreign.pk not in offered
    assert campaign.resources.get(code="DPI").pk in offered
    data = {
        "organisation": org_tree.ej_a.pk,
        "name": "DPI",
        "resource": foreign.pk,
        "job_name": "DPI",
    }
    form = ProtectedSystemForm(data, user=user)
    assert not form.is_valid() and "resource" in form.errors
    # the model refuses it whoever saves it (API, shell, a user seeing both)
    with pytest.raises(ValidationError) as error:
        _system(org_tree.ej_a, foreign).full_clean()
    assert "resource" in error.value.message_dict
    # a sister hospital of the same GHT is another branch too, even for the GHT's RSSI
    sister = _campaign(rssi, org_tree.ej_b, "BIA du CH Beta").resources.get(code="DPI")
    form = ProtectedSystemForm({**data, "resource": sister.pk}, user=rssi)
    assert not form.is_valid() and "resource" in form.errors
    # the GHT itself and the hospital's sites are on the branch
    for organisation in (org_tree.ght, org_tree.eg_a1):
        _system(organisation, campaign.resources.get(code="DPI")).full_clean()


def test_form_offers_current_versions_and_shows_the_inherited_source(
    client, org_tree, make_user, bia
):
    rssi, campaign = bia
    user = make_user("es_rssi", org_tree.ej_a)
    login(client, user)
    dpi = campaign.resources.get(code="DPI")
    response = client.post(
        reverse("backups:protected_new"),
        {"organisation": org_tree.ej_a.pk, "name": "DPI", "resource": dpi.pk, "job_name": "DPI"},
    )
    assert response.status_code == 302
    system = ProtectedSystem.objects.get()
    assert system.resource == dpi and system.rpo_hours is None
    page = client.get(reverse("backups:protected_edit", args=[system.pk])).content.decode()
    assert "hérité du BIA « BIA du CH Alpha » (v1, brouillon) : PDMA 1 h, RTO 2 h" in page
    index = client.get(reverse("backups:index")).content.decode()
    assert "hérité du BIA" in index and "<td>1 h</td><td>2 h</td>" in index
    api = client.get("/api/backups/systems").json()
    row = api["items"][0] if isinstance(api, dict) else api[0]
    assert (row["rpo_hours"], row["typed_rpo_hours"], row["resource_id"]) == (1, None, dpi.pk)
    # archived versions are no longer offered (the link follows the resource code)
    fill_pcra(campaign)
    continuity.validate_campaign(rssi, campaign)
    new = continuity.new_version(rssi, campaign)

    def offered():
        form = ProtectedSystemForm(user=user)
        return set(form.fields["resource"].queryset.values_list("campaign__version", flat=True))

    assert offered() == {1, 2}
    continuity.validate_campaign(rssi, new)  # v1 archived
    assert offered() == {2}
    objectives = objectives_of(ProtectedSystem.objects.get())
    assert "(v2, validée)" in objectives.label


def test_stale_job_report_beyond_the_inherited_pdma_raises_the_freshness_alert(
    org_tree, bia, django_capture_on_commit_callbacks
):
    _, campaign = bia
    system = _system(org_tree.ej_a, campaign.resources.get(code="DPI"), job_name="DPI-nuit")
    system.full_clean()
    system.save()
    now = timezone.now()
    for hours_ago in (27, 3):  # nightly jobs: the newest is 3 h old, the PDMA inherited is 1 h
        JobRecord.objects.create(
            organisation=org_tree.ej_a,
            system_name="DPI-nuit",
            job="DPI-nuit",
            status="success",
            finished_at=now - dt.timedelta(hours=hours_ago),
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.evaluate_job_systems(org_tree.ej_a, now=now)
    system.refresh_from_db()
    assert system.freshness_status == "failed"
    assert system.backup_interval_hours == 24
    alert = Alert.objects.get(kind="stale")
    assert "PDMA (RPO) de 1,0 h" in alert.message
    # the achieved PDMA reaches the continuity gap: 24 h between backups for a 1 h objective
    dpi = next(o for o in continuity.analyse(campaign).resources if o.code == "DPI")
    assert dpi.measured_rpo_seconds == 24 * 3600 and dpi.rpo_gap == "not_met"


def test_stale_restic_snapshot_beyond_the_inherited_pdma_raises_the_alert(
    world, org_tree, bia, django_capture_on_commit_callbacks
):
    rssi, campaign = bia
    repo = Repository.objects.create(
        organisation=org_tree.ej_a,
        name="restic-rh",
        driver="restic",
        location=str(world / "restic"),
        password_encrypted=crypto.encrypt(REPO_PASSWORD),
        data_cycle=1,
    )
    # the payroll software inherits a 24 h PDMA; its newest snapshot is 3 days old
    system = _system(
        org_tree.ej_a,
        campaign.resources.get(code="LOGPAIE"),
        name="Paie",
        job_name="",
        repository=repo,
        match_host="old01",
    )
    system.full_clean()
    system.save()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_run(rssi, repo, "verify")
    run.refresh_from_db()
    system.refresh_from_db()
    assert run.status == "done" and system.freshness_status == "failed"
    alert = Alert.objects.get(kind="stale")
    assert "Paie" in alert.subject and "PDMA (RPO) de 24,0 h" in alert.message


def test_snapshot_interval_is_measured_between_the_two_newest_matching_points():
    from careops.backups.engine.freshness import Selector, interval_hours
    from careops.backups.engine.results import Snapshot

    base = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
    snapshots = [
        Snapshot("a", base, hostname="app01"),
        Snapshot("b", base + dt.timedelta(hours=24), hostname="app01"),
        Snapshot("c", base + dt.timedelta(hours=30), hostname="app01"),
        Snapshot("d", base + dt.timedelta(hours=31), hostname="old01"),
    ]
    assert interval_hours(snapshots, Selector(host="app01")) == 6
    assert interval_hours(snapshots, Selector(host="old01")) is None
