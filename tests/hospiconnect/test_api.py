"""/api/hospiconnect: a measurement uploaded by token, polled, scoped to the caller."""

from __future__ import annotations

from django.test import Client

from careops.core import tokens
from careops.hospiconnect.models import IndicatorImport
from tests.hospiconnect.test_app import dpi_upload


def api_client(user) -> Client:
    _, value = tokens.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {value}"})


def test_measurement_by_api_is_computed_and_scoped(
    org_tree, role_users, make_user, django_capture_on_commit_callbacks
):
    client = api_client(role_users["es_rssi"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/hospiconnect/measurements",
            {"organisation_id": org_tree.ej_b.pk, "as_of": "2026-11-30", "dpi": dpi_upload()},
        )
    assert response.status_code == 202, response.content
    measurement_id = response.json()["id"]
    assert "path" not in str(response.json()["files"])  # never where the server keeps exports
    detail = client.get(f"/api/hospiconnect/measurements/{measurement_id}").json()
    assert detail["status"] == "done"
    mfa = next(i for i in detail["result"]["indicators"] if i["id"] == "mfa_doctors_nurses")
    assert (mfa["numerator"], mfa["denominator"]) == (3, 5)
    listing = client.get("/api/hospiconnect/measurements", {"organisation_id": org_tree.ej_b.pk})
    assert listing.json()["count"] == 1
    outsider = api_client(make_user("es_rssi", org_tree.ej_other))
    assert outsider.get(f"/api/hospiconnect/measurements/{measurement_id}").status_code == 404
    assert outsider.get("/api/hospiconnect/measurements").json()["count"] == 0
    refused = outsider.post(
        "/api/hospiconnect/measurements",
        {"organisation_id": org_tree.ej_b.pk, "as_of": "2026-11-30", "dpi": dpi_upload()},
    )
    assert refused.status_code == 404
    assert IndicatorImport.objects.count() == 1
    reader = api_client(role_users["reader"])
    assert (
        reader.post(
            "/api/hospiconnect/measurements",
            {"organisation_id": org_tree.eg_b1.pk, "as_of": "2026-11-30", "dpi": dpi_upload()},
        ).status_code
        == 404
    )
