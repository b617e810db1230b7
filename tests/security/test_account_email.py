"""An account's e-mail address is its own: another account's address cannot be added to it
(it used to be accepted as unverified, and making it primary answered a server error)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def _user(name: str, email: str):
    user = get_user_model().objects.create_user(name, email=email, password="x-y-z-2026-long")
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def test_another_accounts_address_is_refused_in_french(client):
    alice = _user("alice", "alice@chu.test")
    _user("bob", "bob@chu.test")
    client.force_login(alice)
    response = client.post("/accounts/email/", {"action_add": "", "email": "BOB@chu.test"})
    assert response.status_code == 200
    assert "Cette adresse est celle d&#x27;un autre compte careops" in response.content.decode()
    assert list(EmailAddress.objects.filter(user=alice).values_list("email", flat=True)) == [
        "alice@chu.test"
    ]


def test_a_new_address_of_ones_own_is_still_added(client):
    alice = _user("alice", "alice@chu.test")
    client.force_login(alice)
    added = client.post("/accounts/email/", {"action_add": "", "email": "a.martin@chu.test"})
    assert added.status_code == 302
    address = EmailAddress.objects.get(user=alice, email="a.martin@chu.test")
    assert not address.primary
