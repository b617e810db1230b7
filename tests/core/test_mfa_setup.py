"""Issue 12 item 14: the TOTP set-up asks the password once, the recovery codes page leads on,
and « Annuler » is never styled as the primary action."""

import re

from tests.conftest import PASSWORD
from tests.web.helpers import enable_totp, totp_code


def test_first_login_set_up_asks_the_password_once_and_leads_on(
    client, org_tree, make_user, transactional_db
):
    user = make_user("ars_instructor", org_tree.ars_idf)
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert client.get("/")["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200  # not a redirect to the password re-check
    done = client.post(
        "/accounts/2fa/totp/activate/", {"code": totp_code(page.context["form"].secret)}
    )
    assert done["Location"] == "/accounts/2fa/recovery-codes/"
    codes = client.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    html = codes.content.decode()
    assert re.search(r'<a class="btn" href="/">[^<]*continuer</a>', html)
    assert len(re.findall(r"\b[a-z0-9]{8}\b", html.split("recovery_codes")[-1])) >= 10
    assert client.get("/").status_code == 200


def test_cancel_is_not_the_primary_button(client, org_tree, make_user):
    user = enable_totp(make_user("administrator", org_tree.ans))
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    html = client.get("/accounts/2fa/authenticate/").content.decode()
    cancel = re.search(
        r'<button class="([^"]+)"[^>]*form="logout-from-stage"[^>]*>\s*Annuler', html
    )
    submit = re.search(
        r'<button class="([^"]+)"[^>]*type="submit">\s*(Se connecter|Connexion)', html
    )
    assert cancel and cancel.group(1) == "btn btn--tertiary"
    assert submit and submit.group(1) == "btn"


def test_removing_the_second_factor_later_asks_for_the_password(client, org_tree, make_user):
    """Only the first set-up skips the re-check: deactivating TOTP after a normal sign-in
    (password then code) still asks for the password."""
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    user = enable_totp(make_user("es_rssi", org_tree.ej_b), secret)
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/").status_code == 200
    answer = client.get("/accounts/2fa/totp/deactivate/")
    assert answer.status_code == 302 and "/accounts/reauthenticate/" in answer["Location"]
