"""The continuity app: campaigns, import/export round trip, the HTMX grid, validation and the
evidence it files, versions, exercises, coverage, and tenant isolation."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from careops.compliance.models import Evidence
from careops.continuity import services
from careops.continuity.engine.example import example_bia
from careops.continuity.engine.report import analyse_workbook
from careops.continuity.engine.workbook import read_workbook, workbook_bytes
from careops.continuity.models import Activity, Campaign, Exercise, Rating, RetexAction
from careops.core.models import AuditEvent
from tests.continuity.conftest import fill_pcra
from tests.continuity.helpers import find_row, normalised, to_bytes

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"continuity:{name}", args=args)


def upload(data: bytes, name="bia.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_round_trip_template_filled_analysed_imported_exported(
    tmp_path, org_tree, make_user, client_for
):
    """template → filled workbook → analyze → app import → export: the same BIA comes back."""
    from django.core.management import call_command

    rssi = make_user("ght_rssi", org_tree.ght)
    template = tmp_path / "vierge.xlsx"
    call_command("bia", "template", str(template))
    wb = load_workbook(template)
    filled = load_workbook(
        io.BytesIO(workbook_bytes(example_bia(org_tree.eg_a1.finess, org_tree.eg_a1.name)))
    )
    for name in wb.sheetnames:  # the user fills the template sheet by sheet
        for row in filled[name].iter_rows(min_row=2, values_only=True):
            if name in (
                "Paramètres",
                "Horizons",
                "Types d'impact",
                "Échelle",
                "Classes de priorité",
                "Lisez-moi",
            ):
                continue
            wb[name].append(list(row))
    path = tmp_path / "rempli.xlsx"
    wb.save(path)
    _, analysis, problems = analyse_workbook(path)
    assert problems == [] and analysis.coverage.met

    client = client_for(rssi)
    response = client.post(
        url("campaign_create"), {"organisation": org_tree.ej_a.pk, "title": "BIA 2026"}
    )
    campaign = Campaign.objects.get(title="BIA 2026")
    assert response.status_code == 302 and campaign.version == 1
    response = client.post(
        url("campaign_import", campaign.pk), {"workbook": upload(path.read_bytes())}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert campaign.activities.count() == 3 and campaign.resources.count() == 8
    assert Rating.objects.filter(activity__campaign=campaign).count() == 3 * 7 * 6

    exported = client.get(url("export_xlsx", campaign.pk))
    assert exported["Content-Type"].startswith("application/vnd.openxmlformats")
    back, problems = read_workbook(io.BytesIO(exported.content))
    original, _ = read_workbook(path)
    assert problems == []
    got, expected = normalised(back), normalised(original)
    got.pop("entities"), expected.pop("entities")  # the app writes the campaign's own entity
    assert got == expected
    assert AuditEvent.objects.filter(action="continuity.campaign.import").exists()


def test_bad_workbook_imports_nothing_and_lists_every_error(scene, client_for):
    campaign = scene.campaign
    before = (
        campaign.activities.count(),
        Rating.objects.filter(activity__campaign=campaign).count(),
    )
    wb = load_workbook(io.BytesIO(workbook_bytes(example_bia(scene.tree.ej_a.finess))))
    row = find_row(wb["Activités"], "URG")
    wb["Activités"][f"G{row}"] = "deux heures"
    wb["Dépendances"].append(["URG", "PACS"])
    wb["Activités"].append(["NEW", "Nouvelle activité", "Service de soins"])
    client = client_for(scene.ght_rssi)
    response = client.post(url("campaign_import", campaign.pk), {"workbook": upload(to_bytes(wb))})
    page = response.content.decode()
    assert response.status_code == 400
    assert "2 erreurs : rien n'a été importé." in page
    assert f"Activités, ligne {row}, colonne G « RTO (heures) » : nombre attendu" in page
    assert "ressource « PACS » inconnue" in page
    outside = load_workbook(io.BytesIO(workbook_bytes(example_bia(scene.tree.ej_b.finess))))
    response = client.post(
        url("campaign_import", campaign.pk), {"workbook": upload(to_bytes(outside))}
    )
    assert (
        f"Activités, ligne 2, colonne D « Entité » : FINESS « {scene.tree.ej_b.finess} » hors de"
        in (response.content.decode())
    )
    assert not campaign.activities.filter(code="NEW").exists()
    assert (
        campaign.activities.count(),
        Rating.objects.filter(activity__campaign=campaign).count(),
    ) == before
    response = client.post(url("campaign_import", campaign.pk), {"workbook": upload(b"not a zip")})
    assert response.status_code == 400 and "illisible" in response.content.decode()


def test_grid_cell_is_saved_in_place_and_the_summary_refreshed(scene, client_for):
    activity = scene.campaign.activities.get(code="PAIE")
    client = client_for(scene.ght_rssi)
    page = client.get(url("activity", scene.campaign.pk, activity.pk)).content.decode()
    assert 'hx-post="' + url("rate", scene.campaign.pk, activity.pk) in page
    assert 'aria-label="Financier, 24 h"' in page
    # PAIE: financial [0,0,1,2,3,4] → DMIA 7 days; rating it 3 at 24 h (and after) brings it to 24 h
    for index in (2, 3):
        response = client.post(
            url("rate", scene.campaign.pk, activity.pk),
            {"impact": "financial", "horizon": str(index), f"cell__financial__{index}": "3"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
    fragment = response.content.decode()
    assert 'id="activity-summary"' in fragment and '<span id="dmia">1 j</span>' in fragment
    assert '<span id="priority">P2</span>' in fragment
    assert Rating.objects.get(activity=activity, impact_type="financial", horizon="24 h").level == 3
    # a non-monotone cell is saved but flagged
    response = client.post(
        url("rate", scene.campaign.pk, activity.pk),
        {"impact": "financial", "horizon": "4", "cell__financial__4": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert "Cotations non croissantes" in response.content.decode()
    bad = client.post(
        url("rate", scene.campaign.pk, activity.pk),
        {"impact": "financial", "horizon": "0", "cell__financial__0": "9"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 400 and "Niveau de 0 à 4" in bad.content.decode()
    cleared = client.post(
        url("rate", scene.campaign.pk, activity.pk),
        {"impact": "financial", "horizon": "0", "cell__financial__0": ""},
    )
    assert cleared.status_code == 302
    assert not Rating.objects.filter(
        activity=activity, impact_type="financial", horizon="1 h"
    ).exists()


def test_validation_is_blocked_until_complete_then_files_evidence(scene, client_for):
    campaign = scene.campaign
    client = client_for(scene.ght_rssi)
    page = client.get(url("campaign", campaign.pk)).content.decode()
    assert "4 points bloquent la validation" in page
    response = client.post(url("campaign_validate", campaign.pk), follow=True)
    assert "PCRA : la cellule de crise n&#x27;a aucun membre" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.is_draft
    fill_pcra(campaign)
    page = client.get(url("campaign", campaign.pk)).content.decode()
    assert "la version peut être validée" in page
    response = client.post(url("campaign_validate", campaign.pk))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "validated" and campaign.validated_by == scene.ght_rssi
    evidence = {e.kind: e for e in Evidence.objects.filter(organisation=scene.tree.ej_a)}
    assert set(evidence) == {
        "bia",
        "pcra",
        "continuity_governance",
        "governance_minutes",
        "white_plan",
        "crisis_reporting_procedure",
    }
    bia = evidence["bia"].revisions.get()
    assert bia.attributes["perimeters"] == [
        "care_service_major_impact",
        "critical_admin_process",
        "technical_platform",
    ]
    assert evidence["bia"].item_codes == ["D2.O1.C"] and evidence["bia"].source == "continuity"
    assert bia.files.get().original_name == "bia-v1.xlsx"
    assert evidence["pcra"].revisions.get().files.get().original_name == "pcra-v1.docx"
    assert evidence["governance_minutes"].revisions.get().validated_by == "management_body"
    assert evidence["continuity_governance"].item_codes == ["D2.O1.A"]
    assert evidence["white_plan"].item_codes == ["D2.O1.B"]
    # a validated version is read-only; a new version is a draft copy, and validating it
    # archives the previous one
    activity = campaign.activities.first()
    response = client.post(
        url("rate", campaign.pk, activity.pk),
        {"impact": "financial", "horizon": "0", "cell__financial__0": "1"},
    )
    assert response.status_code == 400
    assert client.get(url("child_add", campaign.pk, "activite")).status_code == 403
    client.post(url("campaign_new_version", campaign.pk))
    v2 = Campaign.objects.get(organisation=scene.tree.ej_a, version=2)
    assert v2.is_draft and v2.activities.count() == 3 and v2.crisis_roles.count() == 1
    assert Rating.objects.filter(activity__campaign=v2).count() == 126
    assert v2.dependencies.count() == campaign.dependencies.count()
    client.post(url("campaign_validate", v2.pk))
    campaign.refresh_from_db()
    v2.refresh_from_db()
    assert (campaign.status, v2.status) == ("archived", "validated")


def test_contributor_edits_but_cannot_validate(scene, client_for):
    fill_pcra(scene.campaign)
    client = client_for(scene.contributor)
    response = client.post(
        url("child_add", scene.campaign.pk, "ressource"),
        {"code": "PACS", "name": "Imagerie", "kind": "application"},
    )
    assert response.status_code == 302
    assert client.post(url("campaign_validate", scene.campaign.pk)).status_code == 404
    duplicate = client.post(
        url("child_add", scene.campaign.pk, "ressource"),
        {"code": "URG", "name": "doublon", "kind": "application"},
    )
    assert "Ce code est déjà utilisé" in duplicate.content.decode()


def test_dependency_forms_and_mandatory_scenario(scene, client_for):
    campaign = scene.campaign
    client = client_for(scene.ght_rssi)
    dpi = campaign.resources.get(code="DPI")
    response = client.post(
        url("child_add", campaign.pk, "dependance"),
        {"source": "URG", "target": dpi.pk, "hard": "on"},
    )
    assert "Cette dépendance existe déjà." in response.content.decode()
    response = client.post(
        url("child_add", campaign.pk, "dependance"),
        {"source": "RESEAU", "target": campaign.resources.get(code="DPI").pk},
    )
    assert response.status_code == 302
    page = client.get(url("campaign", campaign.pk)).content.decode()
    assert (
        "Cycle de dépendances" in page
        and "<svg" in page
        and 'aria-labelledby="graph-title graph-desc"' in page
    )
    assert "Chronologie de reprise informatique" in page
    si = campaign.scenarios.get(kind="si_unavailable")
    client.post(url("child_delete", campaign.pk, "scenario", si.pk))
    assert campaign.scenarios.filter(kind="si_unavailable").exists()


def test_exercise_with_retex_is_filed_for_d2_o1_d(scene, client_for):
    campaign = scene.campaign
    client = client_for(scene.ght_rssi)
    si = campaign.scenarios.get(kind="si_unavailable")
    response = client.post(
        url("child_add", campaign.pk, "exercice"),
        {
            "held_on": "2025-11-20",
            "kind": "field",
            "scenario": si.pk,
            "perimeter": "Urgences",
            "retex": "Les fiches papier manquaient à l'accueil.",
        },
    )
    assert response.status_code == 302
    exercise = Exercise.objects.get(campaign=campaign)
    assert services.exercise_problems(exercise) == [
        "le plan d'amélioration (actions RETEX) est vide"
    ]
    client.post(
        url("child_add", campaign.pk, "action"),
        {
            "exercise": exercise.pk,
            "description": "Pré-positionner 200 fiches",
            "owner": "Cadre des urgences",
            "due_on": "2026-01-31",
            "status": "open",
        },
    )
    assert RetexAction.objects.filter(exercise=exercise).count() == 1
    client.post(url("exercise_evidence", campaign.pk, exercise.pk))
    exercise.refresh_from_db()
    revision = exercise.evidence.revisions.get()
    assert exercise.evidence.kind == "pca_exercise" and exercise.evidence.item_codes == ["D2.O1.D"]
    assert revision.effective_date == dt.date(2025, 11, 20)
    assert revision.attributes["scenario"] == "SI indisponible" and revision.attributes["retex"]


def test_ght_coverage_with_stored_and_chosen_units(scene, client_for):
    fill_pcra(scene.campaign)
    services.validate_campaign(scene.ght_rssi, scene.campaign)
    si = scene.campaign.scenarios.get(kind="si_unavailable")
    Exercise.objects.create(
        campaign=scene.campaign,
        held_on=dt.date(2025, 10, 1),
        kind="field",
        scenario=si,
        perimeter="Urgences",
    )
    client = client_for(scene.ght_rssi)
    page = client.get(url("coverage", scene.tree.ght.pk)).content.decode()
    assert page.count('aria-valuenow="70"') == 2  # CH Alpha: 700 of 1000
    assert page.count("seuil de 66 % atteint") == 2
    page = client.get(
        url("coverage", scene.tree.ght.pk),
        {"unite": "lits", f"poids_{scene.tree.ej_a.pk}": "50", f"poids_{scene.tree.ej_b.pk}": "50"},
    ).content.decode()
    assert 'aria-valuenow="50"' in page and "seuil de 66 % non atteint" in page and "(lits)" in page
    result = services.candidate_coverage(scene.tree.ght)
    assert result["bia"].covered == [scene.tree.ej_a.finess]


def test_pcra_exports_word_and_pdf(scene, client_for):
    fill_pcra(scene.campaign)
    client = client_for(scene.reader)
    docx = client.get(url("export_docx", scene.campaign.pk))
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "SI indisponible" in text and "Vague 0 — socle de confiance" in text
    pdf = client.get(url("export_pdf", scene.campaign.pk))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "name,args",
    [
        ("campaign", ()),
        ("campaign_edit", ()),
        ("campaign_import", ()),
        ("export_xlsx", ()),
        ("export_docx", ()),
        ("activity", ("activity",)),
        ("child_add", ("activite",)),
    ],
)
def test_other_tenants_get_404(scene, client_for, name, args):
    activity = scene.campaign.activities.first()
    resolved = [activity.pk if a == "activity" else a for a in args]
    for user in (scene.outsider, scene.es_rssi):
        response = client_for(user).get(url(name, scene.campaign.pk, *resolved))
        assert response.status_code == 404, (user, name)


def test_other_tenants_cannot_write(scene, client_for):
    activity = scene.campaign.activities.get(code="URG")
    client = client_for(scene.outsider)
    cell = {"impact": "patient_care", "horizon": "0", "cell__patient_care__0": "0"}
    assert client.post(url("rate", scene.campaign.pk, activity.pk), cell).status_code == 404
    assert client.post(url("campaign_validate", scene.campaign.pk)).status_code == 404
    assert client.post(url("campaign_new_version", scene.campaign.pk)).status_code == 404
    assert (
        client.post(url("child_delete", scene.campaign.pk, "activite", activity.pk)).status_code
        == 404
    )
    assert Activity.objects.filter(pk=activity.pk).exists()
    # a reader sees but cannot write
    reader = client_for(scene.reader)
    assert reader.get(url("campaign", scene.campaign.pk)).status_code == 200
    assert reader.post(url("rate", scene.campaign.pk, activity.pk), cell).status_code == 404
    assert client_for(scene.outsider).get(url("coverage", scene.tree.ght.pk)).status_code == 404


def test_index_lists_only_campaigns_in_scope(scene, client_for, make_user):
    other = services.create_campaign(scene.outsider, scene.tree.ej_other, "BIA Clinique")
    page = client_for(scene.ght_rssi).get(url("index")).content.decode()
    assert "BIA du CH Alpha" in page and "BIA Clinique" not in page
    page = client_for(scene.outsider).get(url("index")).content.decode()
    assert "BIA Clinique" in page and "BIA du CH Alpha" not in page
    assert other.scenarios.filter(kind="si_unavailable").count() == 1


def test_api_lists_and_analyses_in_scope(scene, client_for):
    client = client_for(scene.ght_rssi)
    listed = client.get("/api/continuity/campaigns").json()["items"]
    assert [c["id"] for c in listed] == [scene.campaign.pk]
    data = client.get(f"/api/continuity/campaigns/{scene.campaign.pk}/analysis").json()
    assert data["waves"][0]["label"] == "Vague 0 — socle de confiance"
    assert "la cellule de crise n'a aucun membre" in data["pcra_problems"]
    outsider = client_for(scene.outsider)
    assert (
        outsider.get(f"/api/continuity/campaigns/{scene.campaign.pk}/analysis").status_code == 404
    )
    assert outsider.get("/api/continuity/campaigns").json() == {"items": [], "count": 0}


def test_pcra_form_scenario_and_procedure_pages(scene, client_for):
    campaign = scene.campaign
    client = client_for(scene.ght_rssi)
    assert client.get(url("campaign_edit", campaign.pk)).status_code == 200
    response = client.post(
        url("campaign_edit", campaign.pk),
        {
            "title": campaign.title,
            "white_plan_link": "Volet numérique du plan blanc, annexe 4.",
            "activation_criteria": "SI indisponible plus de 2 h",
        },
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.white_plan_link.startswith("Volet numérique")
    response = client.post(
        url("child_add", campaign.pk, "scenario"),
        {"kind": "supplier_unavailable", "title": "Fournisseur de réactifs défaillant"},
    )
    assert response.status_code == 302
    si = campaign.scenarios.get(kind="si_unavailable")
    response = client.post(
        url("child_add", campaign.pk, "procedure"),
        {
            "kind": "degraded_mode",
            "title": "Urgences sur papier",
            "scenario": si.pk,
            "activity": campaign.activities.get(code="URG").pk,
        },
    )
    assert response.status_code == 302
    response = client.post(
        url("child_edit", campaign.pk, "scenario", si.pk),
        {"kind": "si_unavailable", "title": "SI indisponible", "strategy": "Papier puis reprise."},
    )
    assert response.status_code == 302
    page = client.get(url("campaign", campaign.pk)).content.decode()
    assert "Fournisseur de réactifs défaillant" in page and "Urgences sur papier" in page
    assert "l&#x27;articulation avec le plan blanc" not in page
    grid = client.get(url("activity", campaign.pk, campaign.activities.get(code="URG").pk))
    assert "suggestion d'après l'impact sur les données" in grid.content.decode()


def test_validated_campaign_and_field_exercise_meet_d2_o1_c_and_d_for_the_ght(scene):
    """The evidence filed by the app is what the referential's criteria read: CH Alpha holds
    700 of the GHT's 1000, so one validated BIA+PCRA and one field exercise reach 66 %."""
    from careops.compliance import services as compliance
    from tests.web.helpers import load_d2

    assessment = compliance.open_assessment(None, scene.tree.ght, load_d2(), dt.date(2025, 10, 1))
    statuses = lambda: {s.item_code: s for s in assessment.statuses.all()}  # noqa: E731
    assert statuses()["D2.O1.C"].status != "met"
    fill_pcra(scene.campaign)
    services.validate_campaign(scene.ght_rssi, scene.campaign)
    status = statuses()["D2.O1.C"]
    assert status.status == "met", status.reasons
    si = scene.campaign.scenarios.get(kind="si_unavailable")
    exercise = Exercise.objects.create(
        campaign=scene.campaign,
        held_on=dt.date(2025, 11, 20),
        kind="field",
        scenario=si,
        perimeter="Urgences",
        retex="Fiches papier insuffisantes.",
    )
    RetexAction.objects.create(
        exercise=exercise, description="Stock de fiches", owner="Cadre", due_on=dt.date(2026, 1, 31)
    )
    services.file_exercise_evidence(scene.ght_rssi, exercise)
    status = statuses()["D2.O1.D"]
    assert status.status == "met", status.reasons
    assert statuses()["D2.O1.A"].status == "met", statuses()["D2.O1.A"].reasons


