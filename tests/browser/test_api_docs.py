"""/api/docs in Chromium with every non-loopback request blocked: Swagger UI renders from the
platform's own static files, behind login, under the Content-Security-Policy."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_behind_login(page, live_server, org_tree, make_user):
    make_user("ght_rssi", org_tree.ght, username="rssi.docs")
    outside: list[str] = []

    def offline(route):
        host = urlparse(route.request.url).hostname
        if host in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", offline)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )

    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_url(re.compile(r"/accounts/login/"))  # behind login
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.docs")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/api/docs"))
    # Swagger UI built the operations list from /api/openapi.json
    page.locator(".opblock-tag").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("careops API").first.is_visible()
    assert outside == [], f"requests outside the platform: {outside}"
    assert violations == [], f"CSP violations: {violations}"


def test_language_switch_works_without_inline_script(page, live_server, org_tree, make_user):
    make_user("ght_rssi", org_tree.ght, username="rssi.langue")
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.select_option("#lang", "en")
    page.wait_for_load_state("load")
    page.locator("html[lang=en]").wait_for()
    assert violations == []


def test_token_page_and_error_page_are_usable_and_accessible(
    page, live_server, org_tree, make_user
):
    from tests.browser.conftest import assert_accessible

    make_user("ght_rssi", org_tree.ght, username="rssi.jeton")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.jeton")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Jetons d'API").click()
    page.wait_for_url(re.compile(r"/compte/jetons/"))
    assert page.get_by_label(re.compile("Validité")).input_value() == "90"
    assert_accessible(page, "API tokens")
    page.get_by_label("Nom du jeton").fill("tableau de bord")
    page.get_by_label("Lecture seule").check()
    page.get_by_role("button", name="Créer le jeton").click()
    value = page.locator("#token-value").input_value()
    assert value.startswith("cop_")
    assert page.get_by_role("cell", name="lecture seule").is_visible()
    assert_accessible(page, "API token created")
    page.get_by_role("button", name=re.compile("Révoquer")).click()
    assert page.get_by_text("Aucun jeton.").is_visible()
    page.goto(f"{live_server.url}/nulle-part/")
    assert page.get_by_role("heading", name="Page introuvable").is_visible()
    assert_accessible(page, "404 page")
    page.get_by_role("link", name="Retour au tableau de bord").click()
    page.get_by_role("heading", name="Tableau de bord").wait_for()
