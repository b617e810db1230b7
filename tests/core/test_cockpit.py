"""The cockpit per role (what to do next, scoped), the evidence library and the links between
objectives and the modules that produce their evidence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from careops.compliance import services as compliance
from careops.core import cockpit
from careops.declarations import services
from careops.declarations.choices import Verdict
from careops.exposure.models import Finding, ScanRun
from tests.declarations.conftest import add_evidence

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(user):
    return user.__class__.objects.get(pk=user.pk)  # grants not cached


def run_and_finding(org, days_ago: int, severity="critical", seen_days_ago: int = 2):
    """An exposure audit ``days_ago`` and a finding first seen ``seen_days_ago``."""
    at = timezone.now() - dt.timedelta(days=days_ago)
    run = ScanRun.objects.create(organisation=org, status="done", scope={}, finished_at=at)
    seen = timezone.now() - dt.timedelta(days=seen_days_ago)
    Finding.objects.create(
        organisation=org,
        fingerprint=f"{org.pk}-{days_ago}",
        rule="EXP-TLS-007",
        severity=severity,
        host="203.0.113.7",
        title="Serveur RDP exposé",
        first_run=run,
        last_run=run,
        first_seen=seen,
        last_seen=seen,
    )
    return run


def pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("preuve.pdf", b"%PDF-1.4\ncontenu", "application/pdf")


def expiring(org, title: str, days: int):
    return compliance.create_evidence(
        None,
        org,
        "pssi",
        title,
        compliance.RevisionInput(
            effective_date=dt.date(2025, 1, 1),
            expires_on=compliance.today_in_paris() + dt.timedelta(days=days),
            files=[pdf()],
        ),
    )


def test_rssi_cockpit_lists_what_to_do_next(declared, people, org_tree):
    today = compliance.today_in_paris()
    services.review_item(
        people.ars,
        declared.declaration,
        "D2.O1.B",
        Verdict.COMPLEMENT,
        "Joindre le cahier de recette.",
        today + dt.timedelta(days=10),
        now=dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC),
    )
    expiring(org_tree.ej_a, "PSSI de CH Alpha", 12)
    renewed = expiring(org_tree.ght, "Ancienne charte", -5)
    compliance.add_revision(
        None,
        renewed,
        compliance.RevisionInput(
            effective_date=today, expires_on=today + dt.timedelta(days=900), files=[pdf()]
        ),
    )
    run_and_finding(org_tree.ej_a, 50)
    run_and_finding(org_tree.ej_other, 50)  # another region: never shown
    data = cockpit.build(fresh(people.rssi))
    assert data["roles"] == {"establishment": True, "ars": False, "ans": False}
    assert [(c["code"], c["due"]) for c in data["complements"]] == [
        ("D2.O1.B", today + dt.timedelta(days=10))
    ]
    assert [r.evidence.title for r in data["expiring"]] == ["PSSI de CH Alpha"]
    due = data["audits_due"]
    assert due and all(a["organisation_id"] == org_tree.ej_a.pk for a in due)
    second = next(a for a in due if "D1.O2.B" in a["what"])
    assert second["open"]  # 50 days after the first audit: inside 45–60
    assert [f.organisation_id for f in data["alerts"]["critical_findings"]] == [org_tree.ej_a.pk]
    assert not data["changes"]
    add_evidence(org_tree.ght, "backup_test", "Test de restauration", "restore")
    changed = cockpit.build(fresh(people.rssi))["changes"]
    assert [(c.item_code, c.previous, c.status) for c in changed][:1] == [
        ("D2.O1.B", "missing_evidence", "met")
    ]
    page = client_for(people.rssi).get("/").content.decode()
    for section in ("complements", "expiring", "windows", "audits-due", "alerts", "changes"):
        assert f'id="{section}"' in page
    assert "Joindre le cahier de recette." in page and "PSSI de CH Alpha" in page
    assert (
        'id="chart-status"' in page and "<svg" in page and "<script" not in page.split("<main")[1]
    )
    assert "Clinique du Rhône" not in page


def test_ars_cockpit_is_its_region_queue_only(declared, people, org_tree):
    run_and_finding(org_tree.ej_a, 3)
    mine = cockpit.build(fresh(people.ars))
    assert mine["roles"]["ars"] and not mine["roles"]["establishment"]
    assert [r["candidacy"].pk for r in mine["ars_queue"]] == [declared.pk]
    assert mine["ars_queue"][0]["deadline"] == "31/12/2026"
    other = cockpit.build(fresh(people.ars_other))
    assert other["ars_queue"] == []
    assert (
        sum(
            sum(c["parts"][i]["n"] for i in range(len(c["parts"])))
            for c in other["chart_findings"]["columns"]
        )
        == 0
    )
    page = client_for(people.ars_other).get("/").content.decode()
    assert "GHT Test Val-de-Seine" not in page and "Aucun dossier à instruire." in page
    assert "GHT Test Val-de-Seine" in client_for(people.ars).get("/").content.decode()


def test_ans_cockpit_shows_the_national_picture_and_what_to_decide(declared, people):
    for code in ("D2.P1", "D2.O1.A", "D2.O1.B"):
        services.review_item(
            people.ars,
            declared.declaration,
            code,
            Verdict.COMPLIANT,
            now=dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC),
        )
    services.transmit(people.ars, declared, now=dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC))
    data = cockpit.build(fresh(people.ans))
    assert data["national"]["totals"]["candidacies"] == 1
    assert [c.pk for c in data["ans_queue"]] == [declared.pk]
    page = client_for(people.ans).get("/").content.decode()
    assert "Vue nationale" in page and f"/declarations/{declared.pk}/decision/" in page


def test_evidence_library_filters_and_isolation(org_tree, people, version):
    expiring(org_tree.ej_a, "PSSI de CH Alpha", 12)
    expiring(org_tree.ght, "PSSI du GHT", -3)
    compliance.create_evidence(
        None,
        org_tree.ght,
        "pca",
        "Plan de continuité",
        compliance.RevisionInput(effective_date=dt.date(2026, 1, 5), files=[pdf()]),
    )
    expiring(org_tree.ej_other, "PSSI du Rhône", 12)
    client = client_for(people.rssi)

    def titles(query: str) -> list[str]:
        page = client.get("/preuves/" + query)
        assert page.status_code == 200
        body = page.content.decode().split('id="library"')[1]
        return sorted(
            t
            for t in ("PSSI de CH Alpha", "PSSI du GHT", "Plan de continuité", "PSSI du Rhône")
            if t in body
        )

    assert titles("") == ["PSSI de CH Alpha", "PSSI du GHT", "Plan de continuité"]
    assert titles("?type=pca") == ["Plan de continuité"]
    assert titles("?exigence=D2.O1.A") == ["Plan de continuité"]
    assert titles("?exigence=d2.p1") == ["PSSI de CH Alpha", "PSSI du GHT"]
    assert titles(f"?entite={org_tree.ej_a.pk}") == ["PSSI de CH Alpha"]
    assert titles("?expiration=expirees") == ["PSSI du GHT"]
    assert titles("?expiration=30j") == ["PSSI de CH Alpha"]
    assert titles("?q=continuit") == ["Plan de continuité"]
    refused = client.get(f"/preuves/?entite={org_tree.ej_other.pk}").content.decode()
    assert "hors de votre périmètre" in refused and "PSSI du Rhône" not in refused
    assert "Exigence inconnue" in client.get("/preuves/?exigence=ZZ9").content.decode()
    other = client_for(people.ars_other).get("/preuves/").content.decode()
    assert "PSSI du Rhône" in other and "PSSI du GHT" not in other


def test_evidence_library_is_paginated(org_tree, people, version):
    for n in range(30):
        expiring(org_tree.ght, f"Document {n:02d}", 100)
    client = client_for(people.rssi)
    first = client.get("/preuves/?type=pssi").content.decode()
    assert "30 preuves" in first and "Page 1 sur 2" in first and "type=pssi&amp;page=2" in first
    second = client.get("/preuves/?type=pssi&page=2").content.decode()
    assert second.count('href="/preuves/') >= 5 and "Page 2 sur 2" in second


def test_objectives_link_to_their_module_and_back(org_tree, people):
    from careops.catalogue import services as catalogue
    from careops.core.modules import producers_for

    catalogue.load_default()
    assert [p.url_name for p in producers_for("D2.O4")] == ["backups:index"]
    assert [p.url_name for p in producers_for("D2.O1.C")] == ["continuity:index"]
    assert [p.url_name for p in producers_for("D1.O2.B")] == ["exposure:index"]
    assert {p.url_name for p in producers_for("D2.O3.A")} == {"backups:index", "directory:index"}
    assert producers_for("D2.P1") == []
    assessment = compliance.open_assessment(
        None, org_tree.ght, catalogue_version("D2"), dt.date(2026, 1, 1)
    )
    client = client_for(people.rssi)
    item = client.get(f"/evaluations/{assessment.pk}/exigences/D2.O4/").content.decode()
    assert 'id="producers"' in item and 'href="/sauvegardes/"' in item
    backups = client.get("/sauvegardes/").content.decode()
    assert 'id="fed-objectives"' in backups and "#D2.O4" in backups and "#D2.O1.C" not in backups
    continuity = client.get("/continuite/").content.decode()
    assert "#D2.O1.C" in continuity


def catalogue_version(domain: str):
    from careops.catalogue.models import ReferentialVersion

    return ReferentialVersion.objects.get(domain=domain, is_current=True)


def test_every_section_page_has_a_breadcrumb_home(declared, people, org_tree):
    client = client_for(people.rssi)
    for url in (
        "/sauvegardes/",
        "/exposition/",
        "/annuaires/",
        "/continuite/",
        "/organisations/",
        "/referentiel/",
        "/journal/",
        "/preuves/",
        "/declarations/",
        f"/declarations/{declared.pk}/",
        f"/declarations/{declared.pk}/instruction/",
        f"/evaluations/{declared.assessment_id}/",
        f"/evaluations/{declared.assessment_id}/modifier/",
        f"/organisations/{org_tree.ght.pk}/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        crumbs = page.content.decode().split('class="breadcrumb"')
        assert len(crumbs) == 2, url  # exactly one breadcrumb
        assert 'href="/"' in crumbs[1].split("</nav>")[0], url


def test_forms_have_a_way_back(declared, people, org_tree):
    client = client_for(people.rssi)
    for url, back in (
        (
            f"/evaluations/{declared.assessment_id}/modifier/",
            f"/evaluations/{declared.assessment_id}/",
        ),
        (f"/organisations/{org_tree.ght.pk}/modifier/", f"/organisations/{org_tree.ght.pk}/"),
    ):
        body = client.get(url).content.decode()
        assert f'href="{back}">Annuler</a>' in body, url
