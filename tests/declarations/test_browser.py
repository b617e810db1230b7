"""The whole workflow in Chromium, across roles: the GHT's RSSI applies, the ARS validates,
the RSSI files and attests, the ARS asks for a complement, the RSSI answers with a new revision,
the ARS transmits, the ANS decides and records the payment; pages checked with axe-core."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pytest

from careops.compliance import services as compliance
from tests.browser.conftest import assert_accessible, browser, page  # noqa: F401
from tests.conftest import PASSWORD
from tests.declarations.conftest import DOMAIN, add_evidence, load_domain, upload
from tests.web.helpers import enable_totp, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp/careops-declaration-{}.png"
# The browser's clock is the real one: the test domain's windows are opened wide around today.
WIDE = copy.deepcopy(DOMAIN)
WIDE["windows"] = {
    name: {"opens": "2020-01-01", "closes": "2099-12-31"}
    for name in ("candidacy", "declaration", "ars_instruction", "ans_instruction", "payment")
}


@pytest.fixture
def cast(org_tree, make_user, transactional_db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    version = load_domain(WIDE, tmp_path)
    add_evidence(org_tree.ght, "pssi", "PSSI du GHT", "pssi-b")
    add_evidence(org_tree.ght, "pca", "PCA du GHT", "pca-b")
    make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    secrets = {}
    for role, node, name in (
        ("ars_instructor", org_tree.ars_idf, "ars.idf"),
        ("ans_instructor", org_tree.ans, "ans"),
    ):
        secrets[name] = "JBSWY3DPEHPK3PXP" + ("A" if name == "ans" else "B") * 16
        enable_totp(make_user(role, node, username=name), secrets[name])
    return {"version": version, "tree": org_tree, "secrets": secrets}


def open_as(browser, live_server, username, secret=None):  # noqa: F811
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.get_by_label("Identifiant ou adresse électronique").fill(username)
    tab.get_by_label("Mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    if secret:
        tab.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        tab.get_by_label(re.compile("code", re.I)).fill(totp_code(secret))
        tab.get_by_role(
            "button", name=re.compile("Se connecter|Connexion|Authentifier|Valider", re.I)
        ).click()
    tab.wait_for_url(f"{live_server.url}/")
    return context, tab


def state(tab) -> str:
    return tab.locator("#state").inner_text()


def test_workflow_across_roles_in_the_browser(browser, live_server, cast):  # noqa: F811
    tree = cast["tree"]
    rssi_ctx, rssi = open_as(browser, live_server, "rssi.ght")
    ars_ctx, ars = open_as(browser, live_server, "ars.idf", cast["secrets"]["ars.idf"])
    ans_ctx, ans = open_as(browser, live_server, "ans", cast["secrets"]["ans"])
    try:
        # the RSSI applies
        rssi.get_by_role("link", name="Déclarations").click()
        rssi.get_by_label("Candidat").select_option(str(tree.ght.pk))
        rssi.get_by_role("button", name="Déposer la candidature").click()
        rssi.wait_for_url(re.compile(r"/declarations/\d+/$"))
        detail = rssi.url
        assert state(rssi) == "Candidature déposée"
        assert_accessible(rssi, "candidacy page")

        # the ARS validates with a ceiling
        ars.goto(detail)
        ars.get_by_label("Montant plafond (€)").fill("100 000")
        ars.get_by_role("button", name="Valider la candidature").click()
        assert state(ars) == "Candidature validée"

        # the RSSI files the declaration, attested by the legal representative
        rssi.goto(detail)
        rssi.get_by_label("Nom du représentant légal").fill("Mme Claire Martin")
        rssi.get_by_label("Qualité").fill("Directrice générale")
        rssi.get_by_label(re.compile("atteste sur l'honneur")).check()
        rssi.get_by_role("button", name="Déposer et attester").click()
        assert state(rssi).startswith("Déclaration déposée")
        sha = rssi.locator("#sha256").inner_text()
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
        assert_accessible(rssi, "filed declaration")

        # the ARS reviews: two conforme, one complement
        ars.goto(detail)
        for code in ("D2.P1", "D2.O1.A"):
            ars.get_by_label("Exigence", exact=True).select_option(code)
            ars.get_by_label("Avis", exact=True).select_option("compliant")
            ars.get_by_role("button", name="Enregistrer l'avis").click()
            ars.get_by_text("Avis enregistré.").wait_for()
        ars.get_by_label("Exigence", exact=True).select_option("D2.O1.B")
        ars.get_by_label("Avis", exact=True).select_option("complement_requested")
        ars.get_by_label(re.compile("^Message")).fill(
            "Joindre le cahier de recette du test de restauration."
        )
        ars.get_by_role("button", name="Enregistrer l'avis").click()
        ars.get_by_text("Avis enregistré.").wait_for()
        assert_accessible(ars, "ARS instruction page")

        # the RSSI uploads a new piece of evidence and answers with it
        compliance.create_evidence(
            None,
            tree.ght,
            "backup_test",
            "Cahier de recette",
            compliance.RevisionInput(
                effective_date=dt.date(2026, 4, 2), files=[upload("recette.pdf", "recette")]
            ),
        )
        rssi.goto(detail)
        rssi.get_by_label(re.compile("Réponse au complément")).fill("Cahier de recette joint.")
        rssi.get_by_label(re.compile("Cahier de recette r1")).check()
        rssi.get_by_role("button", name="Répondre").click()
        rssi.get_by_text("Réponse envoyée à l'instructeur.").wait_for()
        assert rssi.locator("#sha256").inner_text() == sha  # the snapshot did not move

        # the ARS settles the last item and transmits
        ars.goto(detail)
        ars.get_by_label("Exigence", exact=True).select_option("D2.O1.B")
        ars.get_by_label("Avis", exact=True).select_option("compliant")
        ars.get_by_role("button", name="Enregistrer l'avis").click()
        ars.get_by_role("button", name="Clore l'instruction ARS et transmettre à l'ANS").click()
        assert state(ars).startswith("Instruite par l'ARS")

        # the ANS decides and records the payment
        ans.goto(detail)
        ans.get_by_label("Motivation de la décision").fill("Conforme à l'avis de l'ARS.")
        ans.get_by_role("button", name="Rendre la décision").click()
        assert state(ans) == "Décision rendue"
        assert ans.locator("#amount").inner_text() == "100\u202f000,00\u00a0€"
        assert "à confirmer" in ans.locator("#funding").inner_text()
        ans.get_by_label("Référence du paiement").fill("VIR-2026-001")
        ans.get_by_role("button", name="Enregistrer le paiement").click()
        assert state(ans) == "Paiement effectué"
        ans.screenshot(path=SCREENSHOTS.format("paid"), full_page=True)

        ans.goto(f"{live_server.url}/declarations/tableau-de-bord/")
        ans.get_by_role("heading", name=re.compile("Tableau de bord national")).wait_for()
        ans.screenshot(path=SCREENSHOTS.format("dashboard"), full_page=True)
        assert_accessible(ans, "national dashboard")
        ars.goto(f"{live_server.url}/declarations/tableau-de-bord/")
        assert "Tableau de bord régional" in ars.content()
    finally:
        for context in (rssi_ctx, ars_ctx, ans_ctx):
            context.close()
