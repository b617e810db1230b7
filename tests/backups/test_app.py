"""The backups app: inventory, 3-2-1, 2FA states, trajectories, evidence and tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from careops.backups import services
from careops.backups.forms import BackupSystemForm
from careops.backups.models import BackupCopy, BackupSystem, Milestone, Trajectory
from careops.compliance.models import Evidence
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _system(org, **extra):
    values = {
        "organisation": org,
        "name": "Sauvegarde DPI",
        "product": "Veeam",
        "version": "12.1",
        "auth_mode": "local_accounts",
        "twofa_status": "not_supported",
    }
    values.update(extra)
    return BackupSystem.objects.create(**values)


@pytest.mark.parametrize(
    ("copies", "met", "missing"),
    [
        ([("disk", False, False), ("disk", False, False), ("disk", False, False)], False, 3),
        ([("disk", False, False), ("tape", True, True), ("object", True, False)], True, 0),
        ([("disk", False, False), ("tape", True, False)], False, 2),
    ],
)
def test_321_is_computed_from_the_copies(copies, met, missing):
    rule = services.assess_321(
        [
            BackupCopy(label=str(i), media=m, offsite=o, offline=off)
            for i, (m, o, off) in enumerate(copies)
        ]
    )
    assert rule.met is met
    assert len(rule.missing) == missing


@pytest.mark.parametrize(
    ("status", "extra", "error_field"),
    [
        ("implemented", {}, "twofa_proof"),
        ("supported_disabled", {}, "twofa_justification"),
        ("not_supported", {"version": ""}, "version"),
        ("implemented", {"twofa_proof": "TOTP activé pour tous les opérateurs"}, None),
    ],
)
def test_2fa_three_states_each_require_their_justification(
    org_tree, make_user, status, extra, error_field
):
    user = make_user("es_rssi", org_tree.ej_a)
    data = {
        "organisation": org_tree.ej_a.pk,
        "name": "Sauvegarde",
        "product": "Veeam",
        "version": "12",
        "auth_mode": "dedicated_ad",
        "twofa_status": status,
        **extra,
    }
    form = BackupSystemForm(data, user=user)
    if error_field:
        assert not form.is_valid()
        assert error_field in form.errors
    else:
        assert form.is_valid(), form.errors


def test_rssi_describes_a_system_and_its_copies_and_produces_2fa_evidence(
    client, org_tree, make_user
):
    rssi = make_user("es_rssi", org_tree.ej_b)
    login(client, rssi)
    response = client.post(
        reverse("backups:system_new"),
        {
            "organisation": org_tree.ej_b.pk,
            "name": "Sauvegarde PACS",
            "product": "Proxmox Backup Server",
            "version": "3.2",
            "auth_mode": "local_accounts",
            "operator_roles": "opérateur : lancer et restaurer ; administrateur : configurer",
            "twofa_status": "supported_disabled",
            "twofa_justification": "Compte de service utilisé par l'ordonnanceur",
            "isolation_capable": "on",
        },
    )
    system = BackupSystem.objects.get(name="Sauvegarde PACS")
    assert response.status_code == 302
    for label, media, offsite in (
        ("prod", "disk", ""),
        ("nas", "nas", ""),
        ("bande", "tape", "on"),
    ):
        client.post(
            reverse("backups:system", args=[system.pk]),
            {
                "label": label,
                "media": media,
                "location": "site B",
                "offsite": offsite,
                "offline": "on",
            },
        )
    assert system.copies.count() == 3
    page = client.get(reverse("backups:system", args=[system.pk])).content.decode()
    assert "Règle 3-2-1-1 :" in page and "non atteinte" not in page
    client.post(reverse("backups:system_evidence", args=[system.pk]))
    twofa = Evidence.objects.get(kind="backup_2fa", organisation=org_tree.ej_b)
    assert twofa.item_codes == ["D2.O3.A"]
    assert twofa.current.attributes["status"] == "supported_disabled"
    assert twofa.current.attributes["justification"]
    assert Evidence.objects.filter(kind="backup_roles").exists()


def test_trajectory_with_milestones_becomes_321_evidence(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a)
    login(client, rssi)
    client.post(
        reverse("backups:trajectory_new"),
        {
            "organisation": org_tree.ej_a.pk,
            "kind": "rule_321",
            "title": "Vers le 3-2-1",
            "target_date": "2028-06-30",
        },
    )
    trajectory = Trajectory.objects.get()
    for label, due in (("Copie hors site", "2027-01-31"), ("Copie immuable", "2027-12-31")):
        client.post(
            reverse("backups:trajectory", args=[trajectory.pk]), {"label": label, "due_date": due}
        )
    assert Milestone.objects.count() == 2
    client.post(reverse("backups:trajectory_evidence", args=[trajectory.pk]))
    evidence = Evidence.objects.get(kind="backup_321_plan")
    assert evidence.item_codes == ["D2.O3.C"]
    attributes = evidence.current.attributes
    assert attributes["target_date"] == "2028-06-30"
    assert [m["label"] for m in attributes["milestones"]] == ["Copie hors site", "Copie immuable"]


def test_pages_render_for_a_reader(client, org_tree, make_user):
    system = _system(org_tree.ej_b)
    trajectory = Trajectory.objects.create(
        organisation=org_tree.ej_b,
        kind="isolation",
        title="Isolement",
        target_date=dt.date(2027, 1, 1),
    )
    reader = make_user("reader", org_tree.ej_b)
    login(client, reader)
    for url in (
        reverse("backups:index"),
        reverse("backups:system", args=[system.pk]),
        reverse("backups:trajectory", args=[trajectory.pk]),
        reverse("backups:alerts"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    # a reader sees, but may not change
    page = client.get(reverse("backups:system", args=[system.pk])).content.decode()
    assert "Ajouter une copie" not in page
    response = client.post(
        reverse("backups:system", args=[system.pk]),
        {"label": "x", "media": "disk", "location": "x"},
    )
    assert response.status_code == 403
    assert client.post(reverse("backups:system_evidence", args=[system.pk])).status_code == 404


def test_tenant_isolation_other_region_sees_nothing(client, org_tree, make_user):
    system = _system(org_tree.ej_a)
    trajectory = Trajectory.objects.create(
        organisation=org_tree.ej_a,
        kind="isolation",
        title="Isolement",
        target_date=dt.date(2027, 1, 1),
    )
    outsider = make_user("es_rssi", org_tree.ej_other)
    login(client, outsider)
    assert client.get(reverse("backups:system", args=[system.pk])).status_code == 404
    assert client.get(reverse("backups:system_edit", args=[system.pk])).status_code == 404
    assert client.get(reverse("backups:trajectory", args=[trajectory.pk])).status_code == 404
    assert (
        client.post(reverse("backups:trajectory_evidence", args=[trajectory.pk])).status_code == 404
    )
    index = client.get(reverse("backups:index")).content.decode()
    assert "Sauvegarde DPI" not in index
    # nor can they create an object on an organisation outside their scope
    response = client.post(
        reverse("backups:system_new"),
        {
            "organisation": org_tree.ej_a.pk,
            "name": "Intrus",
            "product": "x",
            "version": "1",
            "auth_mode": "shared_ad",
            "twofa_status": "not_supported",
        },
    )
    assert response.status_code == 200
    assert not BackupSystem.objects.filter(name="Intrus").exists()


def test_ght_rssi_sees_member_establishments(client, org_tree, make_user):
    _system(org_tree.ej_a, name="Système Alpha")
    _system(org_tree.ej_b, name="Système Bêta")
    login(client, make_user("ght_rssi", org_tree.ght))
    page = client.get(reverse("backups:index")).content.decode()
    assert "Système Alpha" in page and "Système Bêta" in page
    client.logout()
    login(client, make_user("es_rssi", org_tree.ej_b))
    page = client.get(reverse("backups:index")).content.decode()
    assert "Système Bêta" in page and "Système Alpha" not in page


def test_only_an_rssi_may_declare_a_repository(client, org_tree, make_user):
    from careops.backups.models import Repository

    login(client, make_user("contributor", org_tree.ej_b))
    response = client.post(
        reverse("backups:repository_new"),
        {
            "organisation": org_tree.ej_b.pk,
            "name": "r",
            "driver": "restic",
            "location": "/etc",
            "password": "x",
            "data_cycle": 1,
        },
    )
    assert response.status_code == 200  # the organisation is not among the choices
    assert not Repository.objects.exists()


def test_isolation_test_and_three_year_horizon_warnings(org_tree):
    today = dt.date.today()
    system = _system(org_tree.ej_a, isolation_tested_on=today - dt.timedelta(days=400))
    assert system.isolation_test_due
    system.isolation_tested_on = today - dt.timedelta(days=30)
    assert not system.isolation_test_due
    far = Trajectory(kind="rule_321", title="t", target_date=today + dt.timedelta(days=4 * 366))
    near = Trajectory(kind="rule_321", title="t", target_date=today + dt.timedelta(days=2 * 365))
    assert far.beyond_three_years and not near.beyond_three_years
