"""The rating grid in a real browser: a cell changed with the keyboard is saved in place
(HTMX, no reload), the DMIA and priority follow; the campaign and activity pages pass axe."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    _media,
    assert_accessible,
    browser,
    page,
)
from tests.browser.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_cell_updates_the_dmia_without_reload(page, live_server, scene):  # noqa: F811
    campaign = scene.campaign
    activity = campaign.activities.get(code="PAIE")
    scene.ght_rssi.username = "rssi.ght"
    scene.ght_rssi.save()
    login(page, live_server, "rssi.ght")

    page.goto(f"{live_server.url}/continuite/campagnes/{campaign.pk}/")
    page.get_by_role("heading", name="Dépendances", exact=True).wait_for()
    assert page.locator("svg.bia-graph").is_visible()
    assert page.locator("svg.bia-timeline").is_visible()
    page.screenshot(path="/tmp/careops-bia-campaign.png", full_page=True)
    assert_accessible(page, "campaign page")

    page.get_by_role("link", name="PAIE", exact=True).click()
    page.wait_for_url(
        f"{live_server.url}/continuite/campagnes/{campaign.pk}/activites/{activity.pk}/"
    )
    assert page.locator("#dmia").inner_text() == "7 j"
    assert page.locator("#priority").inner_text() == "P4"
    page.evaluate("window.__sansRechargement = true")

    for horizon in ("24 h", "72 h"):
        cell = page.get_by_label(f"Financier, {horizon}")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            cell.select_option("3")
        assert answer.value.status == 200
        assert answer.value.request.headers.get("hx-request") == "true"
    page.locator("#dmia", has_text="1 j").wait_for()
    assert page.locator("#priority").inner_text() == "P2"
    assert page.evaluate("window.__sansRechargement") is True, "the page was reloaded"

    # a decreasing rating is flagged in place
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.get_by_label("Financier, 7 j").select_option("1")
    page.get_by_text("Cotations non croissantes").wait_for()
    page.screenshot(path="/tmp/careops-bia-grid.png", full_page=True)
    assert_accessible(page, "activity grid")
    page.reload()
    assert page.get_by_label("Financier, 24 h").input_value() == "3"


def test_other_continuity_pages_pass_axe(page, live_server, scene):  # noqa: F811
    campaign = scene.campaign
    scene.ght_rssi.username = "rssi.ght"
    scene.ght_rssi.save()
    login(page, live_server, "rssi.ght")
    base = f"{live_server.url}/continuite"
    pages = {
        "index": f"{base}/",
        "import": f"{base}/campagnes/{campaign.pk}/import/",
        "activity form": f"{base}/campagnes/{campaign.pk}/activite/ajouter/",
        "pcra form": f"{base}/campagnes/{campaign.pk}/pcra/",
        "coverage": f"{base}/couverture/{scene.tree.ght.pk}/",
    }
    for name, address in pages.items():
        page.goto(address)
        page.get_by_role("heading", level=1).wait_for()
        assert_accessible(page, name)
    # the import page with errors, sent from the browser
    page.goto(pages["import"])
    page.get_by_label("Classeur BIA (.xlsx)").set_input_files(
        {"name": "bia.xlsx", "mimeType": "application/octet-stream", "buffer": b"not a workbook"}
    )
    page.get_by_role("button", name="Importer").click()
    page.locator("#import-errors").wait_for()
    assert "rien n'a été importé" in page.locator("#import-errors").inner_text()
    assert_accessible(page, "import errors")
