"""The maturity pages in Debian's Chromium: a self-assessment answered and validated through the
browser, every page checked with axe-core, no horizontal scroll at 390 px."""

from __future__ import annotations

import pytest

from careops.maturity.models import Campaign
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _urls_loaded():
    """Import every view before the first page: on a loaded machine the live server's first
    request (which imports them, PDF engine included) can outlast the 10 s page timeout."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loads the URLconf and the views


def test_self_assessment_in_the_browser(page, live_server, org_tree, make_user):  # noqa: F811
    make_user("es_rssi", org_tree.esms, username="rssi.ehpad")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.ehpad")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/maturite/")
    assert_accessible(page, "maturité")
    page.locator("#id_organisation").select_option(str(org_tree.esms.pk))
    page.locator("#id_questionnaire").select_option("diagnostic-ms")
    page.get_by_role("button", name="Commencer").click()
    page.wait_for_url(f"{live_server.url}/maturite/*/")
    assert_accessible(page, "questionnaire")
    for question in ("ctx_annuaire", "ctx_prestataires"):
        page.locator(f"input[name={question}][value=non]").check()
    for radio in page.locator("input[type=radio][value=partiel]").all():
        radio.check()
    page.locator("input[name=R2][value=sans_objet]").check()
    page.get_by_role("button", name="Enregistrer et valider (versée comme preuve)").click()
    page.wait_for_url(f"{live_server.url}/maturite/*/resultat/")
    campaign = Campaign.objects.get()
    assert campaign.status == "closed" and campaign.result["level"] == 3  # every answer at 50 %
    assert page.locator("svg.chart--radar").count() == 1
    assert_accessible(page, "résultat")
    page.set_viewport_size({"width": 390, "height": 800})
    for path in ("/maturite/", f"/maturite/{campaign.pk}/", f"/maturite/{campaign.pk}/resultat/"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 391, (path, width)


def test_pathway_proposed_confirmed_and_shown_on_the_pool_dashboard(
    page,  # noqa: F811
    live_server,
    org_tree,
    make_user,
):
    from tests.maturity.journeys import pathway_journey

    journey = pathway_journey(page, live_server, org_tree, make_user)
    assert journey.campaign.result["level"] == 3
    page.set_viewport_size({"width": 390, "height": 800})
    for path in (
        f"/maturite/mutualisations/{journey.pool.pk}/",
        f"/maturite/structures/{org_tree.esms.pk}/",
    ):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 391, path
