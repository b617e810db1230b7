"""The main page of every module on a 390 px wide phone: no horizontal scroll of the page (wide
tables and drawings scroll inside their own box), and no serious axe-core violation; the BIA
dependency graph fits the 1280 px layout."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from careops.compliance import services
from tests.browser.conftest import assert_accessible
from tests.browser.test_browser import login
from tests.web.helpers import load_d2, pdf_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(org_tree, make_user, transactional_db):
    """A GHT RSSI with a D2 assessment, a piece of evidence and a filled BIA campaign."""
    from careops.continuity import services as continuity
    from careops.continuity.engine.example import example_bia
    from careops.continuity.engine.workbook import workbook_bytes

    version = load_d2()
    rssi = make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    evidence = services.create_evidence(
        None,
        org_tree.ght,
        "pssi",
        "PSSI du GHT (2022) — version validée par le directeur général du groupement",
        services.RevisionInput(
            effective_date=dt.date(2022, 7, 10),
            validated_by="legal_representative",
            files=[pdf_upload("pssi-2022-groupement-hospitalier-de-territoire.pdf")],
        ),
        item_codes=["D2.P1"],
    )
    assessment = services.open_assessment(None, org_tree.ght, version, dt.date(2024, 6, 1))
    campaign = continuity.create_campaign(rssi, org_tree.ej_a, "BIA du CH Alpha")
    outcome = continuity.import_workbook(
        rssi,
        campaign,
        io.BytesIO(workbook_bytes(example_bia(org_tree.ej_a.finess, org_tree.ej_a.name))),
    )
    assert outcome.imported, outcome.problems
    return {"assessment": assessment, "evidence": evidence, "campaign": campaign}


def main_pages(scene) -> dict[str, str]:
    a = scene["assessment"]
    return {
        "dashboard": "/",
        "assessment": f"/evaluations/{a.pk}/",
        "assessment form": f"/evaluations/{a.pk}/modifier/",
        "objective page": f"/evaluations/{a.pk}/exigences/D2.O3.A/",
        "evidence page": f"/preuves/{scene['evidence'].pk}/",
        "organisations": "/organisations/",
        "referential": "/referentiel/",
        "journal": "/journal/",
        "continuity": "/continuite/",
        "BIA campaign": f"/continuite/campagnes/{scene['campaign'].pk}/",
        "backups": "/sauvegardes/",
        "exposure": "/exposition/",
        "directory": "/annuaires/",
        "declarations": "/declarations/",
    }


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_no_horizontal_scroll_at_390px_and_accessible(browser, live_server, scene):
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, live_server, "rssi.ght")
        overflowing = {}
        for name, path in main_pages(scene).items():
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, (name, response.status)
            page.wait_for_load_state("load")
            extra = horizontal_overflow(page)
            if extra > 0:
                page.screenshot(path=f"/tmp/careops-390-{name.replace(' ', '-')}.png")
                overflowing[name] = extra
            assert_accessible(page, f"{name} at 390 px")
        assert not overflowing, f"pages wider than 390 px (extra px): {overflowing}"
    finally:
        context.close()


def test_bia_graph_is_not_clipped_at_1280px(page, live_server, scene):
    login(page, live_server, "rssi.ght")
    page.goto(f"{live_server.url}/continuite/campagnes/{scene['campaign'].pk}/")
    drawing = page.locator("figure.drawing").first
    drawing.wait_for()
    sizes = drawing.evaluate(
        "el => ({box: el.clientWidth, content: el.scrollWidth, "
        "svg: el.querySelector('svg').getBoundingClientRect().width})"
    )
    assert sizes["content"] <= sizes["box"], sizes
    assert horizontal_overflow(page) == 0


def test_evidence_form_shows_the_fields_of_the_chosen_kind(page, live_server, scene):
    login(page, live_server, "rssi.ght")
    page.goto(f"{live_server.url}/evaluations/{scene['assessment'].pk}/exigences/D2.O3.A/")
    kind = page.get_by_label("Type de preuve")
    kind.select_option("backup_2fa")
    option = page.locator("select[name=attr_status]")
    assert option.is_visible()
    option.select_option("implemented")
    kind.select_option("backup_roles")
    assert not option.is_visible()
    assert page.locator("textarea, input[type=text]").filter(has_text="{").count() == 0
    page.screenshot(path="/tmp/careops-typed-evidence-form.png", full_page=True)
    assert_accessible(page, "objective page with typed attribute fields")
    page.goto(f"{live_server.url}/evaluations/{scene['assessment'].pk}/modifier/")
    page.screenshot(path="/tmp/careops-assessment-form.png", full_page=True)
