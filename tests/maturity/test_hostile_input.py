"""Hand-made POSTs on the pool and structure pages (ids that are not numbers) change nothing and
never end in a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careops.maturity.models import Membership
from tests.maturity.helpers import pool_with_members
from tests.web.helpers import enable_totp


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pool(org_tree, make_user):
    ars = enable_totp(make_user("ars_instructor", org_tree.ars_idf))
    rssi = make_user("es_rssi", org_tree.esms)
    staff = make_user(username="rssi.mutualise")
    pool, (membership,) = pool_with_members(ars, org_tree.ars_idf, [staff], [(org_tree.esms, rssi)])
    return {"pool": pool, "membership": membership, "ars": ars, "rssi": rssi}


@pytest.mark.parametrize(
    "data",
    [
        {"action": "unstaff", "user": "abc"},
        {"action": "remove", "membership": "abc"},
        {"action": "remove", "membership": "1;DROP"},
    ],
)
def test_pool_actions_with_a_malformed_id_change_nothing(client, pool, data):
    client.force_login(pool["ars"])
    client.raise_request_exception = False
    response = client.post(reverse("maturity:pool", args=[pool["pool"].pk]), data)
    assert response.status_code == 302
    assert pool["pool"].staff.count() == 1
    assert Membership.objects.get(pk=pool["membership"].pk).status == "active"


@pytest.mark.parametrize("action", ["leave", "accept", "decline"])
def test_structure_membership_actions_with_a_malformed_id_are_not_found(
    client, org_tree, pool, action
):
    client.force_login(pool["rssi"])
    client.raise_request_exception = False
    response = client.post(
        reverse("maturity:structure", args=[org_tree.esms.pk]),
        {"action": action, "membership": "abc"},
    )
    assert response.status_code == 404
    assert Membership.objects.get(pk=pool["membership"].pk).status == "active"
