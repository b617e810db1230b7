"""The pages of the secrets and egress items in Debian's Chromium, checked with axe-core: the
repository form (S3 keys entered like the password) and the administrators' internal-targets
page, used end to end."""

from __future__ import annotations

import re

import pytest

from careops.core.models import AuditEvent
from careops.tenancy.models import Organisation
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD
from tests.web.helpers import enable_totp, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username, secret=None):  # noqa: F811 - the page, not the fixture
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if secret:
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.get_by_label(re.compile("code", re.I)).fill(totp_code(secret))
        page.get_by_role(
            "button", name=re.compile("Se connecter|Connexion|Authentifier|Valider", re.I)
        ).click()
    page.wait_for_url(f"{live_server.url}/")


def test_repository_form_asks_for_s3_keys_never_for_variable_names(
    page,  # noqa: F811
    live_server,
    org_tree,
    make_user,
):
    make_user("es_rssi", org_tree.ej_a, username="rssi.a")
    _login(page, live_server, "rssi.a")
    page.goto(f"{live_server.url}/sauvegardes/depots/nouveau/")
    assert page.get_by_label("Clé d'accès S3").get_attribute("type") == "password"
    assert page.get_by_label("Clé secrète S3").get_attribute("type") == "password"
    assert "Variable d'environnement" not in page.content()
    assert_accessible(page, "formulaire dépôt")


def test_an_administrator_allows_internal_targets_from_the_page(
    page,  # noqa: F811
    live_server,
    org_tree,
    make_user,
):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    enable_totp(make_user("administrator", org_tree.ans, username="admin.prog"), secret)
    _login(page, live_server, "admin.prog", secret)
    page.goto(f"{live_server.url}/securite/cibles-internes/")
    assert_accessible(page, "cibles internes")
    row = page.get_by_role("row").filter(has_text=org_tree.ght.name)
    row.get_by_label("Motif").fill("contrôleurs et NAS sur le réseau du GHT")
    row.get_by_role("button", name="Autoriser").click()
    page.get_by_text("Politique de sortie enregistrée.").wait_for()
    assert Organisation.objects.get(pk=org_tree.ght.pk).internal_targets
    event = AuditEvent.objects.get(action="core.egress.internal_targets")
    assert "réseau du GHT" in event.summary
