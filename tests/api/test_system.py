"""/api/system: who am I, and the worker ping (administrators only)."""

from __future__ import annotations

import os

import pytest

from careops.core.models import WorkerPing


def test_me_lists_roles_and_grants(org_tree, make_user, api):
    user = make_user("es_rssi", org_tree.ej_b)
    from careops.tenancy.models import RoleAssignment

    RoleAssignment.objects.create(
        user=user, organisation=org_tree.eg_a1, role="reader", include_subtree=False
    )
    body = api(user).get("/api/system/me").json()
    assert body["username"] == user.username
    assert body["roles"] == ["es_rssi", "reader"]
    assert body["grants"] == [
        {
            "role": "reader",
            "role_label": "Lecteur",
            "organisation": org_tree.eg_a1.pk,
            "organisation_name": "CH Alpha — site principal",
            "include_subtree": False,
        },
        {
            "role": "es_rssi",
            "role_label": "RSSI d'établissement",
            "organisation": org_tree.ej_b.pk,
            "organisation_name": "CH Bêta",
            "include_subtree": True,
        },
    ]


def test_me_without_any_grant(db, make_user, api):
    body = api(make_user()).get("/api/system/me").json()
    assert (body["roles"], body["grants"]) == ([], [])


def test_worker_ping_round_trip(org_tree, role_users, api, django_capture_on_commit_callbacks):
    client = api(role_users["administrator"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/api/system/worker-ping", {})
    assert response.status_code == 201
    assert len(callbacks) == 1  # enqueued once the ping row is committed
    ping_id = response.json()["id"]
    body = client.get(f"/api/system/worker-ping/{ping_id}").json()
    # the in-process suite runs tasks at once, in this process
    assert body["done"] is True
    assert body["requested_by_pid"] == os.getpid()
    assert body["worker_pid"] == os.getpid()
    assert body["worker_host"]


def test_worker_ping_not_yet_run_is_not_done(org_tree, role_users, api):
    ping = WorkerPing.objects.create(requested_by_pid=1)
    body = api(role_users["administrator"]).get(f"/api/system/worker-ping/{ping.pk}").json()
    assert (body["done"], body["worker_pid"], body["worker_host"]) == (False, None, "")


@pytest.mark.parametrize(
    "role", ["ans_instructor", "ars_instructor", "ght_rssi", "es_rssi", "contributor", "reader"]
)
def test_worker_ping_is_for_administrators_only(org_tree, role_users, api, role):
    client = api(role_users[role])
    response = client.post("/api/system/worker-ping", {})
    assert response.status_code == 403
    assert response.json() == {"detail": "Action réservée au rôle « Administrateur du programme »."}
    assert not WorkerPing.objects.exists()
    ping = WorkerPing.objects.create(requested_by_pid=1)
    assert client.get(f"/api/system/worker-ping/{ping.pk}").status_code == 403


def test_unknown_worker_ping_is_404(org_tree, role_users, api):
    response = api(role_users["administrator"]).get("/api/system/worker-ping/424242")
    assert response.status_code == 404


def test_openapi_schema_documents_every_endpoint(db, client, make_user):
    client.force_login(make_user())  # the schema is behind login
    paths = client.get("/api/openapi.json").json()["paths"]
    for path, methods in {
        "/api/organisations/": {"get", "post"},
        "/api/organisations/{organisation_id}": {"get"},
        "/api/referential/versions": {"get"},
        "/api/referential/versions/{version_id}": {"get"},
        "/api/assessments": {"get", "post"},
        "/api/assessments/{assessment_id}": {"get", "patch"},
        "/api/evidence": {"get", "post"},
        "/api/evidence/{evidence_id}": {"get"},
        "/api/evidence/{evidence_id}/revisions": {"post"},
        "/api/files/{file_id}": {"get"},
        "/api/system/me": {"get"},
        "/api/system/worker-ping": {"post"},
        "/api/system/worker-ping/{ping_id}": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    upload = paths["/api/evidence"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
