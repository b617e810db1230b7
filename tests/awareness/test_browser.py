"""The awareness pages in Debian's Chromium: a sign-in sheet and a GoPhish export imported through
the browser, the shares and rates read on the pages, every page checked with axe-core, no
horizontal scroll at 390 px."""

from __future__ import annotations

import pytest

from careops.awareness.models import PhishingCampaign, TrainingCampaign
from tests.awareness.test_engine import HEADCOUNT, MARCH, OCTOBER, SHEET
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_sheet_and_gophish_export_in_the_browser(page, live_server, org_tree, make_user):  # noqa: F811
    make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    base = live_server.url
    # the server's first request loads what Django loads lazily (13 s on a loaded 2-core machine)
    page.goto(f"{base}/accounts/login/", timeout=60_000)
    page.set_default_timeout(30_000)
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.ght")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base}/")

    # a campaign, a session, its sign-in sheet
    page.goto(f"{base}/sensibilisation/")
    assert_accessible(page, "sensibilisation")
    page.locator("#id_organisation").select_option(str(org_tree.ght.pk))
    page.get_by_label("Intitulé").fill("Cyber-hygiène 2026")
    page.get_by_label("Professions visées").fill("Infirmier, Aide-soignant, Médecin, Administratif")
    page.locator("#id_starts_on").fill("2026-01-01")
    page.locator("#id_ends_on").fill("2026-11-30")
    page.get_by_role("button", name="Créer la campagne").click()
    page.wait_for_url(f"{base}/sensibilisation/formations/*/")
    campaign = TrainingCampaign.objects.get()
    page.get_by_label("Date de la séance").fill("2026-03-12")
    page.get_by_label("Formateur").fill("RSSI du GHT")
    page.get_by_role("button", name="Ajouter la séance").click()
    page.get_by_role("link", name="Importer l'émargement 12/03/2026").click()
    page.wait_for_url(f"{base}/sensibilisation/formations/*/seances/*/emargement/")
    assert_accessible(page, "import d'émargement")
    page.get_by_label("Feuille d'émargement ou export LMS (CSV ou XLSX)").set_input_files(
        str(SHEET)
    )
    page.get_by_role("button", name="Importer", exact=True).click()
    page.wait_for_url(f"{base}/sensibilisation/formations/{campaign.pk}/")
    assert "6 ligne(s), 4 personne(s) formée(s), 1 absence(s)" in page.content()
    assert_accessible(page, "campagne")

    # headcounts, then the shares at the GHT (the roll-up of its hospitals)
    page.goto(f"{base}/sensibilisation/effectifs/")
    page.locator("#id_import-organisation").select_option(str(org_tree.ght.pk))
    page.get_by_label("Fichier des effectifs (CSV ou XLSX)").set_input_files(str(HEADCOUNT))
    page.get_by_role("button", name="Importer les effectifs").click()
    page.wait_for_url(f"{base}/sensibilisation/effectifs/")
    assert page.locator("#headcounts tbody tr").count() == 5
    assert_accessible(page, "effectifs")
    page.goto(f"{base}/sensibilisation/parts/")
    page.locator("#id_organisation").select_option(str(org_tree.ght.pk))
    page.get_by_label("Fin de la période").fill("2026-11-30")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"{base}/sensibilisation/parts/?*")
    total = page.locator("#share-total").inner_text()
    assert "13,3 % du personnel formé (4 personne(s) sur 30)" in total
    alpha = page.locator("#shares-table tr", has_text="CH Alpha").filter(
        has_text="toutes professions"
    )
    assert "9,1 %" in alpha.inner_text()  # Marie and Paul of 22 (Anne was absent)
    assert_accessible(page, "part du personnel formé")

    # GoPhish exports: the rates on the pages
    page.goto(f"{base}/sensibilisation/hameconnage/")
    assert_accessible(page, "hameçonnage (vide)")
    for export in (MARCH, OCTOBER):
        page.locator("#id_organisation").select_option(str(org_tree.ght.pk))
        page.get_by_label("Export « Results » de GoPhish (CSV)").set_input_files(str(export))
        page.get_by_role("button", name="Importer l'exercice").click()
        page.wait_for_url(f"{base}/sensibilisation/hameconnage/*/")
        if export == MARCH:
            rates = page.locator("#phishing-rates").inner_text()
            assert "45,5 %" in rates and "18,2 %" in rates  # clicks 5/11, submissions 2/11
            assert_accessible(page, "exercice d'hameçonnage")
        page.goto(f"{base}/sensibilisation/hameconnage/")
    assert PhishingCampaign.objects.count() == 2
    row = page.locator("#phishing-table tr", has_text="Campagne octobre 2026").inner_text()
    assert "9,1 %" in row and "54,5 %" in row
    assert page.locator("#chart-phishing svg.chart polyline").count() == 3
    assert_accessible(page, "hameçonnage")
    page.goto(f"{base}/")
    assert "personne(s) sur un effectif de 30" in page.locator("#awareness").inner_text()
    assert_accessible(page, "tableau de bord")

    page.set_viewport_size({"width": 390, "height": 800})
    for path in (
        "/sensibilisation/",
        f"/sensibilisation/formations/{campaign.pk}/",
        "/sensibilisation/effectifs/",
        f"/sensibilisation/parts/?organisation={org_tree.ght.pk}&end=2026-11-30",
        "/sensibilisation/hameconnage/",
    ):
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 391, (path, width)
