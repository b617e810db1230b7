"""Findings 11.17 and issue 12 item 5: invitations.

The attacks: invite a new account with an address another account holds (different case), so
that its holder receives a link, or so that a password reset for that address mails links of
two accounts; create such an account directly in the database. The refusals: a French error,
no account, no e-mail; the database refuses a shared address whatever the case.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from careops.tenancy import roles
from careops.tenancy.models import RoleAssignment
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def grant(client, node, ident, role="contributor"):
    return client.post(
        reverse("tenancy:role_grant", args=[node.pk]),
        {"user": ident, "role": role, "include_subtree": "on"},
        follow=True,
    )


def test_the_service_refuses_a_new_account_on_an_address_another_holds(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    make_user(username="victime")  # victime@example.test
    with pytest.raises(ValidationError) as caught:
        roles.grant(rssi, org_tree.ej_b, "intrus", "reader", invite_email="VICTIME@Example.TEST")
    assert "déjà celle d'un autre compte" in " ".join(caught.value.messages)
    assert not get_user_model().objects.filter(username="intrus").exists()
    assert mail.outbox == []


def test_inviting_an_address_in_another_case_grants_the_existing_account(
    client, org_tree, make_user
):
    rssi = make_user("es_rssi", org_tree.ej_b)
    holder = make_user(username="titulaire")
    login(client, rssi)
    grant(client, org_tree.ej_b, "TITULAIRE@EXAMPLE.TEST")
    assert get_user_model().objects.filter(email__iexact="titulaire@example.test").count() == 1
    assert RoleAssignment.objects.filter(user=holder, organisation=org_tree.ej_b).exists()
    assert mail.outbox == []  # an existing account receives no link


def test_the_database_refuses_two_accounts_on_one_address(db):
    User = get_user_model()
    User.objects.create_user("premier", email="partage@example.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("second", email="Partage@Example.Test")
    User.objects.create_user("sans-adresse-1", email="")
    User.objects.create_user("sans-adresse-2", email="")  # empty addresses do not collide


def test_password_reset_mails_one_link_for_one_account(client, make_user):
    make_user(username="seul")
    client.post(reverse("account_reset_password"), {"email": "SEUL@example.test"})
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["seul@example.test"]
    assert len(re.findall(r"/accounts/password/reset/key/", mail.outbox[0].body)) == 1


# --- the invitation itself (issue 12, item 5) -------------------------------------------------


def test_the_invitation_is_a_real_invitation(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b, username="rssi.beta")
    rssi.first_name, rssi.last_name = "Claire", "Martin"
    rssi.save()
    login(client, rssi)
    page = grant(client, org_tree.ej_b, "Nouvelle.Collegue@CH-Beta.test", role="reader")
    assert "invitation envoyée à nouvelle.collegue@ch-beta.test" in page.content.decode()
    user = get_user_model().objects.get(email="nouvelle.collegue@ch-beta.test")
    assert not user.has_usable_password()
    assert RoleAssignment.objects.filter(user=user, role="reader").exists()
    [message] = mail.outbox
    assert message.to == ["nouvelle.collegue@ch-beta.test"]
    assert "réinitialisation" not in message.subject.lower()
    assert "Claire Martin" in message.subject and "CH Bêta" in message.subject
    body = message.body
    for expected in ("Claire Martin", "Lecteur", "CH Bêta", "programme CaRE", "expire le"):
        assert expected in body, expected
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", body).group(1)
    # the link works: the invited person chooses a password and signs in with it
    form = client.get(link, follow=True)
    assert form.status_code == 200
    client.logout()
    form = client.get(link, follow=True)
    action = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = client.post(
        action,
        {"password1": "Un-mot-de-passe-solide-2026", "password2": "Un-mot-de-passe-solide-2026"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.has_usable_password()


def test_the_invite_form_asks_only_what_it_needs(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    login(client, rssi)
    html = client.get(reverse("tenancy:detail", args=[org_tree.ej_b.pk])).content.decode()
    form = html[html.index("Attribuer un rôle") :]
    names = set(re.findall(r'name="([a-z_]+)"', form[: form.index("</form>")]))
    assert names == {"user", "role", "include_subtree"}


def test_an_unknown_username_without_address_gets_a_clear_message(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    login(client, rssi)
    page = grant(client, org_tree.ej_b, "inconnu")
    assert "indiquez une adresse pour l&#x27;inviter" in page.content.decode()
    assert not get_user_model().objects.filter(username="inconnu").exists()
    assert mail.outbox == []
