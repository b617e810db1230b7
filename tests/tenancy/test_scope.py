import pytest
from django.core.exceptions import ValidationError

from careops.tenancy import scope
from careops.tenancy.models import Organisation


def names(qs):
    return {o.name for o in qs}


def test_ars_instructor_sees_their_region_only(org_tree, make_user):
    user = make_user("ars_instructor", org_tree.ars_idf)
    visible = names(scope.restrict(Organisation.objects.all(), user))
    assert "GHT Test Val-de-Seine" in visible
    assert "EHPAD Les Tilleuls" in visible
    assert "Clinique du Rhône" not in visible
    assert "ANS" not in visible


def test_grant_without_subtree_covers_the_node_only(org_tree, make_user):
    user = make_user("reader", org_tree.ej_a, subtree=False)
    assert names(scope.restrict(Organisation.objects.all(), user)) == {"CH Alpha"}


def test_no_grant_sees_nothing(org_tree, make_user):
    user = make_user()
    assert not scope.restrict(Organisation.objects.all(), user).exists()


def test_anonymous_sees_nothing(org_tree):
    from django.contrib.auth.models import AnonymousUser

    assert not scope.restrict(Organisation.objects.all(), AnonymousUser()).exists()


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        ("reader", "view", True),
        ("reader", "change", False),
        ("contributor", "change", True),
        ("contributor", "manage", False),
        ("es_rssi", "manage", True),
        ("ars_instructor", "change", False),
        ("ars_instructor", "instruct", True),
        ("ght_rssi", "instruct", False),
    ],
)
def test_actions_follow_roles(org_tree, make_user, role, action, allowed):
    user = make_user(role, org_tree.ej_a)
    assert scope.can(user, action, org_tree.eg_a1) is allowed


def test_unknown_action_is_a_programming_error(org_tree, make_user):
    with pytest.raises(ValueError):
        scope.restrict(Organisation.objects.all(), make_user("reader", org_tree.ans), "delete")


def test_restrict_follows_the_tenant_path_of_related_models(org_tree, make_user):
    from careops.tenancy.models import RoleAssignment

    rssi = make_user("es_rssi", org_tree.ej_b)
    other = make_user("es_rssi", org_tree.ej_other)
    visible = scope.restrict(RoleAssignment.objects.all(), rssi)
    assert set(visible.values_list("user_id", flat=True)) == {rssi.pk}
    assert other.pk not in set(visible.values_list("user_id", flat=True))


def test_moving_a_node_moves_its_subtree(org_tree):
    org_tree.ej_a.parent = org_tree.ars_ara
    org_tree.ej_a.save()
    site = Organisation.objects.get(pk=org_tree.eg_a1.pk)
    assert site.path.startswith(org_tree.ars_ara.path)
    assert site.depth == 3


def test_tree_refuses_a_site_directly_under_an_ars(org_tree):
    from careops.tenancy import finess

    number = finess.with_key("92000099")
    node = Organisation(parent=org_tree.ars_idf, kind="eg", name="Site", finess=number)
    with pytest.raises(ValidationError):
        node.full_clean()
