"""Attack: a holder of a node-only role grants roles over the node's whole subtree (issue 11.6).

A grant never gives more than the granter holds: not a higher role, and not a wider subtree.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from careops.tenancy import roles
from careops.tenancy.models import RoleAssignment
from tests.conftest import PASSWORD


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_node_only_rssi_cannot_grant_the_subtree_through_the_web_form(client, org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght, subtree=False)
    make_user(username="accomplice")
    login(client, rssi)
    page = client.get(reverse("tenancy:detail", args=[org_tree.ght.pk]))
    assert page.context["grant_form"]["include_subtree"].field.disabled
    client.post(
        reverse("tenancy:role_grant", args=[org_tree.ght.pk]),
        {"user": "accomplice", "role": "ght_rssi", "include_subtree": "on"},
    )
    granted = RoleAssignment.objects.get(user__username="accomplice")
    assert granted.include_subtree is False  # the posted "on" is ignored: node only
    from careops.tenancy import scope

    granted.user._careops_grants = None
    assert not scope.can(granted.user, "view", org_tree.ej_a)


def test_node_only_rssi_cannot_grant_the_subtree_through_the_service(org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght, subtree=False)
    make_user(username="accomplice")
    with pytest.raises(PermissionDenied, match="ce nœud"):
        roles.grant(rssi, org_tree.ght, "accomplice", "es_rssi", include_subtree=True)
    assert not RoleAssignment.objects.filter(user__username="accomplice").exists()
    # node only, as the granter holds it: allowed
    roles.grant(rssi, org_tree.ght, "accomplice", "es_rssi", include_subtree=False)
    assert RoleAssignment.objects.get(user__username="accomplice").include_subtree is False


def test_node_only_rssi_cannot_widen_an_existing_node_grant(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a, subtree=False)
    colleague = make_user("reader", org_tree.ej_a, subtree=False)
    with pytest.raises(PermissionDenied):
        roles.grant(rssi, org_tree.ej_a, colleague.username, "reader", include_subtree=True)
    assert RoleAssignment.objects.get(user=colleague).include_subtree is False


def test_node_only_rssi_grants_nothing_on_a_child_node(client, org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght, subtree=False)
    make_user(username="accomplice")
    assert roles.grantable_roles(rssi, org_tree.ej_a) == set()
    login(client, rssi)
    response = client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_a.pk]),
        {"user": "accomplice", "role": "reader"},
    )
    assert response.status_code == 404  # the child is not even visible
    assert not RoleAssignment.objects.filter(user__username="accomplice").exists()


def test_node_only_rssi_cannot_revoke_a_subtree_grant(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a, subtree=False)
    other = make_user("es_rssi", org_tree.ej_a, subtree=True)
    assignment = RoleAssignment.objects.get(user=other)
    with pytest.raises(PermissionDenied):
        roles.revoke(rssi, assignment)
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_node_only_rssi_cannot_narrow_a_subtree_grant_they_could_not_give(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a, subtree=False)
    colleague = make_user("reader", org_tree.ej_a, subtree=True)
    with pytest.raises(PermissionDenied):
        roles.grant(rssi, org_tree.ej_a, colleague.username, "reader", include_subtree=False)
    assert RoleAssignment.objects.get(user=colleague).include_subtree is True


def test_subtree_rssi_still_grants_the_subtree(client, org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    make_user(username="colleague")
    login(client, rssi)
    client.post(
        reverse("tenancy:role_grant", args=[org_tree.ej_a.pk]),
        {"user": "colleague", "role": "es_rssi", "include_subtree": "on"},
    )
    assert RoleAssignment.objects.get(user__username="colleague").include_subtree is True


@pytest.mark.parametrize("role", ["administrator", "ars_instructor", "ans_instructor"])
def test_ght_rssi_cannot_grant_a_role_above_their_own(org_tree, make_user, role):
    rssi = make_user("ght_rssi", org_tree.ght)
    make_user(username="accomplice")
    with pytest.raises(PermissionDenied):
        roles.grant(rssi, org_tree.ght, "accomplice", role, include_subtree=False)


def api_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_node_only_rssi_cannot_grant_the_subtree_through_the_api(org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght, subtree=False)
    make_user(username="accomplice")
    client = api_client(rssi)
    url = f"/api/organisations/{org_tree.ght.pk}/roles"
    widened = client.post(
        url,
        {"user": "accomplice", "role": "ght_rssi", "include_subtree": True},
        content_type="application/json",
    )
    assert widened.status_code == 403 and "ce nœud" in widened.json()["detail"]
    assert not RoleAssignment.objects.filter(user__username="accomplice").exists()
    higher = client.post(
        url, {"user": "accomplice", "role": "administrator"}, content_type="application/json"
    )
    assert higher.status_code == 403
    child = client.post(
        f"/api/organisations/{org_tree.ej_a.pk}/roles",
        {"user": "accomplice", "role": "reader"},
        content_type="application/json",
    )
    assert child.status_code == 404  # the child node is not even visible
    granted = client.post(
        url, {"user": "accomplice", "role": "es_rssi"}, content_type="application/json"
    )
    assert granted.status_code == 201 and granted.json()["include_subtree"] is False
    listed = client.get(url).json()
    assert {(r["user"], r["role"]) for r in listed} >= {("accomplice", "es_rssi")}


def test_api_revoke_follows_the_same_rule(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a, subtree=False)
    other = make_user("es_rssi", org_tree.ej_a, subtree=True)
    assignment = RoleAssignment.objects.get(user=other)
    answer = api_client(rssi).delete(f"/api/organisations/roles/{assignment.pk}")
    assert answer.status_code == 403
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    boss = make_user("ght_rssi", org_tree.ght)
    assert api_client(boss).delete(f"/api/organisations/roles/{assignment.pk}").status_code == 204
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_api_invites_a_colleague_by_address_as_the_page_does(org_tree, make_user, mailoutbox):
    """README: the API grants roles with the same rules as the page, which invites an address."""
    rssi = make_user("es_rssi", org_tree.ej_a)
    url = f"/api/organisations/{org_tree.ej_a.pk}/roles"
    invited = api_client(rssi).post(
        url,
        {"user": "Nouvelle.Collegue@CH-Exemple.fr", "role": "reader"},
        content_type="application/json",
    )
    assert invited.status_code == 201, invited.content
    assignment = RoleAssignment.objects.get(pk=invited.json()["id"])
    assert assignment.user.email == "nouvelle.collegue@ch-exemple.fr"
    assert not assignment.user.has_usable_password()
    assert [m.to for m in mailoutbox] == [["nouvelle.collegue@ch-exemple.fr"]]
    unknown = api_client(rssi).post(
        url, {"user": "inconnu", "role": "reader"}, content_type="application/json"
    )
    assert unknown.status_code == 422 and "inconnu" in unknown.json()["detail"]
