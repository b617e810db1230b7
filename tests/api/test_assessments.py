"""/api/assessments: open, read and update a candidate's assessment; statuses with reasons."""

from __future__ import annotations

import pytest

from careops.compliance.models import Assessment, StatusChange
from careops.core.models import AuditEvent
from tests.api.conftest import evidence_form

CODES = ["D2.P1", "D2.O1", "D2.O1.A", "D2.O1.B"]
STATUSES = {"met", "partial", "not_met", "missing_evidence", "not_applicable"}


def test_open_assessment_is_evaluated_at_once(org_tree, referential, role_users, api):
    user = role_users["ght_rssi"]
    response = api(user).post(
        "/api/assessments",
        {
            "candidate": org_tree.ej_a.pk,
            "referential_version": referential.pk,
            "candidacy_date": "2025-11-03",
            "facts": {"has_pca": True},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["candidate"] == org_tree.ej_a.pk
    assert body["candidate_name"] == "CH Alpha"
    assert (body["domain"], body["version"]) == ("D2", "1")
    assert body["candidacy_date"] == "2025-11-03"
    assert body["facts"] == {"has_pca": True}
    assert body["evaluated_at"] is not None
    assert [s["code"] for s in body["statuses"]] == CODES
    for status in body["statuses"]:
        assert status["status"] in STATUSES
        assert isinstance(status["reasons"], list)
    # no evidence yet: the prerequisite misses its PSSI, and says so
    prerequisite = body["statuses"][0]
    assert prerequisite["status"] == "missing_evidence"
    assert prerequisite["status_label"] == "Preuve manquante"
    assert prerequisite["reasons"]
    event = AuditEvent.objects.get(action="assessment.open")
    assert (event.actor, event.organisation) == (user, org_tree.ej_a)


def test_opening_twice_is_a_conflict(world, referential, role_users, api):
    existing = world.assessments["ej_b"]
    response = api(role_users["es_rssi"]).post(
        "/api/assessments",
        {"candidate": existing.candidate_id, "referential_version": referential.pk},
    )
    assert response.status_code == 409
    assert response.json()["id"] == existing.pk
    assert "existe déjà" in response.json()["detail"]
    assert Assessment.objects.filter(candidate=existing.candidate).count() == 1


def test_only_ght_ej_or_esms_can_be_candidates(org_tree, referential, role_users, api):
    response = api(role_users["ght_rssi"]).post(
        "/api/assessments",
        {"candidate": org_tree.eg_a1.pk, "referential_version": referential.pk},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "Seuls un GHT, une entité juridique ou un ESMS peuvent candidater."
    )
    assert not Assessment.objects.exists()


def test_unknown_fact_is_refused_in_french_and_nothing_is_saved(
    org_tree, referential, role_users, api
):
    response = api(role_users["ght_rssi"]).post(
        "/api/assessments",
        {
            "candidate": org_tree.ej_a.pk,
            "referential_version": referential.pk,
            "facts": {"pca_exists": True},
        },
    )
    assert response.status_code == 422, response.content
    assert "fait inconnu pour D2 : « pca_exists » (connus : has_pca)" in response.json()["detail"]
    assert not Assessment.objects.exists()
    assert not AuditEvent.objects.filter(action="assessment.open").exists()


def test_unknown_referential_version_is_404(org_tree, role_users, api):
    response = api(role_users["ght_rssi"]).post(
        "/api/assessments", {"candidate": org_tree.ej_a.pk, "referential_version": 424242}
    )
    assert response.status_code == 404


def test_patch_changes_dates_and_facts_and_recomputes(world, role_users, api):
    assessment = world.assessments["ej_b"]
    before = Assessment.objects.get(pk=assessment.pk).evaluated_at
    user = role_users["contributor"]
    response = api(user).patch(
        f"/api/assessments/{assessment.pk}",
        {"filing_date": "2026-03-31", "facts": {"has_pca": False}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["filing_date"] == "2026-03-31"
    assert body["candidacy_date"] == "2025-11-03"  # not sent: unchanged
    assert body["facts"] == {"has_pca": False}
    assessment.refresh_from_db()
    assert assessment.evaluated_at > before
    event = AuditEvent.objects.get(action="assessment.update")
    assert event.actor == user
    assert event.changes["filing_date"] == ["None", "2026-03-31"]


def test_patch_null_facts_clears_them(world, role_users, api):
    assessment = world.assessments["ght"]
    client = api(role_users["ght_rssi"])
    client.patch(f"/api/assessments/{assessment.pk}", {"facts": {"has_pca": True}})
    body = client.patch(f"/api/assessments/{assessment.pk}", {"facts": None}).json()
    assert body["facts"] == {}


def test_patch_with_a_badly_typed_fact_changes_nothing(world, role_users, api):
    assessment = world.assessments["ght"]
    response = api(role_users["ght_rssi"]).patch(
        f"/api/assessments/{assessment.pk}",
        {"facts": {"has_pca": "oui"}, "filing_date": "2026-03-31"},
    )
    assert response.status_code == 422
    assert "le fait « has_pca » attend true ou false" in response.json()["detail"]
    assessment.refresh_from_db()
    assert (assessment.facts, assessment.filing_date) == ({}, None)
    assert not AuditEvent.objects.filter(action="assessment.update").exists()


def test_patch_rejects_a_bad_date(world, role_users, api):
    assessment = world.assessments["ght"]
    response = api(role_users["ght_rssi"]).patch(
        f"/api/assessments/{assessment.pk}", {"filing_date": "31/03/2026"}
    )
    assert response.status_code == 422
    assessment.refresh_from_db()
    assert assessment.filing_date is None


def test_new_evidence_changes_the_status_with_its_reason(world, role_users, api):
    """Depositing the missing document through the API recomputes the candidate's statuses."""
    assessment = world.assessments["ej_b"]
    client = api(role_users["es_rssi"])

    def status_of(code):
        body = client.get(f"/api/assessments/{assessment.pk}").json()
        return next(s for s in body["statuses"] if s["code"] == code)

    assert status_of("D2.P1")["status"] == "met"  # the world's PSSI on CH Bêta
    assert status_of("D2.O1.A")["status"] == "missing_evidence"
    form = evidence_form(assessment.candidate, kind="pca", title="PCA", item_codes=["D2.O1.A"])
    assert client.post_form("/api/evidence", form).status_code == 201
    after = status_of("D2.O1.A")
    assert after["status"] == "met"
    assert after["reasons"]
    assert StatusChange.objects.filter(
        assessment=assessment, item_code="D2.O1.A", status="met"
    ).exists()


@pytest.mark.parametrize(
    ("params", "expected"), [({"candidate": "ej_b"}, ["ej_b"]), ({}, ["ght", "ej_b"])]
)
def test_list_filters(world, role_users, org_tree, api, params, expected):
    query = {k: getattr(org_tree, v).pk for k, v in params.items()}
    page = api(role_users["ght_rssi"]).get("/api/assessments", **query).json()
    assert [item["candidate"] for item in page["items"]] == [
        getattr(org_tree, name).pk for name in expected
    ]
    assert page["count"] == len(expected)
