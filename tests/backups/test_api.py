"""/api/backups: systems, alerts, job-report import, runs; tenant isolation."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from careops.backups.models import Alert, ProtectedSystem, Repository
from careops.backups.services import set_repository_password
from tests.backups.test_app import login


def test_import_then_alerts_and_isolation(
    client, org_tree, make_user, django_capture_on_commit_callbacks
):
    ProtectedSystem.objects.create(
        organisation=org_tree.ej_a, name="PACS", rpo_hours=12, job_name="PACS"
    )
    login(client, make_user("es_rssi", org_tree.ej_a))
    old = (timezone.now() - dt.timedelta(days=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/backups/job-reports",
            {
                "organisation": org_tree.ej_a.pk,
                "content": f'[{{"system": "PACS", "status": "ok", "end": "{old}"}}]',
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 1, "total": 1}
    systems = client.get("/api/backups/systems").json()["items"]
    assert systems[0]["freshness_status"] == "failed"
    alerts = client.get("/api/backups/alerts").json()["items"]
    assert alerts[0]["kind"] == "stale"
    alert_id = alerts[0]["id"]
    response = client.post(
        f"/api/backups/alerts/{alert_id}/acknowledge",
        {"comment": "pris en charge"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Alert.objects.get().ack_comment == "pris en charge"

    client.logout()
    login(client, make_user("es_rssi", org_tree.ej_other))
    assert client.get("/api/backups/alerts").json()["items"] == []
    assert client.get("/api/backups/systems").json()["items"] == []
    response = client.post(
        f"/api/backups/alerts/{alert_id}/acknowledge",
        {"comment": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = client.post(
        "/api/backups/job-reports",
        {"organisation": org_tree.ej_a.pk, "content": "[]"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_run_request_and_progress_through_the_api(
    client, world, org_tree, make_user, django_capture_on_commit_callbacks
):
    from tests.backups.conftest import PASSWORD

    repo = Repository(
        organisation=org_tree.ej_b, name="r", driver="restic", location=str(world / "restic")
    )
    set_repository_password(repo, PASSWORD)
    repo.save()
    ProtectedSystem.objects.create(
        organisation=org_tree.ej_b, name="DPI", rpo_hours=24, repository=repo, match_host="app01"
    )
    login(client, make_user("es_rssi", org_tree.ej_b))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/backups/repositories/{repo.pk}/runs",
            {"kind": "verify"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    run = client.get(f"/api/backups/runs/{response.json()['id']}").json()
    assert run["status"] == "done" and run["outcome"] == "ok"
    assert run["progress_done"] == run["progress_total"]
    assert run["result"]["systems"][0]["name"] == "DPI"
