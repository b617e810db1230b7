"""/api/organisations/: listing, filters, detail and creation of a child node."""

from __future__ import annotations

import pytest

from careops.core.models import AuditEvent
from careops.tenancy import finess
from careops.tenancy.models import Organisation


def test_list_is_paginated_in_tree_order(org_tree, role_users, api):
    client = api(role_users["administrator"])
    page = client.get("/api/organisations/", limit=5).json()
    assert page["count"] == 12
    assert len(page["items"]) == 5
    paths = [item["path"] for item in client.get("/api/organisations/").json()["items"]]
    assert paths == sorted(paths)
    assert page["items"][0]["name"] == "ANS"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "eg"}, {"eg_a1", "eg_a2", "eg_b1", "eg_other"}),
        ({"kind": "ars"}, {"ars_idf", "ars_ara"}),
        ({"parent": "ght"}, {"ej_a", "ej_b"}),
        ({"finess": "ej_a"}, {"ej_a"}),
        ({"kind": "ej", "parent": "ars_ara"}, {"ej_other"}),
    ],
)
def test_list_filters(org_tree, role_users, api, params, expected):
    names = {getattr(org_tree, n).pk: n for n in vars(org_tree)}
    query = dict(params)
    if "parent" in query:
        query["parent"] = getattr(org_tree, query["parent"]).pk
    if "finess" in query:
        # written as a person would: lower case, with spaces
        number = getattr(org_tree, query["finess"]).finess
        query["finess"] = f"{number[:3]} {number[3:6]} {number[6:]}".lower()
    items = api(role_users["administrator"]).get("/api/organisations/", **query).json()["items"]
    assert {names[item["id"]] for item in items} == expected


def test_detail_has_children_and_path(org_tree, role_users, api):
    body = api(role_users["ght_rssi"]).get(f"/api/organisations/{org_tree.ght.pk}").json()
    assert body["children"] == [org_tree.ej_a.pk, org_tree.ej_b.pk]
    assert body["path"] == f"/{org_tree.ans.pk}/{org_tree.ars_idf.pk}/{org_tree.ght.pk}/"
    assert body["parent"] == org_tree.ars_idf.pk
    assert body["kind"] == "ght"
    assert body["kind_label"] == "Groupement hospitalier de territoire"


def test_detail_lists_only_the_children_in_scope(org_tree, make_user, api):
    user = make_user("contributor", org_tree.ej_a, subtree=False)
    body = api(user).get(f"/api/organisations/{org_tree.ej_a.pk}").json()
    assert body["children"] == []
    assert api(user).get(f"/api/organisations/{org_tree.eg_a1.pk}").status_code == 404


def test_create_child_normalises_finess_and_is_audited(org_tree, role_users, api):
    user = role_users["ght_rssi"]
    number = finess.with_key("92000003")
    response = api(user).post(
        "/api/organisations/",
        {
            "parent": org_tree.ght.pk,
            "kind": "ej",
            "name": "CH Gamma",
            "finess": f" {number[:4]} {number[4:]} ",
            "category": "public",
            "activity_weight": 120.5,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    created = Organisation.objects.get(pk=body["id"])
    assert created.finess == number == body["finess"]
    assert created.parent == org_tree.ght
    assert created.region_code == "11"  # inherited from the parent
    assert body["path"] == f"{org_tree.ght.path}{created.pk}/"
    assert body["children"] == []
    event = AuditEvent.objects.get(action="organisation.create", object_id=str(created.pk))
    assert event.actor == user
    assert event.organisation == created
    assert "CH Gamma" in event.summary


@pytest.mark.parametrize(
    ("parent", "fields", "message"),
    [
        (
            "ght",
            {"kind": "ej", "finess": "920000040"},  # the right key is 9
            "Numéro FINESS « 920000040 » invalide : la clé de contrôle (9e caractère) ne "
            "correspond pas",
        ),
        ("ght", {"kind": "ej", "finess": "92000"}, "il doit compter 9 caractères"),
        ("ght", {"kind": "ej", "finess": "000000001"}, "le préfixe départemental « 00 »"),
        ("ght", {"kind": "ej"}, "Le numéro FINESS est obligatoire."),
        ("ght", {"kind": "eg", "finess": "920000056"}, "ne peut pas être rattachée ici"),
        ("ght", {"kind": "région"}, "n’est pas un choix valide"),
        ("ej_a", {"kind": "eg", "finess": "ej_b"}, "existe déjà"),
    ],
)
def test_create_rejects_invalid_input_in_french(org_tree, role_users, api, parent, fields, message):
    payload = {"parent": getattr(org_tree, parent).pk, "name": "Nouvel établissement", **fields}
    if payload.get("finess") == "ej_b":
        payload["finess"] = org_tree.ej_b.finess  # already taken
    before = Organisation.objects.count()
    response = api(role_users["administrator"]).post("/api/organisations/", payload)
    assert response.status_code == 422, response.content
    body = response.json()
    assert message in body["detail"]
    assert body["errors"]
    assert Organisation.objects.count() == before
    assert not AuditEvent.objects.filter(action="organisation.create").exists()


def test_create_needs_manage_on_the_parent(org_tree, role_users, api):
    response = api(role_users["contributor"]).post(
        "/api/organisations/",
        {"parent": org_tree.ej_b.pk, "kind": "eg", "name": "Annexe", "finess": "920000220"},
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Vous ne pouvez pas rattacher d'organisation à « CH Bêta »."
    )


def test_requires_authentication(org_tree, client):
    assert client.get("/api/organisations/").status_code == 401
    assert client.get(f"/api/organisations/{org_tree.ans.pk}").status_code == 401
