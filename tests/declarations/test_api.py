"""The whole workflow through the API (token auth), and regional isolation."""

from __future__ import annotations

import io
import zipfile

import pytest
import time_machine
from django.test import Client

from careops.declarations.models import Candidacy
from tests.declarations.conftest import (
    APPLY_AT,
    DECIDE_AT,
    FILE_AT,
    PAY_AT,
    REVIEW_AT,
    VALIDATE_AT,
    add_evidence,
)


class Api:
    def __init__(self, user):
        from careops.core import tokens
        from careops.core.middleware import user_needs_mfa_setup
        from tests.web.helpers import enable_totp

        if user_needs_mfa_setup(user):  # tokens of MFA roles work only once MFA is enrolled
            enable_totp(user)
        _, value = tokens.issue(user, "tests")
        self.client = Client(headers={"Authorization": f"Bearer {value}"})

    def get(self, path, **params):
        return self.client.get(f"/api/declarations{path}", params)

    def post(self, path, data=None):
        return self.client.post(
            f"/api/declarations{path}", data or {}, content_type="application/json"
        )


@pytest.fixture
def apis(people):
    return {
        name: Api(getattr(people, name))
        for name in ("rssi", "ars", "ars_other", "ans", "contributor", "reader")
    }


def test_whole_workflow_through_the_api(apis, org_tree, version, evidence):
    with time_machine.travel(APPLY_AT, tick=False):
        eligibility = apis["rssi"].get(
            "/eligibility", candidate=org_tree.ght.pk, referential_version=version.pk
        )
        assert eligibility.json()["eligible"] is True
        created = apis["rssi"].post(
            "/candidacies", {"candidate": org_tree.ght.pk, "referential_version": version.pk}
        )
        assert created.status_code == 201, created.json()
        pk = created.json()["id"]
        assert (
            apis["ars_other"].post(f"/candidacies/{pk}/validate", {"ceiling_eur": "5"}).status_code
            == 404
        )
        assert (
            apis["rssi"].post(f"/candidacies/{pk}/validate", {"ceiling_eur": "5"}).status_code
            == 403
        )
    with time_machine.travel(VALIDATE_AT, tick=False):
        validated = apis["ars"].post(f"/candidacies/{pk}/validate", {"ceiling_eur": "90000"})
        assert validated.status_code == 200 and validated.json()["state"] == "candidacy_validated"
        early = apis["rssi"].post(
            f"/candidacies/{pk}/declaration",
            {"representative_name": "Mme Martin", "representative_title": "DG", "attested": True},
        )
        assert early.status_code == 422 and "pas encore ouvert" in early.json()["detail"]
    with time_machine.travel(FILE_AT, tick=False):
        unattested = apis["rssi"].post(
            f"/candidacies/{pk}/declaration",
            {"representative_name": "Mme Martin", "representative_title": "DG"},
        )
        assert unattested.status_code == 422 and "attested" in unattested.json()["errors"]
        unreviewed = apis["rssi"].post(
            f"/candidacies/{pk}/declaration",
            {"representative_name": "Mme Martin", "representative_title": "DG", "attested": True},
        )
        assert unreviewed.status_code == 422 and "Relisez la revue" in unreviewed.json()["detail"]
        assert apis["ars_other"].get(f"/candidacies/{pk}/prefiling-review").status_code == 404
        review = apis["rssi"].get(f"/candidacies/{pk}/prefiling-review").json()
        assert review["missing_evidence"] == ["D2.O1.B"]
        assert {i["id"]: i["status"] for i in review["items"]}["D2.P1"] == "met"
        filed = apis["rssi"].post(
            f"/candidacies/{pk}/declaration",
            {
                "representative_name": "Mme Martin",
                "representative_title": "DG",
                "attested": True,
                "review_fingerprint": review["fingerprint"],
            },
        )
        assert filed.status_code == 201, filed.json()
        sha = filed.json()["content_sha256"]
        assert filed.json()["verified"] is True
    # nobody can change it through the API
    url = f"/api/declarations/candidacies/{pk}/declaration"
    for method in ("put", "patch", "delete"):
        answer = getattr(apis["rssi"].client, method)(
            url, {"snapshot": {}}, content_type="application/json"
        )
        assert answer.status_code == 405
    with time_machine.travel(REVIEW_AT, tick=False):
        for code in ("D2.P1", "D2.O1.A"):
            assert (
                apis["ars"]
                .post(f"/candidacies/{pk}/reviews", {"item_code": code, "verdict": "compliant"})
                .status_code
                == 201
            )
        asked = apis["ars"].post(
            f"/candidacies/{pk}/reviews",
            {
                "item_code": "D2.O1.B",
                "verdict": "complement_requested",
                "message": "Test ?",
                "due_date": "2026-06-20",
            },
        )
        assert asked.status_code == 201
        assert (
            apis["ars_other"]
            .post(f"/candidacies/{pk}/reviews", {"item_code": "D2.P1", "verdict": "compliant"})
            .status_code
            == 404
        )
        restore = add_evidence(org_tree.ght, "backup_test", "Restauration", "restore-api")
        answered = apis["contributor"].post(
            f"/reviews/{asked.json()['id']}/answers",
            {"message": "Voici", "revisions": [restore.current.pk]},
        )
        assert answered.status_code == 404  # the contributor is granted on CH Alpha, not the GHT
        answered = apis["rssi"].post(
            f"/reviews/{asked.json()['id']}/answers",
            {"message": "Voici", "revisions": [restore.current.pk]},
        )
        assert answered.status_code == 201 and answered.json()["answered_at"]
        apis["ars"].post(
            f"/candidacies/{pk}/reviews", {"item_code": "D2.O1.B", "verdict": "compliant"}
        )
        transmitted = apis["ars"].post(f"/candidacies/{pk}/transmit", {"comment": "RAS"})
        assert transmitted.json()["state"] == "ars_instructed"
    with time_machine.travel(DECIDE_AT, tick=False):
        assert apis["ars"].post(f"/candidacies/{pk}/decision").status_code == 403
        refused = apis["ans"].post(
            f"/candidacies/{pk}/decision", {"comment": "Atteinte totale", "confirmed": True}
        )
        assert refused.status_code == 422 and "avis ANS" in refused.json()["detail"]
        page = apis["ans"].post(
            f"/candidacies/{pk}/review-page",
            {
                "opinions": {"D2.O1.B": {"verdict": "non_compliant"}},
                "rest_compliant": True,
            },
        )
        assert page.status_code == 422 and "commentaire est obligatoire" in page.json()["detail"]
        page = apis["ans"].post(f"/candidacies/{pk}/review-page", {"rest_compliant": True})
        assert page.status_code == 201 and len(page.json()) == 3
        unconfirmed = apis["ans"].post(
            f"/candidacies/{pk}/decision", {"comment": "Atteinte totale"}
        )
        assert unconfirmed.status_code == 422 and "Confirmez" in unconfirmed.json()["detail"]
        decided = apis["ans"].post(
            f"/candidacies/{pk}/decision", {"comment": "Atteinte totale", "confirmed": True}
        )
        assert decided.status_code == 200
        assert (
            decided.json()["decision"] == "accepted" and decided.json()["amount_eur"] == "90000.00"
        )
        funding = apis["rssi"].get(f"/candidacies/{pk}/funding").json()
        assert funding["to_confirm"] and funding["share"] == 1.0
    with time_machine.travel(PAY_AT, tick=False):
        paid = apis["ans"].post(f"/candidacies/{pk}/payment", {"reference": "VIR-42"})
        assert paid.json()["state"] == "paid"
        detail = apis["rssi"].get(f"/candidacies/{pk}").json()
        assert [t["name"] for t in detail["transitions"]] == [
            "apply",
            "validate",
            "file",
            "transmit",
            "decide",
            "pay",
        ]
        assert detail["declaration_sha256"] == sha
    zipped = apis["ars"].client.get(f"/api/declarations/candidacies/{pk}/dossier.zip")
    assert zipped.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert "MANIFEST.sha256" in names and "resume.pdf" in names


def test_instructors_of_another_region_see_nothing(apis, validated, people):
    pk = validated.pk
    assert apis["ars"].get(f"/candidacies/{pk}").status_code == 200
    assert apis["ars_other"].get(f"/candidacies/{pk}").status_code == 404
    assert apis["ars_other"].get(f"/candidacies/{pk}/funding").status_code == 404
    assert apis["ars_other"].get("/candidacies").json() == {"items": [], "count": 0}
    assert apis["ars"].get("/candidacies").json()["items"][0]["id"] == pk
    assert apis["ans"].get("/candidacies").json()["items"][0]["id"] == pk
    board = apis["ars_other"].get("/dashboard").json()
    assert board["totals"]["candidacies"] == 0 and board["scope"] == "regional"
    national = apis["ans"].get("/dashboard").json()
    assert national["totals"]["candidacies"] == 1 and national["scope"] == "national"
    assert apis["reader"].get(f"/candidacies/{pk}").status_code == 200  # a reader of the GHT reads
    assert apis["reader"].post(f"/candidacies/{pk}/reject", {"comment": "non"}).status_code == 403
    assert Candidacy.objects.count() == 1
