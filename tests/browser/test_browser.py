"""A GHT RSSI in a real browser: from the login page to an objective met by a new PSSI, without
a page reload; and every main page checked with axe-core against WCAG 2.1 A and AA."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from careops.compliance import services
from tests.browser.conftest import assert_accessible
from tests.conftest import PASSWORD
from tests.web.helpers import enable_totp, load_d2, pdf_bytes, pdf_upload, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = "/tmp/careops-item-{}.png"
OLD_REASON = "non atteint : la PSSI a été revue le 10/07/2022, avant le 16/07/2022"
NEW_REASON = "atteint : la PSSI a été revue le 01/03/2024"


@pytest.fixture
def scene(org_tree, make_user, transactional_db):
    """The GHT of ``org_tree`` assessed on D2, with a PSSI reviewed too early (D2.P1 not met)."""
    version = load_d2()
    rssi = make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    old = services.create_evidence(
        None,
        org_tree.ght,
        "pssi",
        "PSSI du GHT (2022)",
        services.RevisionInput(
            effective_date=dt.date(2022, 7, 10),
            validated_by="legal_representative",
            files=[pdf_upload("pssi-2022.pdf", marker="2022")],
        ),
        item_codes=["D2.P1"],
    )
    assessment = services.open_assessment(None, org_tree.ght, version, dt.date(2024, 6, 1))
    return {
        "rssi": rssi,
        "assessment": assessment,
        "evidence": old,
        "version": version,
        "tree": org_tree,
    }


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def type_date(field, day: dt.date) -> None:
    """Type a date into an <input type=date> with the keyboard, as a user does.

    The field's order (jj/mm/aaaa or mm/dd/yyyy) follows the browser's own language: Debian's
    Chromium without its chromium-l10n package only has en-US, so the US order is tried second.
    """
    for pattern in ("%d%m%Y", "%m%d%Y"):
        field.evaluate("el => { el.value = ''; el.blur(); }")
        field.focus()  # lands on the field's first segment
        field.page.keyboard.type(day.strftime(pattern))
        if field.input_value() == day.isoformat():
            return
    raise AssertionError(f"could not type {day} into the date field: {field.input_value()!r}")


def progress_value(page) -> int:
    return int(page.locator(".card [role=progressbar]").first.get_attribute("aria-valuenow"))


def test_rssi_uploads_a_pssi_and_sees_the_objective_met_without_reload(page, live_server, scene):
    assessment = scene["assessment"]
    login(page, live_server, "rssi.ght")
    page.get_by_role("heading", name="Tableau de bord").wait_for()

    # dashboard → the D2 assessment
    page.get_by_role("link", name=re.compile(r"^D2 — ")).click()
    page.wait_for_url(f"{live_server.url}/evaluations/{assessment.pk}/")
    before = progress_value(page)
    row = page.locator("#row-D2\\.P1")
    assert row.locator(".badge").inner_text() == "NON ATTEINT"

    # → the objective D2.P1
    row.get_by_role("link", name="D2.P1").click()
    page.wait_for_url(f"{live_server.url}/evaluations/{assessment.pk}/exigences/D2.P1/")
    status = page.locator("#statut")
    assert status.locator("#statut-titre .badge").inner_text() == "NON ATTEINT"
    assert OLD_REASON in status.inner_text()
    page.screenshot(path=SCREENSHOTS.format("before"), full_page=True)

    # a marker that a full page load would wipe out
    page.evaluate("window.__sansRechargement = true")

    form = page.locator("form[hx-post]")
    form.get_by_label("Type de preuve").select_option("pssi")
    form.get_by_label("Titre").fill("PSSI du GHT révisée (2024)")
    type_date(form.get_by_label("Date d'effet"), dt.date(2024, 3, 1))
    form.get_by_label("Validée par").select_option("legal_representative")
    form.get_by_label("Fichiers").set_input_files(
        {"name": "pssi-2024.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes("2024")}
    )
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name="Déposer").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"

    met = page.locator("#statut-titre .badge--met")
    met.wait_for()
    assert met.inner_text() == "ATTEINT"
    assert NEW_REASON in page.locator("#statut").inner_text()
    assert page.evaluate("window.__sansRechargement") is True, "the page was reloaded"
    assert page.url.endswith("/exigences/D2.P1/")
    assert page.get_by_role("status").filter(has_text="Preuve enregistrée").is_visible()
    assert page.get_by_role("link", name="PSSI du GHT révisée (2024)").is_visible()
    history = page.get_by_role("table", name="Historique").locator("tbody tr").first
    assert history.locator("td").nth(2).inner_text() == "Atteint"
    # focus lands on the refreshed status, for keyboard and screen-reader users
    assert page.evaluate("document.activeElement.id") == "statut"
    page.screenshot(path=SCREENSHOTS.format("after"), full_page=True)
    assert_accessible(page, "objective page after the upload")

    # the domain's progress bar moved
    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role(
        "link", name=re.compile("D2$")
    ).click()
    page.wait_for_url(f"{live_server.url}/evaluations/{assessment.pk}/")
    assert progress_value(page) > before
    assert page.locator("#row-D2\\.P1 .badge").inner_text() == "ATTEINT"


def test_rejected_file_shows_the_french_reason_in_place(page, live_server, scene):
    assessment = scene["assessment"]
    login(page, live_server, "rssi.ght")
    page.goto(f"{live_server.url}/evaluations/{assessment.pk}/exigences/D2.P1/")
    page.evaluate("window.__sansRechargement = true")
    form = page.locator("form[hx-post]")
    form.get_by_label("Titre").fill("Mauvais fichier")
    form.get_by_label("Date d'effet").fill("2024-03-01")
    form.get_by_label("Fichiers").set_input_files(
        {"name": "pssi.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00"}
    )
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name="Déposer").click()
    assert answer.value.status == 422
    error = page.locator("#id_files_error")
    error.wait_for()
    assert "type de fichier non accepté" in error.inner_text()
    assert page.evaluate("window.__sansRechargement") is True
    assert page.locator("#id_title").input_value() == "Mauvais fichier"
    assert page.locator("#statut-titre .badge").inner_text() == "NON ATTEINT"
    # focus goes to the first field in error, which names its error
    assert page.evaluate("document.activeElement.id") == "id_files"
    assert "id_files_error" in page.locator("#id_files").get_attribute("aria-describedby")
    assert_accessible(page, "objective page with a rejected file")


def _url(scene, live_server, name):
    tree, a = scene["tree"], scene["assessment"]
    paths = {
        "login": "/accounts/login/",
        "dashboard": "/",
        "organisation list": "/organisations/",
        "organisation detail": f"/organisations/{tree.ght.pk}/",
        "organisation form": f"/organisations/{tree.ej_a.pk}/modifier/",
        "assessment": f"/evaluations/{a.pk}/",
        "objective page": f"/evaluations/{a.pk}/exigences/D2.P1/",
        "evidence page": f"/preuves/{scene['evidence'].pk}/",
        "referential index": "/referentiel/",
        "referential version": f"/referentiel/versions/{scene['version'].pk}/",
        "referential load": "/referentiel/charger/",
        "audit log": "/journal/",
    }
    return f"{live_server.url}{paths[name]}"


PAGES = [
    "login",
    "dashboard",
    "organisation list",
    "organisation detail",
    "organisation form",
    "assessment",
    "objective page",
    "evidence page",
    "referential index",
    "referential version",
    "audit log",
]


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violation(name, page, live_server, scene):
    if name != "login":
        login(page, live_server, "rssi.ght")
    page.goto(_url(scene, live_server, name))
    assert page.locator("h1").count() == 1
    if name == "objective page":
        assert page.locator("form[hx-post] input[type=file]").count() == 1
    page.screenshot(path=f"/tmp/careops-{name.replace(' ', '-')}.png", full_page=True)
    assert_accessible(page, name)


def test_administrator_logs_in_with_totp_and_loads_page_is_accessible(
    page, live_server, scene, make_user
):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    enable_totp(make_user("administrator", scene["tree"].ans, username="admin.prog"), secret)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("admin.prog")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    assert_accessible(page, "TOTP code page")
    page.get_by_label(re.compile("code", re.I)).fill(totp_code(secret))
    page.get_by_role(
        "button", name=re.compile("Se connecter|Connexion|Authentifier|Valider", re.I)
    ).click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(_url(scene, live_server, "referential load"))
    assert page.get_by_role("heading", name="Charger une version du référentiel").is_visible()
    assert_accessible(page, "referential load")


def test_instructor_without_totp_is_walked_through_its_setup(page, live_server, scene, make_user):
    """An ARS instructor's first login: TOTP set-up (no second password), recovery codes with a
    way on, then the dashboard."""
    make_user("ars_instructor", scene["tree"].ars_idf, username="instructeur.ars")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("instructeur.ars")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert page.get_by_role("alert").filter(has_text="double authentification").is_visible()
    page.screenshot(path="/tmp/careops-totp-setup.png", full_page=True)
    assert_accessible(page, "TOTP set-up")
    secret = page.locator("#authenticator_secret").input_value()
    page.get_by_label(re.compile("Code", re.I)).fill(totp_code(secret))
    page.get_by_role("button", name=re.compile("Activer")).click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    assert_accessible(page, "recovery codes")
    page.get_by_role("link", name=re.compile("continuer", re.I)).click()
    page.get_by_role("heading", name="Tableau de bord").wait_for()
    assert "GHT Test Val-de-Seine" in page.content()
