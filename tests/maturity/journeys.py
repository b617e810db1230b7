"""Browser journeys of the AAP MS, as reusable helpers (the lead chains them with others).

``pathway_journey``: a medico-social structure's RSSI validates a self-assessment in the
browser, the pathway it proposes shows on the structure's page, an ARS instructor of the region
(with TOTP) confirms it, and the pooled RSSI's pool dashboard shows it; axe-core on every page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from careops.maturity.models import Campaign, PathwayAssignment
from tests.browser.conftest import assert_accessible
from tests.conftest import PASSWORD
from tests.maturity.helpers import pool_with_members
from tests.web.helpers import enable_totp, totp_code

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class PathwayJourney:
    rssi: object
    ars: object
    pooled: object
    pool: object
    campaign: object
    assignment: object


def login(page, live_server, username: str, totp_secret: str | None = None) -> None:
    """Sign in through the login page (a fresh session), with the TOTP step if asked."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if totp_secret:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.get_by_label(re.compile("code", re.I)).fill(totp_code(totp_secret))
        page.get_by_role(
            "button", name=re.compile("Se connecter|Connexion|Authentifier|Valider", re.I)
        ).click()
    page.wait_for_url(f"{live_server.url}/")


def pathway_journey(page, live_server, org_tree, make_user) -> PathwayJourney:
    """Self-assessment validated → pathway proposed → ARS confirms → pool dashboard shows it."""
    structure = org_tree.esms
    rssi = make_user("es_rssi", structure, username="rssi.ehpad")
    ars = enable_totp(
        make_user("ars_instructor", org_tree.ars_idf, username="instructeur.idf"), TOTP_SECRET
    )
    pooled = make_user(username="rssi.mutualise")
    pool, _ = pool_with_members(ars, org_tree.ars_idf, [pooled], [(structure, rssi)])

    login(page, live_server, "rssi.ehpad")
    page.goto(f"{live_server.url}/maturite/")
    page.locator("#id_organisation").select_option(str(structure.pk))
    page.locator("#id_questionnaire").select_option("diagnostic-ms")
    page.get_by_role("button", name="Commencer").click()
    page.wait_for_url(re.compile(r"/maturite/\d+/$"))
    for question in ("ctx_annuaire", "ctx_prestataires"):
        page.locator(f"input[name={question}][value=non]").check()
    for radio in page.locator("input[type=radio][value=partiel]").all():
        radio.check()
    page.get_by_role("button", name="Enregistrer et valider (versée comme preuve)").click()
    page.wait_for_url(re.compile(r"/maturite/\d+/resultat/$"))
    campaign = Campaign.objects.get(organisation=structure, status="closed")
    page.goto(f"{live_server.url}/maturite/structures/{structure.pk}/")
    assert page.get_by_text("Parcours 2 — Consolidation").first.is_visible()
    assert page.get_by_text("proposé, à confirmer par l'ARS").first.is_visible()
    assert_accessible(page, "structure, parcours proposé")

    login(page, live_server, "instructeur.idf", TOTP_SECRET)
    page.goto(f"{live_server.url}/maturite/structures/")
    assert_accessible(page, "structures et parcours")
    page.get_by_role("link", name=structure.name).click()
    page.locator("#id_pathway").select_option("P2")
    page.get_by_role("button", name="Confirmer le parcours").click()
    page.wait_for_url(f"{live_server.url}/maturite/structures/{structure.pk}/")
    assert page.get_by_text("confirmé par l'ARS").first.is_visible()
    assert_accessible(page, "structure, parcours confirmé")
    assignment = PathwayAssignment.objects.get(organisation=structure)
    assert (assignment.pathway, assignment.status, assignment.confirmed_by) == (
        "P2",
        "confirmed",
        ars,
    )

    login(page, live_server, "rssi.mutualise")
    page.goto(f"{live_server.url}/maturite/mutualisations/")
    page.get_by_role("link", name=pool.name).click()
    row = page.locator("tr", has_text=structure.name)
    assert "P2 — confirmé par l'ARS" in row.inner_text()
    assert_accessible(page, "tableau de bord de la mutualisation")
    return PathwayJourney(rssi, ars, pooled, pool, campaign, assignment)
