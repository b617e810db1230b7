"""Each role's day in Chromium: the GHT's RSSI accepts the e-mailed invitation and sets a
password, applies, reviews what filing will freeze and confirms; the ARS validates and instructs
on one page from its cockpit; the RSSI answers the complement; the ANS is refused a decision
without its opinions, gives them and confirms. axe-core on every page at 1280 px and at 390 px,
no horizontal scroll at 390 px."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model

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
    make_user("ght_rssi", org_tree.ght, username="dsi.ght")  # invites the RSSI
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


def check(tab, name: str) -> None:
    """axe-core at 1280 px and at 390 px, and no horizontal scroll at 390 px."""
    tab.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(tab, f"{name} (1280 px)")
    tab.set_viewport_size({"width": 390, "height": 844})
    # a phone loads the page at this width; here the page is resized: let its resize handler
    # (scrollable tables made keyboard-focusable) run before axe looks
    tab.evaluate("() => window.dispatchEvent(new Event('resize'))")
    overflow = tab.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls horizontally at 390 px by {overflow} px ({tab.url})"
    assert_accessible(tab, f"{name} (390 px)")
    tab.set_viewport_size({"width": 1280, "height": 900})


def invite_and_accept(browser, live_server, tree):  # noqa: F811
    """A GHT colleague invites the RSSI; the RSSI opens the e-mailed link, sets a password and
    signs in with it."""
    from django.core import mail
    from django.test import Client

    inviter = Client()
    inviter.force_login(get_user_model().objects.get(username="dsi.ght"))
    mail.outbox.clear()
    answer = inviter.post(
        f"/organisations/{tree.ght.pk}/roles/",
        {
            "user": "rssi.ght@example.test",
            "role": "ght_rssi",
            "include_subtree": "on",
        },
    )
    assert answer.status_code == 302, answer
    assert [m.to for m in mail.outbox] == [["rssi.ght@example.test"]]
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    context = browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto(link.replace("http://testserver", live_server.url))
    fields = tab.locator("input[type=password]")
    fields.nth(0).fill(NEW_PASSWORD)
    fields.nth(1).fill(NEW_PASSWORD)
    check(tab, "set password")
    tab.locator("main form button[type=submit]").first.click()
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.get_by_label("Identifiant ou adresse électronique").fill("rssi.ght@example.test")
    tab.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(f"{live_server.url}/")
    return context, tab


NEW_PASSWORD = "Rssi-du-GHT-2026-choisi"


def test_each_roles_day_in_the_browser(browser, live_server, cast):  # noqa: F811
    tree = cast["tree"]
    rssi_ctx, rssi = invite_and_accept(browser, live_server, tree)
    ars_ctx, ars = open_as(browser, live_server, "ars.idf", cast["secrets"]["ars.idf"])
    ans_ctx, ans = open_as(browser, live_server, "ans", cast["secrets"]["ans"])
    try:
        # the RSSI's cockpit, then the candidacy
        rssi.get_by_role("heading", name="Tableau de bord").wait_for()
        check(rssi, "RSSI cockpit")
        rssi.get_by_role("link", name="Déclarations", exact=True).first.click()
        check(rssi, "declarations index")
        rssi.get_by_label("Candidat").select_option(str(tree.ght.pk))
        rssi.get_by_role("button", name="Déposer la candidature").click()
        rssi.wait_for_url(re.compile(r"/declarations/\d+/$"))
        detail = rssi.url
        assert state(rssi) == "Candidature déposée"

        # the ARS validates from its cockpit's queue
        ars.goto(f"{live_server.url}/")
        check(ars, "ARS cockpit")
        ars.locator("#ars-queue").get_by_role("link", name=tree.ght.name).click()
        ars.get_by_label("Montant plafond (€)").fill("100 000")
        ars.get_by_role("button", name="Valider la candidature").click()
        assert state(ars) == "Candidature validée"

        # the RSSI reviews what will be frozen, downloads the PDF, then confirms the filing
        rssi.goto(detail)
        check(rssi, "candidacy page")
        rssi.get_by_role("link", name="Relire avant dépôt").click()
        rssi.wait_for_url(re.compile(r"/revue-avant-depot/$"))
        assert "D2.O1.B" in rssi.locator("#missing").inner_text()
        assert "row--missing" in (rssi.locator("#item-D2\\.O1\\.B").get_attribute("class") or "")
        with rssi.expect_download() as download:
            rssi.get_by_role("link", name="Télécharger cette revue (PDF)").click()
        assert download.value.suggested_filename.endswith(".pdf")
        check(rssi, "pre-filing review")
        rssi.get_by_label("Nom du représentant légal").fill("Mme Claire Martin")
        rssi.get_by_label("Qualité").fill("Directrice générale")
        rssi.get_by_label(re.compile("atteste sur l'honneur")).check()
        rssi.get_by_label(re.compile("J'ai relu cette revue")).check()
        rssi.get_by_role("button", name="Confirmer le dépôt").click()
        rssi.wait_for_url(detail)
        assert state(rssi).startswith("Déclaration déposée")
        sha = rssi.locator("#sha256").inner_text()
        assert re.fullmatch(r"[0-9a-f]{64}", sha)
        check(rssi, "filed declaration")

        # the ARS instructs on one page: a complement on O1.B, conforme for the rest
        ars.goto(f"{live_server.url}/")
        ars.locator("#ars-queue").get_by_role("link", name=tree.ght.name).click()
        ars.wait_for_url(re.compile(r"/instruction/$"))
        check(ars, "ARS one-page instruction")
        ars.get_by_label("Avis sur D2.O1.B").select_option("complement_requested")
        ars.get_by_label("Toutes les exigences encore sans avis : conforme").check()
        ars.get_by_role("button", name="Enregistrer les avis").click()
        ars.get_by_text("D2.O1.B : un commentaire est obligatoire").wait_for()
        ars.get_by_label("Avis sur D2.O1.B").select_option("complement_requested")
        ars.get_by_label("Commentaire sur D2.O1.B").fill(
            "Joindre le cahier de recette du test de restauration."
        )
        ars.get_by_label("Toutes les exigences encore sans avis : conforme").check()
        ars.get_by_role("button", name="Enregistrer les avis").click()
        ars.get_by_text("3 avis enregistré(s).").wait_for()

        # the RSSI sees the complement on the cockpit and answers it with a new revision
        compliance.create_evidence(
            None,
            tree.ght,
            "backup_test",
            "Cahier de recette",
            compliance.RevisionInput(
                effective_date=dt.date(2026, 4, 2), files=[upload("recette.pdf", "recette")]
            ),
        )
        rssi.goto(f"{live_server.url}/")
        assert "Joindre le cahier de recette" in rssi.locator("#complements").inner_text()
        rssi.locator("#complements").get_by_role("link", name="D2.O1.B").click()
        rssi.get_by_label(re.compile("Réponse au complément")).fill("Cahier de recette joint.")
        rssi.get_by_label(re.compile("Cahier de recette r1")).check()
        rssi.get_by_role("button", name="Répondre").click()
        rssi.get_by_text("Réponse envoyée à l'instructeur.").wait_for()
        assert rssi.locator("#sha256").inner_text() == sha  # the snapshot did not move
        rssi.goto(f"{live_server.url}/preuves/?type=backup_test")
        assert "Cahier de recette" in rssi.locator("#library").inner_text()
        check(rssi, "evidence library")

        # the ARS settles O1.B and transmits
        ars.goto(detail.replace("/declarations/", "/declarations/") + "instruction/")
        ars.get_by_label("Avis sur D2.O1.B").select_option("compliant")
        ars.get_by_role("button", name="Enregistrer les avis").click()
        ars.get_by_text("1 avis enregistré(s).").wait_for()
        ars.get_by_role("button", name="Clore l'instruction ARS et transmettre à l'ANS").click()
        assert state(ars).startswith("Instruite par l'ARS")

        # the ANS: cockpit, decision refused without its opinions, then opinions and confirmation
        ans.goto(f"{live_server.url}/")
        check(ans, "ANS cockpit")
        ans.locator("#ans-picture").get_by_role("link", name=re.compile(tree.ght.name)).click()
        ans.wait_for_url(re.compile(r"/decision/$"))
        check(ans, "ANS decision step")
        ans.get_by_label(re.compile("Je confirme la décision")).check()
        ans.get_by_role("button", name="Rendre la décision").click()
        ans.get_by_text(re.compile("Décision impossible : avis ANS")).first.wait_for()
        ans.get_by_role("link", name="les donner sur la page d'instruction").click()
        check(ans, "ANS one-page instruction")
        ans.get_by_label("Toutes les exigences encore sans avis : conforme").check()
        ans.get_by_role("button", name="Enregistrer les avis").click()
        ans.get_by_text("3 avis enregistré(s).").wait_for()
        ans.get_by_role("link", name="Passer à la décision").click()
        assert ans.locator("#missing-opinions").count() == 0
        ans.get_by_label("Motivation de la décision").fill("Conforme à l'avis de l'ARS.")
        ans.get_by_role("button", name="Rendre la décision").click()  # the browser holds it
        confirm = ans.get_by_label(re.compile("Je confirme la décision"))
        assert confirm.evaluate("box => box.validity.valueMissing")
        assert state(ans).startswith("Instruite par l'ARS")
        confirm.check()
        ans.get_by_role("button", name="Rendre la décision").click()
        ans.wait_for_url(detail)
        assert state(ans) == "Décision rendue"
        assert ans.locator("#amount").inner_text() == "100\u202f000,00\u00a0€"
        check(ans, "decided dossier")
        ans.screenshot(path=SCREENSHOTS.format("decided"), full_page=True)
        ans.goto(f"{live_server.url}/declarations/tableau-de-bord/")
        ans.get_by_role("heading", name=re.compile("Tableau de bord national")).wait_for()
        assert_accessible(ans, "national dashboard")
    finally:
        for context in (rssi_ctx, ars_ctx, ans_ctx):
            context.close()
