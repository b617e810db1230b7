"""The remote-access pages in Debian's Chromium, each checked with axe-core (WCAG 2.1 A and AA),
for the RSSI and for a vendor (who sees only their own path and the attestation form)."""

from __future__ import annotations

import pytest

from careops.remote_access import services
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD
from tests.remote_access.test_engine import SWANCTL_WEAK

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(tab, live_server, username):
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.get_by_label("Identifiant ou adresse électronique").fill(username)
    tab.get_by_label("Mot de passe").fill(PASSWORD)
    tab.get_by_role("button", name="Se connecter").click()
    tab.wait_for_url(f"{live_server.url}/")


def test_remote_access_pages_are_accessible(page, live_server, scene):  # noqa: F811
    services.run_review(
        scene.rssi, scene.tree.ej_a, vpn_files=[("swanctl.conf", SWANCTL_WEAK.encode())]
    )
    review = services.run_review(scene.rssi, scene.tree.ej_a)
    services.submit_attestation(scene.vendor, scene.bio, True, False, "Jean Dupont")
    _login(page, live_server, "rssi.ght")
    pages = {
        "accès distants": "/acces-distants/",
        "accès": f"/acces-distants/{scene.bio.pk}/",
        "formulaire accès": "/acces-distants/nouveau/",
        "import": "/acces-distants/import/",
        "évaluation": "/acces-distants/revues/nouvelle/",
        "revue": f"/acces-distants/revues/{review.pk}/",
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        assert page.locator("h1").count() == 1, name
        assert_accessible(page, name)
    page.goto(f"{live_server.url}/acces-distants/revues/{review.pk}/")
    assert page.locator("table.heatmap tbody tr").count() == 2  # CH Alpha's two paths
    assert page.locator("svg[role=img]").count() == 1  # the trend between the two reviews


def test_vendor_attests_in_the_browser(page, live_server, scene):  # noqa: F811
    _login(page, live_server, "technicien.imagerie")
    page.goto(f"{live_server.url}/acces-distants/")
    assert page.get_by_role("link", name="RA-BIO-01").count() == 1
    assert page.get_by_role("link", name="RA-TT-01").count() == 0
    page.get_by_role("link", name="RA-BIO-01").click()
    page.get_by_label("Notre contrat comporte les clauses de sécurité demandées").check()
    page.get_by_label("Techniciens nommés").fill("Jean Dupont\nAna Martin")
    assert_accessible(page, "attestation fournisseur")
    page.get_by_role("button", name="Transmettre l'attestation").click()
    assert page.get_by_text("Attestation transmise au RSSI.").count() == 1
