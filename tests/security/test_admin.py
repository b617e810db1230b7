"""Finding 11.4: /admin/login/ let a password alone in (no TOTP, no throttling).

The Django admin is gone: every change goes through the pages and services (role rules, MFA,
throttling, audit trail). The attack: log in at /admin/login/ with an administrator's password.
"""

import pytest
from django.conf import settings

from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/login/", "/admin/declarations/declaration/1/change/"]
)
def test_admin_urls_do_not_exist(path, client, org_tree, make_user):
    make_user("administrator", org_tree.ans, username="admin.attaque")
    answer = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin.attaque", "password": PASSWORD, "next": "/admin/"},
    )
    assert answer.status_code == 404
    assert "_auth_user_id" not in client.session  # the password alone opened no session
    assert client.get(path).status_code == 404


def test_admin_app_is_not_installed():
    assert "django.contrib.admin" not in settings.INSTALLED_APPS


def test_superuser_password_alone_only_reaches_the_totp_step(client, db, django_user_model):
    """The one login left is allauth's: a superuser with TOTP is asked for the code."""
    from tests.web.helpers import enable_totp

    root = django_user_model.objects.create_superuser("racine", "racine@example.test", PASSWORD)
    enable_totp(root)
    answer = client.post("/accounts/login/", {"login": "racine", "password": PASSWORD})
    assert answer.status_code == 302 and "/accounts/2fa/authenticate/" in answer["Location"]
    assert "_auth_user_id" not in client.session
