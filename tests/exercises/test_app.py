"""Crisis exercises in the web app: plan → run live → grid → RETEX → D1.O3 evidence, the PDF file
of the exercise with the timeline as played, RETEX actions on the cockpit, the link with a PCA
exercise in Continuité, and isolation between two organisations."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from careops.compliance.models import Evidence
from careops.exercises import services
from careops.exercises.models import EntryKind, Exercise, LogEntry
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.ej_a)


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def plan_in_browserless_client(client, org, scenario="rancongiciel-dpi") -> Exercise:
    response = client.post(
        reverse("exercises:index"),
        {
            "organisation": org.pk,
            "scenario": scenario,
            "planned_for": "2026-03-12T09:00",
            "location": "Salle de crise, bâtiment A",
        },
    )
    exercise = Exercise.objects.latest("pk")
    assert response["Location"] == reverse("exercises:detail", args=[exercise.pk])
    return exercise


def test_plan_run_retex_evidence_pdf_and_cockpit(client, org_tree, rssi, make_user):
    login(client, rssi)
    exercise = plan_in_browserless_client(client, org_tree.ej_a)
    assert exercise.injects.count() == 9 and exercise.scenario_version == "1"
    assert exercise.title == "Rançongiciel sur le dossier patient informatisé — 12/03/2026"
    detail = reverse("exercises:detail", args=[exercise.pk])
    client.post(
        reverse("exercises:participant_add", args=[exercise.pk]),
        {
            "p-kind": "player",
            "p-role": "Directeur de crise",
            "p-name": "Mme Durand",
            "p-function": "Directrice générale adjointe",
        },
    )
    client.post(
        reverse("exercises:participant_add", args=[exercise.pk]),
        {"p-kind": "observer", "p-role": "", "p-name": "M. Petit", "p-function": "Qualité"},
    )
    assert list(exercise.participants.values_list("name", "role")) == [
        ("Mme Durand", "Directeur de crise"),
        ("M. Petit", ""),
    ]
    # adapt an inject to the establishment before the start
    first = exercise.injects.get(code="I1")
    client.post(
        reverse("exercises:inject_edit", args=[exercise.pk, first.pk]),
        {
            "code": "I1",
            "offset_minutes": 0,
            "channel": "telephone",
            "sender": "IDE de nuit, médecine B",
            "recipients": "DSI",
            "content": "Le DPI ne répond plus en médecine B.",
            "expected": "Astreinte prévenue",
        },
    )
    first.refresh_from_db()
    assert first.sender == "IDE de nuit, médecine B"
    # nothing is delivered or logged before the start
    client.post(reverse("exercises:deliver", args=[exercise.pk, first.pk]))
    first.refresh_from_db()
    assert first.delivered_at is None

    clock = reverse("exercises:clock", args=[exercise.pk])
    client.post(clock, {"move": "start"})
    client.post(reverse("exercises:deliver", args=[exercise.pk, first.pk]), HTTP_HX_REQUEST="true")
    first.refresh_from_db()
    delivered = first.delivered_at
    assert delivered is not None and first.delivered_by == rssi
    client.post(reverse("exercises:deliver", args=[exercise.pk, first.pk]))  # a second click
    first.refresh_from_db()
    assert first.delivered_at == delivered  # keeps the first timestamp
    fragment = client.post(
        reverse("exercises:log_add", args=[exercise.pk]),
        {"kind": "decision", "text": "Coupure de la connexion internet décidée"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'id="timeline"' in fragment and "Coupure de la connexion internet décidée" in fragment
    assert 'hx-swap-oob="true"' in fragment  # a fresh entry form
    client.post(clock, {"move": "pause"})
    client.post(
        reverse("exercises:log_add", args=[exercise.pk]),
        {"kind": "event", "text": "Appel de l'ARS"},
    )
    client.post(clock, {"move": "resume"})
    # a refresh shows everything (every entry is saved the moment it is typed)
    page = client.get(reverse("exercises:live", args=[exercise.pk])).content.decode()
    assert "Appel de l&#x27;ARS" in page and "délivré" in page
    assert list(LogEntry.objects.filter(exercise=exercise).values_list("kind", flat=True)) == [
        "clock",
        "inject",
        "decision",
        "clock",
        "event",
        "clock",
    ]
    # the RETEX cannot start while the exercise runs
    client.post(
        reverse("exercises:retex", args=[exercise.pk]), {"what": "summary", "s-summary": "trop tôt"}
    )
    exercise.refresh_from_db()
    assert exercise.retex_summary == ""
    # an observer's grid
    grid = reverse("exercises:grid", args=[exercise.pk])
    saved = client.post(
        grid,
        {"v_G1": "3", "c_G1": "Cellule armée en 40 min", "v_G2": "4", "v_G3": ""},
        follow=True,
    ).content.decode()
    # what was rated and what was left « non observé » (not « 6 critère(s) enregistré(s) »)
    assert "Votre grille est enregistrée : 2 critère(s) noté(s), 4 non observé(s)." in saved
    # ending cannot be undone: a confirmation first, the clock still running
    asked = client.post(clock, {"move": "end"}).content.decode()
    exercise.refresh_from_db()
    assert exercise.status == "running" and "Terminer l'exercice ?" in asked
    assert "8 injects n'ont pas été délivrés." in asked and "Pause" in asked
    client.post(clock, {"move": "end", "confirm": "1"})
    exercise.refresh_from_db()
    assert exercise.status == "ended" and exercise.ended_at is not None

    retex = reverse("exercises:retex", args=[exercise.pk])
    refused = client.post(retex, {"what": "validate"}, follow=True).content.decode()
    assert (
        "RETEX non validé" in refused and "la synthèse du RETEX n&#x27;est pas rédigée" in refused
    )
    client.post(retex, {"what": "summary", "s-summary": "Cellule armée vite ; mode dégradé lent."})
    client.post(
        retex,
        {
            "what": "finding",
            "f-kind": "weakness",
            "f-text": "Fiches papier introuvables aux urgences",
        },
    )
    overdue = timezone.localdate() - dt.timedelta(days=3)
    client.post(
        retex,
        {
            "what": "action",
            "a-description": "Imprimer les kits papier des urgences",
            "a-owner": "Cadre des urgences",
            "a-due_on": overdue.isoformat(),
        },
    )
    client.post(
        retex,
        {
            "what": "action",
            "a-description": "Annuaire de crise hors SI",
            "a-owner": "DSI",
            "a-due_on": "2099-01-31",
        },
    )
    assert exercise.actions.count() == 2

    # open actions on the cockpit, the overdue one first and marked
    home = client.get(reverse("core:home")).content.decode()
    assert "Actions RETEX des exercices de crise" in home
    assert home.index("Imprimer les kits papier des urgences") < home.index(
        "Annuaire de crise hors SI"
    )
    assert f"en retard depuis le {overdue:%d/%m/%Y}" in home

    client.post(retex, {"what": "validate"})
    exercise.refresh_from_db()
    assert exercise.status == "validated"
    evidence = Evidence.objects.get(pk=exercise.evidence_id)
    assert (evidence.kind, evidence.item_codes, evidence.source) == (
        "crisis_exercise",
        ["D1.O3", "D1BIS.O3"],
        "exercises",
    )
    attributes = evidence.revisions.get().attributes
    assert attributes["injects_delivered"] == 1 and attributes["decisions"] == 1
    assert attributes["grid_score"] == pytest.approx((3 + 4) / 2 / 4)
    # frozen: no more entries, actions still followed
    client.post(
        reverse("exercises:log_add", args=[exercise.pk]), {"kind": "event", "text": "après coup"}
    )
    assert not LogEntry.objects.filter(text="après coup").exists()
    done = exercise.actions.get(owner="DSI")
    client.post(reverse("exercises:action_status", args=[exercise.pk, done.pk]), {"status": "done"})
    home = client.get(reverse("core:home")).content.decode()
    assert "Annuaire de crise hors SI" not in home and "Imprimer les kits papier" in home

    # the exercise file as PDF: scenario, participants, timeline as played, decisions, grid, actions
    response = client.get(reverse("exercises:file_pdf", args=[exercise.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = " ".join(pdf_text(response.content).split())
    assert "Chronologie jouée" in text
    assert f"{timezone.localtime(delivered):%d/%m/%Y %H:%M:%S}" in text  # I1 as delivered
    assert "IDE de nuit, médecine B" in text and "non délivré" in text
    for expected in (
        "Mme Durand",
        "Coupure de la connexion internet décidée",
        "Cellule armée en 40 min",
        "Imprimer les kits papier des urgences",
        "Rançongiciel sur le dossier patient informatisé",
    ):
        assert expected in text, expected
    assert client.get(detail).status_code == 200


def test_isolation_between_two_organisations(client, org_tree, rssi, make_user):
    exercise = services.plan(rssi, org_tree.ej_a, "fuite-donnees", timezone.now())
    inject = exercise.injects.first()
    outsider = make_user("es_rssi", org_tree.ej_other)
    login(client, outsider)
    for name in (
        "exercises:detail",
        "exercises:live",
        "exercises:grid",
        "exercises:retex",
        "exercises:file_pdf",
    ):
        assert client.get(reverse(name, args=[exercise.pk])).status_code == 404, name
    assert (
        client.post(reverse("exercises:clock", args=[exercise.pk]), {"move": "start"}).status_code
        == 404
    )
    assert (
        client.post(reverse("exercises:deliver", args=[exercise.pk, inject.pk])).status_code == 404
    )
    assert (
        client.post(
            reverse("exercises:log_add", args=[exercise.pk]), {"kind": "event", "text": "x"}
        ).status_code
        == 404
    )
    index = client.get(reverse("exercises:index")).content.decode()
    assert exercise.title not in index
    # planning for someone else's organisation is refused by the form (not in the list)
    client.post(
        reverse("exercises:index"),
        {
            "organisation": org_tree.ej_a.pk,
            "scenario": "fuite-donnees",
            "planned_for": "2026-03-12T09:00",
        },
    )
    assert Exercise.objects.count() == 1
    # RETEX actions of the other organisation never reach this cockpit
    exercise = services.move_clock(rssi, exercise, "start")
    services.deliver(rssi, exercise, inject)
    exercise = services.move_clock(rssi, exercise, "end")
    from careops.exercises.models import RetexAction

    services.add_action(
        rssi,
        exercise,
        RetexAction(description="Action confidentielle", owner="DSI", due_on=dt.date(2026, 1, 1)),
    )
    assert "Action confidentielle" not in client.get(reverse("core:home")).content.decode()
    # a reader of the organisation sees but cannot act
    reader = make_user("reader", org_tree.ej_a)
    client.logout()
    login(client, reader)
    assert client.get(reverse("exercises:live", args=[exercise.pk])).status_code == 200
    assert (
        client.post(
            reverse("exercises:retex", args=[exercise.pk]), {"what": "validate"}
        ).status_code
        == 404
    )
    assert "Action confidentielle" in client.get(reverse("core:home")).content.decode()


def test_same_event_as_a_pca_field_exercise_in_continuity(client, org_tree, rssi):
    from careops.continuity.models import Campaign
    from careops.continuity.models import Exercise as PcaExercise

    campaign = Campaign.objects.create(organisation=org_tree.ej_a, title="BIA 2026")
    other = Campaign.objects.create(organisation=org_tree.ej_b, title="BIA Bêta")
    foreign = PcaExercise.objects.create(
        campaign=other, held_on=dt.date(2026, 3, 12), kind="field", perimeter="Bêta"
    )
    exercise = services.plan(rssi, org_tree.ej_a, "perte-active-directory", timezone.now())
    login(client, rssi)
    link = reverse("exercises:link", args=[exercise.pk])
    client.post(link, {"l-pca_exercise": str(foreign.pk)})  # another organisation's exercise
    exercise.refresh_from_db()
    assert exercise.continuity_exercise is None
    # record it in Continuité once it is played: one entry, shown on both sides
    exercise = services.move_clock(rssi, exercise, "start")
    services.deliver(rssi, exercise, exercise.injects.first())
    services.log(rssi, exercise, EntryKind.DECISION, "Reconstruction d'une forêt propre")
    exercise = services.move_clock(rssi, exercise, "end")
    services.save_summary(rssi, exercise, "Dépendances à l'annuaire mal connues.")
    from careops.exercises.models import RetexAction

    services.add_action(
        rssi,
        exercise,
        RetexAction(
            description="Cartographier les dépendances AD", owner="DSI", due_on=dt.date(2026, 6, 30)
        ),
    )
    client.post(link, {"what": "record", "r-campaign": str(campaign.pk)})
    exercise.refresh_from_db()
    pca = exercise.continuity_exercise
    assert pca is not None and pca.campaign == campaign and pca.kind == "field"
    assert pca.retex == "Dépendances à l'annuaire mal connues."
    assert "Décision : Reconstruction d'une forêt propre" in pca.results
    assert list(pca.actions.values_list("description", flat=True)) == [
        "Cartographier les dépendances AD"
    ]
    continuity_page = client.get(
        reverse("continuity:campaign", args=[campaign.pk])
    ).content.decode()
    assert "Même événement que l'exercice de crise" in continuity_page
    assert reverse("exercises:detail", args=[exercise.pk]) in continuity_page
    detail = client.get(reverse("exercises:detail", args=[exercise.pk])).content.decode()
    assert "Même événement que l'exercice de PCA" in detail
    # unlink, then link the existing PCA exercise instead
    client.post(link, {"l-pca_exercise": ""})
    exercise.refresh_from_db()
    assert exercise.continuity_exercise is None
    client.post(link, {"l-pca_exercise": str(pca.pk)})
    exercise.refresh_from_db()
    assert exercise.continuity_exercise == pca


def test_injects_show_their_channel_in_french(client, org_tree, rssi):
    """The timeline showed channel identifiers (« telephone », « systeme »)."""
    login(client, rssi)
    exercise = plan_in_browserless_client(client, org_tree.ej_a)
    detail = client.get(reverse("exercises:detail", args=[exercise.pk])).content.decode()
    assert "<td>constat sur le SI</td>" in detail and "<td>téléphone</td>" in detail
    assert "<td>systeme</td>" not in detail and "<td>telephone</td>" not in detail
    live = client.get(reverse("exercises:live", args=[exercise.pk])).content.decode()
    assert "(téléphone)" in live and "(telephone)" not in live


def test_a_planned_date_far_off_is_refused_in_french(client, org_tree, rssi):
    """Year 9999 (or 1900) used to be accepted and made a nonsense exercise and evidence date."""
    login(client, rssi)
    for when in ("9999-12-31T09:00", "1900-01-01T09:00"):
        response = client.post(
            reverse("exercises:index"),
            {
                "organisation": org_tree.ej_a.pk,
                "scenario": "rancongiciel-dpi",
                "planned_for": when,
                "title": "",
                "location": "",
            },
        )
        assert response.status_code == 200
        assert "La date prévue doit être comprise entre le" in response.content.decode()
    api = client.post(
        "/api/exercises",
        {
            "organisation": org_tree.ej_a.pk,
            "scenario": "rancongiciel-dpi",
            "planned_for": "9999-12-31T23:59:59+14:00",
        },
        content_type="application/json",
    )
    assert api.status_code in (400, 422)
    assert "La date prévue doit être comprise" in api.json()["detail"]
    assert not Exercise.objects.exists()