def test_delete_asks_for_confirmation_then_says_what_was_deleted(scene, client_for):
    from careops.core.models import AuditEvent

    campaign = scene.campaign
    activity = campaign.activities.get(code="URG")
    client = client_for(scene.ght_rssi)
    first = client.post(url("child_delete", campaign.pk, "activite", activity.pk))
    page = first.content.decode()
    assert first.status_code == 200
    assert "Confirmer la suppression" in page and "URG" in page and 'name="confirm"' in page
    assert Activity.objects.filter(pk=activity.pk).exists()
    done = client.post(
        url("child_delete", campaign.pk, "activite", activity.pk), {"confirm": "1"}, follow=True
    )
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert "supprimé(e)" in done.content.decode()
    assert AuditEvent.objects.filter(action="continuity.activite.delete").exists()


def test_a_workbook_with_a_row_beyond_excel_s_last_is_refused_and_keeps_the_bia(
    scene, client_for, caplog
):
    """A row numbered 2,000,000,000 was a 500 after seconds of work: it is refused in French,
    naming the sheet and the row, and the campaign's BIA stays as it was."""
    from tests.security.test_hostile_tables import inline_row, patched_workbook

    campaign = scene.campaign
    before = sorted(campaign.activities.values_list("code", flat=True))
    data = patched_workbook(
        workbook_bytes(example_bia(scene.tree.ej_a.finess)),
        "sheet8",  # « Activités »
        inline_row(2_000_000_000, {"A": "NEW", "B": "Nouvelle activité"}),
    )
    client = client_for(scene.ght_rssi)
    response = client.post(url("campaign_import", campaign.pk), {"workbook": upload(data)})
    assert response.status_code == 400
    assert (
        "Feuille « Activités » : ligne 1048577 au-delà de la dernière ligne d&#x27;Excel"
        in response.content.decode()
    )
    assert sorted(campaign.activities.values_list("code", flat=True)) == before
    assert "ligne 1048577 au-delà" in caplog.text  # and in the logs
