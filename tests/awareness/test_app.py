"""Awareness in the web app, with the shipped example files: a training campaign with two sessions
(a Windows-1252 sign-in sheet, a UTF-8 LMS export), headcounts imported, shares per structure and
profession rolled up at the GHT, exports, closing into evidence; GoPhish exports imported as counts
only; isolation between organisations; failed imports save nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careops.awareness import services
from careops.awareness.models import Attendance, PhishingCampaign, StaffHeadcount, TrainingCampaign
from careops.compliance.models import Evidence
from tests.awareness.test_engine import HEADCOUNT, LMS, MARCH, OCTOBER, SHEET
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


@pytest.fixture
def ght_rssi(org_tree, make_user):
    return make_user("ght_rssi", org_tree.ght)


@pytest.fixture
def trained(client, org_tree, ght_rssi):
    """A GHT campaign with both example sheets imported and the example headcounts."""
    login(client, ght_rssi)
    response = client.post(
        reverse("awareness:index"),
        {
            "organisation": org_tree.ght.pk,
            "title": "Cyber-hygiène 2026",
            "audience_professions": "",
            "audience_services": "Urgences, Bloc",
            "starts_on": "2026-01-01",
            "ends_on": "2026-11-30",
        },
    )
    campaign = TrainingCampaign.objects.get()
    url = reverse("awareness:campaign", args=[campaign.pk])
    assert response["Location"] == url
    client.post(url, {"date": "2026-03-12", "trainer": "RSSI", "format": "presentiel"})
    client.post(url, {"date": "2026-06-01", "format": "e_learning", "topic": "LMS"})
    first, second = campaign.sessions.order_by("date")
    for session, path in ((first, SHEET), (second, LMS)):
        response = client.post(
            reverse("awareness:import_sheet", args=[campaign.pk, session.pk]),
            {"sheet": upload(path)},
        )
        assert response.status_code == 302, response.content.decode()[-2000:]
    response = client.post(
        reverse("awareness:headcounts"),
        {
            "form": "import",
            "import-organisation": org_tree.ght.pk,
            "import-sheet": upload(HEADCOUNT),
        },
    )
    assert response.status_code == 302
    return campaign


def test_campaign_sheets_headcounts_shares_export_and_evidence(client, org_tree, trained):
    campaign = trained
    assert Attendance.objects.count() == 12
    assert set(Attendance.objects.values_list("structure__name", flat=True)) == {
        "CH Alpha",
        "CH Bêta",
    }
    assert (
        StaffHeadcount.objects.get(organisation=org_tree.ej_a, profession="Infirmier").headcount
        == 10
    )
    page = client.get(reverse("awareness:campaign", args=[campaign.pk])).content.decode()
    # the campaign's share: Hugo (01/10/2025) is outside the campaign's dates
    assert "18,2 %" in page and "20 %" in page and "absent ou non terminé" in page
    report = services.campaign_report(campaign.created_by, campaign)
    assert (report.total.trained, report.total.headcount) == (6, 30)
    # shares over 12 months ending 30/11/2026, at the GHT: the roll-up of its two hospitals
    query = {"organisation": org_tree.ght.pk, "end": "2026-11-30", "months": 12}
    page = client.get(reverse("awareness:shares"), query).content.decode()
    assert "du 01/12/2025 au 30/11/2026" in page
    assert "20 % du personnel formé (6 personne(s) sur 30)" in page
    pooled = services.report_over(
        campaign.created_by, [org_tree.ej_b, org_tree.esms], dt.date(2026, 11, 30)
    )  # a pool of members from several branches: their structures counted together
    assert (pooled.total.trained, pooled.total.headcount) == (2, 8)
    one = client.get(reverse("awareness:shares"), {**query, "organisation": org_tree.ej_b.pk})
    assert "25 % du personnel formé (2 personne(s) sur 8)" in one.content.decode()
    exported = client.get(reverse("awareness:shares_export", args=["csv"]), query)
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Période", "Structure", "Profession"]
    assert ["01/12/2025 – 30/11/2026", "CH Alpha", "Infirmier", "2", "10", "20,0"] in rows
    assert rows[-1][1:] == ["Ensemble", "Toutes", "6", "30", "20,0"]
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("awareness:shares_export", args=["xlsx"]), query).content)
    )
    values = list(workbook.active.iter_rows(values_only=True))
    assert values[-1][1:] == ("Ensemble", "Toutes", 6, 30, 20.0)
    # closing files the campaign's figures as AAP MS awareness evidence
    client.post(reverse("awareness:close", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == "closed"
    evidence = Evidence.objects.get(pk=campaign.evidence_id)
    assert (evidence.kind, evidence.item_codes, evidence.source) == (
        "awareness_training",
        ["AAPMS.O3"],
        "awareness",
    )
    attributes = evidence.revisions.get().attributes
    assert (attributes["trained"], attributes["headcount"]) == (6, 30)
    assert attributes["by_profession"]["Infirmier"] == "3/16"
    page = client.get(reverse("awareness:campaign", args=[campaign.pk])).content.decode()
    assert "6 personne(s) formée(s) sur un effectif de 30. Ces chiffres sont figés" in page
    # a closed campaign takes no more sheets
    session = campaign.sessions.first()
    client.post(
        reverse("awareness:import_sheet", args=[campaign.pk, session.pk]), {"sheet": upload(SHEET)}
    )
    assert Attendance.objects.count() == 12


def test_a_malformed_sheet_saves_nothing_and_says_which_lines(client, org_tree, trained, caplog):
    session = trained.sessions.order_by("date").first()
    before = list(Attendance.objects.values_list("pk", flat=True))
    bad = SimpleUploadedFile(
        "emargement.csv",
        "Nom;Prénom;Profession;Établissement;Date\n"
        "DUPONT;Marie;Infirmier;CH Alpha;12/03/2026\n"
        "MARTIN;Paul;Infirmier;CH Gamma;12/03/2026\n".encode("cp1252"),
    )
    response = client.post(
        reverse("awareness:import_sheet", args=[trained.pk, session.pk]), {"sheet": bad}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Fichier refusé : rien n'a été enregistré." in page
    assert "emargement.csv, ligne 3 : structure inconnue « CH Gamma »" in page
    bad = SimpleUploadedFile(
        "emargement.csv", b"Nom;Profession;Date\nDUPONT Marie;Infirmier;le 3 mars\n"
    )
    with caplog.at_level("WARNING", logger="careops.awareness"):
        page = client.post(
            reverse("awareness:import_sheet", args=[trained.pk, session.pk]), {"sheet": bad}
        ).content.decode()
    assert "date illisible « le 3 mars »" in page  # the user sees what is wrong
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "careops.awareness")
    assert "ligne 2" in logged and "date illisible" in logged
    assert "le 3 mars" not in logged and "DUPONT" not in logged  # the log keeps no content
    bad = SimpleUploadedFile("emargement.csv", b"Nom;Profession;Date\nDUPONT;Infirmier;le 3 mars\n")
    page = client.post(
        reverse("awareness:import_sheet", args=[trained.pk, session.pk]), {"sheet": bad}
    ).content.decode()
    assert "emargement.csv, ligne 2, colonne « Date » : date illisible « le 3 mars »" in page
    pdf = SimpleUploadedFile("emargement.pdf", b"%PDF-1.4 ...")
    page = client.post(
        reverse("awareness:import_sheet", args=[trained.pk, session.pk]), {"sheet": pdf}
    ).content.decode()
    assert "fichier CSV, TXT, XLSX attendu" in page
    fake = SimpleUploadedFile("emargement.xlsx", b"PK\x03\x04 not a zip")
    page = client.post(
        reverse("awareness:import_sheet", args=[trained.pk, session.pk]), {"sheet": fake}
    ).content.decode()
    assert "archive ZIP illisible" in page
    assert list(Attendance.objects.values_list("pk", flat=True)) == before


def test_phishing_exports_counts_only_evidence_and_chart(client, org_tree, ght_rssi):
    login(client, ght_rssi)
    for path in (OCTOBER, MARCH):
        response = client.post(
            reverse("awareness:phishing"), {"organisation": org_tree.ght.pk, "export": upload(path)}
        )
        assert response.status_code == 302
    march, october = PhishingCampaign.objects.order_by("started_on")
    assert (march.name, march.started_on) == ("Campagne mars 2026", dt.date(2026, 3, 10))
    assert (march.delivered, march.clicked, march.submitted, march.reported) == (11, 5, 2, 2)
    stored = json.dumps([march.by_position, october.by_position, march.unknown_statuses])
    assert "@" not in stored and "192.0.2" not in stored  # no address, no IP kept
    page = client.get(reverse("awareness:phishing")).content.decode()
    assert "<svg" in page and "45,5 %" in page and "54,5 %" in page
    detail = client.get(reverse("awareness:phishing_detail", args=[march.pk])).content.decode()
    assert "Médecin" in detail and "18,2 %" in detail
    evidence = Evidence.objects.get(pk=october.evidence_id)
    assert evidence.kind == "phishing_exercise" and evidence.item_codes == ["AAPMS.O3"]
    assert evidence.revisions.get().attributes["reported_rate"] == round(6 / 11, 4)
    assert evidence.revisions.get().effective_date == dt.date(2026, 10, 6)
    again = client.post(
        reverse("awareness:phishing"), {"organisation": org_tree.ght.pk, "export": upload(MARCH)}
    )
    assert "est déjà importé (campagne « Campagne mars 2026 »)" in again.content.decode()
    events = SimpleUploadedFile(
        "Campagne mars 2026 - Events.csv",
        b'campaign_id,email,time,message,details\n1,a@b.test,2026-03-10T10:00:00Z,Submitted Data,"{}"\n',
    )
    refused = client.post(
        reverse("awareness:phishing"), {"organisation": org_tree.ght.pk, "export": events}
    )
    assert "c&#x27;est l&#x27;export « Events » de GoPhish" in refused.content.decode()
    assert PhishingCampaign.objects.count() == 2
    rows = client.get(reverse("awareness:phishing_export", args=["csv"])).content.decode(
        "utf-8-sig"
    )
    assert "Campagne octobre 2026;06/10/2026;12;11;27,3;9,1;0,0;54,5" in rows


def test_isolation_between_organisations(client, org_tree, trained, ght_rssi, make_user):
    services.import_phishing(ght_rssi, org_tree.ght, upload(MARCH))
    phishing = PhishingCampaign.objects.get()
    outsider = make_user("es_rssi", org_tree.ej_other)  # another region
    services.save_headcount(outsider, org_tree.ej_other, "Infirmier", 40)
    client.logout()
    login(client, outsider)
    session = trained.sessions.first()
    for url in (
        reverse("awareness:campaign", args=[trained.pk]),
        reverse("awareness:import_sheet", args=[trained.pk, session.pk]),
        reverse("awareness:phishing_detail", args=[phishing.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("awareness:close", args=[trained.pk])).status_code == 404
    index = client.get(reverse("awareness:index")).content.decode()
    assert "Cyber-hygiène 2026" not in index
    shares = client.get(reverse("awareness:shares"), {"organisation": org_tree.ght.pk})
    assert "du personnel formé (" not in shares.content.decode()  # not in the outsider's choices
    own = client.get(reverse("awareness:shares"), {"organisation": org_tree.ej_other.pk})
    assert "0 % du personnel formé (0 personne(s) sur 40)" in own.content.decode()
    exported = client.get(reverse("awareness:phishing_export", args=["csv"])).content.decode()
    assert "Campagne mars 2026" not in exported
    headcounts = client.get(reverse("awareness:headcounts")).content.decode()
    assert "CH Alpha" not in headcounts
    refused = client.post(
        reverse("awareness:phishing"),
        {"organisation": org_tree.ght.pk, "export": upload(OCTOBER)},
    )
    assert refused.status_code == 200 and PhishingCampaign.objects.count() == 1
    # a hospital's RSSI sees its own staff's training from the GHT's campaign, not the others'
    client.logout()
    login(client, make_user("es_rssi", org_tree.ej_b))
    page = client.get(
        reverse("awareness:shares"), {"organisation": org_tree.ej_b.pk, "end": "2026-11-30"}
    )
    assert "25 % du personnel formé (2 personne(s) sur 8)" in page.content.decode()
    assert client.get(reverse("awareness:campaign", args=[trained.pk])).status_code == 404


def test_headcount_entered_by_hand_replaces_the_same_profession(client, org_tree, ght_rssi):
    login(client, ght_rssi)
    for value in ("12", "14"):
        client.post(
            reverse("awareness:headcounts"),
            {
                "form": "manual",
                "organisation": org_tree.ej_a.pk,
                "profession": "aide-soignant",
                "headcount": value,
            },
        )
    client.post(
        reverse("awareness:headcounts"),
        {
            "form": "manual",
            "organisation": org_tree.ej_a.pk,
            "profession": "Aide Soignant",
            "headcount": "15",
        },
    )
    assert list(StaffHeadcount.objects.values_list("headcount", flat=True)) == [15]


def test_a_campaign_exported_again_replaces_its_import_on_the_page(client, org_tree, ght_rssi):
    login(client, ght_rssi)
    url = reverse("awareness:phishing")
    form = {"organisation": org_tree.ght.pk}
    assert client.post(url, form | {"export": upload(MARCH)}).status_code == 302
    # exported again a week later (one more click), saved by the browser as « … (1).csv »
    later = MARCH.read_text("utf-8").replace("Email Opened", "Clicked Link", 1)
    again = SimpleUploadedFile("Campagne mars 2026 - Results (1).csv", later.encode())
    response = client.post(url, form | {"export": again}, follow=True)
    page = response.content.decode()
    assert "importé de nouveau (mêmes cibles GoPhish)" in page
    assert "n&#x27;est compté qu&#x27;une fois" in page
    campaign = PhishingCampaign.objects.get()
    assert (campaign.name, campaign.clicked, campaign.imports) == ("Campagne mars 2026", 6, 2)
    assert "Importé 2 fois" in page
    assert Evidence.objects.get(pk=campaign.evidence_id).revisions.count() == 2
    # the same campaign edited by hand: no target ids left, only its name says which it is
    rows = list(csv.reader(io.StringIO(later)))
    edited = "\n".join(",".join(row[1:]) for row in rows).replace("Email Sent", "Email Opened", 1)
    refused = client.post(
        url,
        form | {"export": SimpleUploadedFile("Campagne mars 2026 - Results.csv", edited.encode())},
    ).content.decode()
    assert "cochez « Remplacer la campagne de même nom »" in refused
    assert PhishingCampaign.objects.get().imports == 2  # nothing imported
    confirmed = client.post(
        url,
        form
        | {
            "export": SimpleUploadedFile("Campagne mars 2026 - Results.csv", edited.encode()),
            "replace": "on",
        },
        follow=True,
    ).content.decode()
    assert "même nom, remplacement confirmé" in confirmed
    assert PhishingCampaign.objects.count() == 1 and PhishingCampaign.objects.get().imports == 3


def test_a_phishing_exercise_imported_by_mistake_is_deleted(client, org_tree, ght_rssi, make_user):
    from careops.core.models import AuditEvent

    login(client, ght_rssi)
    for path in (MARCH, OCTOBER):
        client.post(
            reverse("awareness:phishing"), {"organisation": org_tree.ght.pk, "export": upload(path)}
        )
    march = PhishingCampaign.objects.get(name="Campagne mars 2026")
    evidence = Evidence.objects.get(pk=march.evidence_id)
    detail = client.get(reverse("awareness:phishing_detail", args=[march.pk])).content.decode()
    url = reverse("awareness:phishing_delete", args=[march.pk])
    assert url in detail
    # another structure's RSSI neither sees the confirmation page nor deletes
    client.logout()
    login(client, make_user("es_rssi", org_tree.ej_other))
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert PhishingCampaign.objects.filter(pk=march.pk).exists()
    # a reader of the GHT sees the exercise, not the deletion
    client.logout()
    reader = make_user("reader", org_tree.ght)
    login(client, reader)
    page = client.get(reverse("awareness:phishing_detail", args=[march.pk])).content.decode()
    assert url not in page and client.post(url).status_code == 404
    client.logout()
    login(client, ght_rssi)
    confirm = client.get(url).content.decode()
    assert "Confirmer la suppression" in confirm
    assert "« Campagne mars 2026 » (GHT" in confirm  # no « de GHT… » to elide
    assert "ne compte plus pour AAPMS.O3" in confirm
    assert PhishingCampaign.objects.filter(pk=march.pk).exists()  # a GET deletes nothing
    done = client.post(url, follow=True)
    assert "Exercice « Campagne mars 2026 » supprimé." in done.content.decode()
    assert list(PhishingCampaign.objects.values_list("name", flat=True)) == [
        "Campagne octobre 2026"
    ]
    # the evidence stays in the history, expired by a last revision saying why
    last = evidence.current
    assert evidence.revisions.count() == 2 and last.attributes["deleted_on"]
    assert last.expires_on < services.compliance.today_in_paris()
    assert "supprimé de careops" in last.comment
    event = AuditEvent.objects.get(action="awareness.phishing.delete")
    assert event.actor == ght_rssi and "Campagne mars 2026" in event.summary
    page = client.get(reverse("awareness:phishing")).content.decode()
    assert "Campagne mars 2026" not in page


def test_a_closed_campaign_shows_its_frozen_share_everywhere(client, org_tree, trained, ght_rssi):
    """Page, API list and API detail follow one rule: a closed campaign shows what was frozen
    at closing, said as such; an open one is live."""
    from tests.api.conftest import Api

    campaign = trained
    live = Api(ght_rssi)

    def answers():
        listed = live.get("/api/awareness/training-campaigns").json()["items"]
        (item,) = [i for i in listed if i["id"] == campaign.pk]
        detail = live.get(f"/api/awareness/training-campaigns/{campaign.pk}").json()
        page = client.get(reverse("awareness:campaign", args=[campaign.pk])).content.decode()
        return item, detail, page

    # open: live everywhere, and a new headcount shows at once
    services.save_headcount(ght_rssi, org_tree.ej_a, "Infirmier", 20)  # was 10
    item, detail, page = answers()
    assert (item["trained"], item["headcount"], item["share_frozen"]) == (6, 40, False)
    assert (detail["report"]["total"]["headcount"], detail["share_frozen"]) == (40, False)
    assert "15 %" in page and "Part du public formé, figée" not in page
    assert "elle sera figée à la clôture" in page
    # closed, then the headcount changes again: the frozen 6/40 stays on all three
    client.post(reverse("awareness:close", args=[campaign.pk]))
    services.save_headcount(ght_rssi, org_tree.ej_a, "Infirmier", 50)
    item, detail, page = answers()
    assert (item["trained"], item["headcount"], item["share"]) == (6, 40, 0.15)
    assert item["share_frozen"] is True and detail["share_frozen"] is True
    total = detail["report"]["total"]
    assert (total["trained"], total["headcount"], detail["headcount"]) == (6, 40, 40)
    assert {s["label"] for s in detail["report"]["structures"]} == {"CH Alpha", "CH Bêta"}
    assert all(isinstance(s["organisation"], int) for s in detail["report"]["structures"])
    assert "Part du public formé, figée à la clôture le" in page
    assert "6 personne(s) formée(s) sur un effectif de 40" in page and "15 %" in page
    assert "sur un effectif de 70" not in page


def test_a_campaign_without_headcounts_says_so_and_links_to_them(client, org_tree, ght_rssi):
    """Before any headcount, the campaign's table named the structure by its database id
    (« 26 ») and spoke of « un seul des deux fichiers »."""
    login(client, ght_rssi)
    campaign = services.create_campaign(
        ght_rssi,
        org_tree.ght,
        title="Sensibilisation 2026",
        audience_professions="",
        audience_services="",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 11, 30),
    )
    session = services.add_session(ght_rssi, campaign, date=dt.date(2026, 3, 12))
    services.import_attendance(ght_rssi, session, upload(SHEET))
    page = client.get(reverse("awareness:campaign", args=[campaign.pk])).content.decode()
    assert "aucun effectif déclaré : saisissez ou importez les effectifs" in page
    assert "un seul des deux fichiers" not in page and "sans effectif déclaré" not in page
    assert '<th scope="row">Ensemble</th>' in page
    assert f"<tr><td>{org_tree.ght.pk}</td>" not in page  # never a structure's database id
    assert reverse("awareness:headcounts") in page and 'id="no-headcount"' in page


def test_a_structure_rssi_finds_their_only_structure_already_chosen(client, org_tree, make_user):
    """An EHPAD's RSSI had to pick their only structure in every form, else « Ce champ est
    obligatoire »: a single choice is made for them (awareness, exercises, maturity)."""
    import re

    login(client, make_user("es_rssi", org_tree.esms))
    for name in (
        "awareness:index",
        "awareness:headcounts",
        "awareness:phishing",
        "exercises:index",
        "maturity:index",
    ):
        page = client.get(reverse(name)).content.decode()
        selects = re.findall(r'<select name="(?:import-)?organisation".*?</select>', page, re.S)
        assert selects, name
        for select in selects:
            assert f'<option value="{org_tree.esms.pk}" selected>' in select, name
            assert '<option value="">' not in select, name
