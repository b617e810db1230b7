"""The GHT's AD convergence trajectory: milestones (state by date), permissions, evidence, API."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from careops.compliance.models import Evidence
from careops.core.models import AuditEvent
from careops.directory import services
from careops.directory.models import ConvergenceMilestone, Domain
from tests.conftest import PASSWORD, make_org

pytestmark = pytest.mark.django_db

# Noon in Paris, so that the local date is the one written.
JAN_10 = dt.datetime(2027, 1, 10, 11, 0, tzinfo=dt.UTC)
MAR_02 = dt.datetime(2027, 3, 2, 11, 0, tzinfo=dt.UTC)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def ght_rssi(org_tree, make_user):
    return make_user("ght_rssi", org_tree.ght, username="rssi.ght")


@pytest.fixture
def domains(org_tree, ght_rssi):
    alpha = services.save_domain(
        ght_rssi,
        Domain(
            organisation=org_tree.ej_a,
            name="alpha.local",
            target_forest="ght.local",
            convergence_status="planned",
        ),
    )
    beta = services.save_domain(ght_rssi, Domain(organisation=org_tree.ej_b, name="beta.local"))
    return alpha, beta


@pytest.fixture
def outside_domain(org_tree, make_user):
    owner = make_user("es_rssi", org_tree.ej_other)
    return services.save_domain(owner, Domain(organisation=org_tree.ej_other, name="rhone.local"))


def states(user, ght):
    return [
        (r["milestone"].title, r["state"]) for r in services.convergence(user, ght)["milestones"]
    ]


def test_milestones_are_ordered_with_their_state_by_date(org_tree, ght_rssi, domains):
    alpha, beta = domains
    ght = org_tree.ght
    with time_machine.travel(JAN_10, tick=False):
        services.add_milestone(
            ght_rssi, ght, "Bascule de beta.local", dt.date(2027, 3, 1), domains=[beta]
        )
        services.add_milestone(
            ght_rssi, ght, "Approbation entre forêts", dt.date(2026, 12, 1), domains=[alpha, beta]
        )
        services.add_milestone(
            ght_rssi,
            ght,
            "Forêt cible installée",
            dt.date(2026, 11, 1),
            done_on=dt.date(2026, 11, 5),
            note="Deux contrôleurs par site",
        )
        assert states(ght_rssi, ght) == [
            ("Forêt cible installée", "done"),
            ("Approbation entre forêts", "late"),  # due date passed, not done
            ("Bascule de beta.local", "upcoming"),
        ]
        data = services.convergence(ght_rssi, ght)
        assert data["late"] == 1
        assert [d.name for d in data["milestones"][1]["domains"]] == ["alpha.local", "beta.local"]
        assert data["milestones"][0]["state_label"] == "atteint"

        late = ConvergenceMilestone.objects.get(title="Approbation entre forêts")
        services.mark_milestone_done(ght_rssi, late)
        late.refresh_from_db()
        assert late.done_on == dt.date(2027, 1, 10)

    # time passes: the upcoming one is now late; the due date itself is not late yet
    with time_machine.travel(dt.datetime(2027, 3, 1, 11, 0, tzinfo=dt.UTC), tick=False):
        assert states(ght_rssi, ght)[-1] == ("Bascule de beta.local", "upcoming")
    with time_machine.travel(MAR_02, tick=False):
        assert states(ght_rssi, ght) == [
            ("Forêt cible installée", "done"),
            ("Approbation entre forêts", "done"),
            ("Bascule de beta.local", "late"),
        ]
    actions = list(
        AuditEvent.objects.filter(action__startswith="directory.milestone").values_list(
            "action", flat=True
        )
    )
    assert actions.count("directory.milestone.create") == 3
    assert "directory.milestone.done" in actions


def test_milestone_update_and_delete_are_journalled(org_tree, ght_rssi, domains):
    alpha, _beta = domains
    ght = org_tree.ght
    m = services.add_milestone(ght_rssi, ght, "Audit préalable", dt.date(2027, 6, 30))
    services.update_milestone(
        ght_rssi, m, "Audit préalable des deux domaines", dt.date(2027, 9, 30), domains=[alpha]
    )
    m.refresh_from_db()
    assert m.title == "Audit préalable des deux domaines" and m.due_date == dt.date(2027, 9, 30)
    assert list(m.domains.all()) == [alpha]
    services.delete_milestone(ght_rssi, m)
    assert not ConvergenceMilestone.objects.exists()
    event = AuditEvent.objects.get(action="directory.milestone.delete")
    assert event.organisation == ght and "Audit préalable des deux domaines" in event.summary
    assert AuditEvent.objects.filter(action="directory.milestone.update").count() == 1


def test_milestone_validation_in_french(org_tree, ght_rssi, domains, outside_domain):
    ght = org_tree.ght
    with time_machine.travel(JAN_10, tick=False):
        with pytest.raises(ValidationError) as exc:
            services.add_milestone(ght_rssi, ght, "  ", dt.date(2027, 6, 30))
        assert exc.value.message_dict == {"title": ["L'intitulé du jalon est obligatoire."]}
        with pytest.raises(ValidationError) as exc:
            services.add_milestone(
                ght_rssi, ght, "Bascule", dt.date(2027, 6, 30), domains=[outside_domain]
            )
        assert exc.value.message_dict == {
            "domains": ["Domaine(s) hors du GHT refusé(s) : rhone.local."]
        }
        with pytest.raises(ValidationError) as exc:
            services.add_milestone(
                ght_rssi, ght, "Bascule", dt.date(2027, 6, 30), done_on=dt.date(2027, 1, 11)
            )
        assert exc.value.message_dict == {
            "done_on": ["La date d'atteinte ne peut pas être dans le futur."]
        }
        m = services.add_milestone(ght_rssi, ght, "Bascule", dt.date(2027, 6, 30))
        with pytest.raises(ValidationError):
            services.mark_milestone_done(ght_rssi, m, dt.date(2027, 2, 1))
        with pytest.raises(ValidationError) as exc:  # milestones belong to a GHT
            services.add_milestone(ght_rssi, org_tree.ej_a, "Bascule", dt.date(2027, 6, 30))
        assert "GHT" in exc.value.messages[0]
    assert ConvergenceMilestone.objects.count() == 1


def test_milestone_permissions(client, org_tree, make_user, ght_rssi, domains):
    ght = org_tree.ght
    m = services.add_milestone(ght_rssi, ght, "Bascule", dt.date(2027, 6, 30))
    reader = make_user("reader", ght)
    ej_rssi = make_user("es_rssi", org_tree.ej_a)  # change right on its EJ, not on the GHT
    other_ght = make_org(org_tree.ars_ara, "ght", "GHT Rhône")
    other_rssi = make_user("ght_rssi", other_ght)

    for user in (reader, ej_rssi, other_rssi):
        with pytest.raises(PermissionDenied):
            services.add_milestone(user, ght, "Intrusion", dt.date(2027, 6, 30))
        with pytest.raises(PermissionDenied):
            services.mark_milestone_done(user, m)
        with pytest.raises(PermissionDenied):
            services.delete_milestone(user, m)

    add = reverse("directory:milestone_add", args=[ght.pk])
    done = reverse("directory:milestone_done", args=[ght.pk, m.pk])
    delete = reverse("directory:milestone_delete", args=[ght.pk, m.pk])
    form = {"title": "Intrusion", "due_date": "2027-06-30"}

    # the reader sees the trajectory, without the form or the buttons, and cannot write
    login(client, reader)
    page = client.get(reverse("directory:convergence", args=[ght.pk])).content.decode()
    assert "Jalons de la trajectoire" in page and "Bascule" in page
    assert "Ajouter un jalon" not in page and "Marquer atteint" not in page
    assert client.post(add, form).status_code == 404
    assert client.post(done).status_code == 404
    assert client.post(delete).status_code == 404
    assert client.get(f"/api/directory/ghts/{ght.pk}/milestones").status_code == 200
    response = client.post(
        f"/api/directory/ghts/{ght.pk}/milestones",
        {"title": "Intrusion", "due_date": "2027-06-30"},
        content_type="application/json",
    )
    assert response.status_code == 403

    # an EJ RSSI and the RSSI of another GHT do not even see the GHT
    for user in (ej_rssi, other_rssi):
        client.logout()
        login(client, user)
        assert client.get(reverse("directory:convergence", args=[ght.pk])).status_code == 404
        assert client.post(add, form).status_code == 404
        assert client.post(done).status_code == 404
        assert client.post(delete).status_code == 404
        assert client.get(f"/api/directory/ghts/{ght.pk}/milestones").status_code == 404
        response = client.post(
            f"/api/directory/ghts/{ght.pk}/milestones",
            {"title": "Intrusion", "due_date": "2027-06-30"},
            content_type="application/json",
        )
        assert response.status_code == 404
    m.refresh_from_db()
    assert m.done_on is None and ConvergenceMilestone.objects.count() == 1


def test_milestones_through_the_pages(client, org_tree, ght_rssi, domains):
    alpha, beta = domains
    ght = org_tree.ght
    url = reverse("directory:convergence", args=[ght.pk])
    with time_machine.travel(JAN_10, tick=False):
        login(client, ght_rssi)  # inside the travel, so that the session has not expired
        page = client.get(url).content.decode()
        assert "Aucun jalon déclaré." in page and "Ajouter un jalon" in page

        # refused: no title; the form is shown again with the error, in French
        response = client.post(
            reverse("directory:milestone_add", args=[ght.pk]), {"due_date": "2027-06-30"}
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert "Jalon refusé : corrigez les champs signalés." in html
        assert "Ce champ est obligatoire." in html

        response = client.post(
            reverse("directory:milestone_add", args=[ght.pk]),
            {
                "title": "Bascule de beta.local",
                "due_date": "2027-06-30",
                "domains": [beta.pk],
                "note": "Après la migration des postes",
            },
        )
        assert response.status_code == 302
        services.add_milestone(ght_rssi, ght, "Approbation", dt.date(2026, 12, 15))
        m = ConvergenceMilestone.objects.get(title="Bascule de beta.local")
        assert list(m.domains.all()) == [beta] and m.created_by == ght_rssi

        page = client.get(url).content.decode()
        assert "Jalon « Bascule de beta.local » ajouté à la trajectoire." in page
        assert "30/06/2027" in page and "15/12/2026" in page
        assert "1 jalon en retard" in page
        assert 'role="img"' in page and "Frise des jalons de la trajectoire" in page
        assert "#ce0500" in page  # the late milestone, in the danger colour
        table = page[page.index("Jalons de la trajectoire de convergence</caption>") :]
        assert table.index("Approbation") < table.index("Bascule de beta.local")  # by due date

        response = client.post(reverse("directory:milestone_done", args=[ght.pk, m.pk]))
        assert response.status_code == 302
        m.refresh_from_db()
        assert m.done_on == dt.date(2027, 1, 10)
        page = client.get(url).content.decode()
        assert "Jalon « Bascule de beta.local » marqué atteint le 10/01/2027." in page

        response = client.post(reverse("directory:milestone_delete", args=[ght.pk, m.pk]))
        assert response.status_code == 302
        assert not ConvergenceMilestone.objects.filter(pk=m.pk).exists()
        assert "Jalon « Bascule de beta.local » supprimé." in client.get(url).content.decode()
        # a GET never writes
        assert client.get(reverse("directory:milestone_add", args=[ght.pk])).status_code == 405


def test_trajectory_evidence_contains_the_milestones(org_tree, ght_rssi, domains):
    alpha, beta = domains
    ght = org_tree.ght
    with time_machine.travel(JAN_10, tick=False):
        services.add_milestone(
            ght_rssi,
            ght,
            "Forêt cible installée",
            dt.date(2026, 11, 1),
            done_on=dt.date(2026, 11, 5),
        )
        services.add_milestone(
            ght_rssi, ght, "Bascule", dt.date(2026, 12, 1), domains=[alpha, beta]
        )
        _progress, trajectory = services.convergence_evidence(ght_rssi, ght)
    revision = trajectory.current
    assert trajectory.item_codes == ["D1.O6.A"]
    assert revision.attributes == {
        "target_forests": ["ght.local"],
        "milestones": 2,
        "late_milestones": 1,
    }
    files = {f.original_name: f for f in revision.files.all()}
    assert set(files) == {"trajectoire-ad-20270110.csv", "jalons-ad-20270110.csv"}
    with files["jalons-ad-20270110.csv"].file.open("rb") as handle:
        lines = handle.read().decode("utf-8").splitlines()
    assert lines == [
        "jalon;échéance;état;atteint le;domaines;commentaire",
        "Forêt cible installée;2026-11-01;atteint;2026-11-05;;",
        "Bascule;2026-12-01;en retard;;alpha.local, beta.local;",
    ]
    with files["trajectoire-ad-20270110.csv"].file.open("rb") as handle:
        assert "alpha.local;ght.local;convergence planifiée" in handle.read().decode("utf-8")


def test_empty_trajectory_is_refused(client, org_tree, ght_rssi):
    ght = org_tree.ght
    services.save_domain(ght_rssi, Domain(organisation=org_tree.ej_a, name="alpha.local"))
    with pytest.raises(ValidationError) as exc:
        services.convergence_evidence(ght_rssi, ght)
    assert "La trajectoire de convergence est vide" in exc.value.messages[0]
    assert not Evidence.objects.filter(organisation=ght).exists()  # nothing filed at all
    login(client, ght_rssi)
    response = client.post(reverse("directory:convergence_evidence", args=[ght.pk]), follow=True)
    assert "La trajectoire de convergence est vide" in response.content.decode()
    # one milestone is enough, even without a target forest
    services.add_milestone(ght_rssi, ght, "Choix de la forêt cible", dt.date(2027, 6, 30))
    services.convergence_evidence(ght_rssi, ght)
    kinds = set(Evidence.objects.filter(organisation=ght).values_list("kind", flat=True))
    assert kinds == {"ad_convergence_progress", "ad_convergence_trajectory"}


def test_milestones_api(client, org_tree, ght_rssi, domains, outside_domain):
    alpha, beta = domains
    ght = org_tree.ght
    url = f"/api/directory/ghts/{ght.pk}/milestones"
    with time_machine.travel(JAN_10, tick=False):
        login(client, ght_rssi)
        response = client.post(
            url,
            {
                "title": "Bascule",
                "due_date": "2027-06-30",
                "domain_ids": [alpha.pk, beta.pk],
                "note": "Par vagues",
            },
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        created = response.json()
        assert created["state"] == "upcoming" and created["domain_ids"] == [alpha.pk, beta.pk]
        assert created["organisation_id"] == ght.pk and created["note"] == "Par vagues"
        response = client.post(
            url,
            {"title": "Approbation", "due_date": "2026-12-01"},
            content_type="application/json",
        )
        assert response.status_code == 201 and response.json()["state"] == "late"

        # refused in French: no title, a domain outside the GHT (unknown to this user)
        response = client.post(
            url, {"title": "", "due_date": "2027-06-30"}, content_type="application/json"
        )
        assert response.status_code == 422
        assert response.json()["errors"] == {"title": ["L'intitulé du jalon est obligatoire."]}
        response = client.post(
            url,
            {"title": "Bascule", "due_date": "2027-06-30", "domain_ids": [outside_domain.pk]},
            content_type="application/json",
        )
        assert response.status_code == 422

        listed = client.get(url).json()["items"]
        assert [(m["title"], m["state"]) for m in listed] == [
            ("Approbation", "late"),
            ("Bascule", "upcoming"),
        ]
        assert listed[1]["due_date"] == "2027-06-30" and listed[1]["done_on"] is None
        assert client.get("/api/directory/ghts/999999/milestones").status_code == 404
