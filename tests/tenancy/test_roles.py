"""Granting roles from the organisation page: never above one's own rights."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from careops.core.models import AuditEvent
from careops.tenancy.models import RoleAssignment
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_ght_rssi_grants_a_contributor_role_to_an_existing_account(client, org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    colleague = make_user(username="colleague")
    login(client, rssi)
    response = client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_a.pk]),
        {"user": "colleague", "role": "contributor", "include_subtree": "on"},
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(user=colleague, organisation=org_tree.ej_a).exists()
    assert AuditEvent.objects.filter(action="role.grant", actor=rssi).exists()


def test_inviting_creates_an_account_without_password_and_mails_a_link(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    login(client, rssi)
    client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_b.pk]),
        {"user": "nouvelle@ch-beta.test", "role": "reader"},
    )
    user = get_user_model().objects.get(email="nouvelle@ch-beta.test")
    assert not user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["nouvelle@ch-beta.test"]]


@pytest.mark.parametrize("role", ["administrator", "ars_instructor", "ans_instructor"])
def test_an_establishment_rssi_cannot_grant_a_higher_role(client, org_tree, make_user, role):
    rssi = make_user("es_rssi", org_tree.ej_b)
    make_user(username="someone")
    login(client, rssi)
    client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_b.pk]),
        {"user": "someone", "role": role},
    )
    assert not RoleAssignment.objects.filter(user__username="someone").exists()


def test_no_grant_outside_ones_scope(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    make_user(username="someone")
    login(client, rssi)
    response = client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_a.pk]),
        {"user": "someone", "role": "reader"},
    )
    assert response.status_code == 404
    assert not RoleAssignment.objects.filter(user__username="someone").exists()


def test_reader_sees_no_grant_form_and_cannot_post(client, org_tree, make_user):
    reader = make_user("reader", org_tree.ej_b)
    make_user(username="someone")
    login(client, reader)
    page = client.get(reverse("tenancy:detail", args=[org_tree.ej_b.pk]))
    assert "Attribuer un rôle" not in page.content.decode()
    response = client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_b.pk]),
        {"user": "someone", "role": "reader"},
    )
    assert response.status_code == 403


def test_revoke_removes_the_grant(client, org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    contributor = make_user("contributor", org_tree.ej_a)
    assignment = RoleAssignment.objects.get(user=contributor)
    login(client, rssi)
    client.post(reverse("tenancy:role_revoke", args=[assignment.pk]))
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.filter(action="role.revoke").exists()
