"""The HospiConnect workspace in Debian's Chromium: a measurement uploaded through the form, then
every page checked with axe-core (WCAG 2.1 A and AA)."""

from __future__ import annotations

import pytest

from careops.hospiconnect.models import AccountReview, IndicatorImport
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD
from tests.hospiconnect.test_engine import HEADER, ROWS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rssi_measures_and_reviews_in_the_browser(page, live_server, org_tree, make_user, tmp_path):  # noqa: F811
    make_user("es_rssi", org_tree.ej_b, username="rssi.chb")
    export = tmp_path / "utilisateurs-dpi.csv"
    export.write_text("\n".join(";".join(row) for row in [HEADER, *ROWS]) + "\n", encoding="utf-8")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.chb")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/hospiconnect/")
    assert_accessible(page, "HospiConnect")
    page.get_by_role("link", name="CH Bêta").click()
    assert_accessible(page, "établissement sans mesure")
    page.get_by_role("link", name="Nouvelle mesure à partir des exports").click()
    assert_accessible(page, "formulaire de mesure")
    page.locator("#id_as_of").fill("2026-11-30")
    page.locator("#id_dpi").set_input_files(str(export))
    page.get_by_label("Ouvrir la revue annuelle des comptes à partir de cet export").check()
    page.get_by_role("button", name="Calculer les indicateurs").click()
    page.wait_for_url(f"{live_server.url}/hospiconnect/mesures/*/")
    page.get_by_role("cell", name="3 / 5").first.wait_for()
    run = IndicatorImport.objects.get()
    assert run.status == "done"
    assert_accessible(page, "résultat de la mesure")

    page.goto(f"{live_server.url}/hospiconnect/{org_tree.ej_b.pk}/")
    assert page.locator("svg.chart").count() >= 1
    assert_accessible(page, "établissement avec mesure")
    page.goto(f"{live_server.url}/hospiconnect/{org_tree.ej_b.pk}/mie/")
    assert_accessible(page, "inventaire des MIE")
    page.locator("#id_kind").select_option("e_cps")
    page.locator("#id_holder_account").fill("d1")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("cell", name="d1").first.wait_for()

    review = AccountReview.objects.get()
    page.goto(f"{live_server.url}/hospiconnect/revues/{review.pk}/")
    assert_accessible(page, "revue des comptes")
    page.get_by_role("button", name="Confirmer tous les comptes restant à revoir").click()
    page.get_by_role("button", name="Clore la revue et la verser comme preuve").click()
    page.get_by_text("Revue close").wait_for()
    review.refresh_from_db()
    assert review.status == "done" and review.evidence_id
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.evaluate("window.innerWidth") + 1
