"""/api/referential/: public programme data, readable by any authenticated user."""

from __future__ import annotations

import pytest

from tests.api.conftest import DOMAIN, load_domain


@pytest.mark.parametrize("role", [None, "reader", "ars_instructor"])
def test_any_authenticated_user_reads_the_referential(org_tree, referential, make_user, api, role):
    user = make_user(role, org_tree.eg_other) if role else make_user()  # even with no grant
    client = api(user)
    page = client.get("/api/referential/versions").json()
    assert page["count"] == 1
    assert page["items"][0]["id"] == referential.pk
    body = client.get(f"/api/referential/versions/{referential.pk}").json()
    assert (body["domain"], body["version"], body["status"]) == ("D2", "1", "published")
    assert body["is_current"] is True
    assert body["items"] == [
        {"code": "D2.P1", "kind": "prerequisite", "title": "PSSI validée",
         "to_confirm": False, "parent_code": ""},
        {"code": "D2.O1", "kind": "group", "title": "Continuité",
         "to_confirm": False, "parent_code": ""},
        {"code": "D2.O1.A", "kind": "objective", "title": "Plan de continuité formalisé",
         "to_confirm": False, "parent_code": "D2.O1"},
        {"code": "D2.O1.B", "kind": "objective", "title": "Exercice de crise",
         "to_confirm": True, "parent_code": "D2.O1"},
    ]  # fmt: skip
    assert body["evidence_kinds"] == {"pssi": "PSSI", "pca": "Plan de continuité"}


def test_versions_filter_by_domain_and_current(org_tree, referential, role_users, api, tmp_path):
    newer = load_domain({**DOMAIN, "version": "2"}, tmp_path)
    client = api(role_users["reader"])
    assert client.get("/api/referential/versions", domain="d2").json()["count"] == 2
    assert client.get("/api/referential/versions", domain="D1").json()["count"] == 0
    current = client.get("/api/referential/versions", current=True).json()["items"]
    assert [v["id"] for v in current] == [newer.pk]


def test_unknown_version_is_404_in_french(org_tree, role_users, api):
    response = api(role_users["reader"]).get("/api/referential/versions/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "Ressource introuvable."}


def test_referential_requires_authentication(referential, client):
    assert client.get("/api/referential/versions").status_code == 401
