"""The guarded steps: the pre-filing review and its confirmation, the one-page instruction and
the ANS decision with its summary and confirmation."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import Client

from careops.core.models import AuditEvent
from careops.declarations import review as guarded
from careops.declarations.choices import State, Verdict
from careops.declarations.models import Declaration, ItemReview
from tests.declarations.conftest import DECIDE_AT, FILE_AT, REVIEW_AT, add_evidence


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FILING = {"representative_name": "Mme Claire Martin", "representative_title": "DG"}


def test_prefiling_review_shows_what_will_be_frozen_and_writes_nothing(validated, people):
    history = validated.assessment.history.count()
    with time_machine.travel(FILE_AT, tick=False):
        page = client_for(people.rssi).get(f"/declarations/{validated.pk}/revue-avant-depot/")
        found = guarded.prefiling_review(validated)
    body = page.content.decode()
    assert page.status_code == 200
    assert "Statuts qui seront figés" in body and 'id="missing"' in body
    assert "D2.O1.B" in body.split('id="missing"')[1].split("</div>")[0]
    assert "row--missing" in body.split('id="item-D2.O1.B"')[1].split(">")[0]
    assert [i["id"] for i in found["missing"]] == ["D2.O1.B"]
    assert found["funding"]["steps"] and "Confirmer le dépôt" in body
    # a link from each frozen-to-be status to the evidence revision that will be frozen
    pssi = next(i for i in found["items"] if i["id"] == "D2.P1")["evidence"][0]
    assert f"/preuves/{pssi['evidence']}/#r1" in body
    assert validated.assessment.history.count() == history  # nothing recomputed nor stored
    assert not Declaration.objects.exists()


def test_prefiling_review_pdf(validated, people):
    with time_machine.travel(FILE_AT, tick=False):
        pdf = client_for(people.rssi).get(f"/declarations/{validated.pk}/revue-avant-depot.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    other = client_for(people.ars_other).get(f"/declarations/{validated.pk}/revue-avant-depot.pdf")
    assert other.status_code == 404


def test_filing_needs_confirmation_and_an_up_to_date_review(validated, people, org_tree):
    client = client_for(people.rssi)
    url = f"/declarations/{validated.pk}/depot/"
    with time_machine.travel(FILE_AT, tick=False):
        fingerprint = guarded.prefiling_review(validated)["fingerprint"]
        unconfirmed = client.post(
            url, {**FILING, "attested": "on", "review_fingerprint": fingerprint}, follow=True
        )
        assert "Confirmez le dépôt" in unconfirmed.content.decode()
        assert not Declaration.objects.exists()
        # new evidence after the review: the review is stale, filing refused
        add_evidence(org_tree.ght, "backup_test", "Test de restauration", "late")
        stale = client.post(
            url,
            {**FILING, "attested": "on", "confirmed": "on", "review_fingerprint": fingerprint},
            follow=True,
        )
        assert "La situation a changé depuis votre relecture" in stale.content.decode()
        assert stale.redirect_chain[-1][0].endswith("/revue-avant-depot/")
        assert not Declaration.objects.exists()
        fresh = guarded.prefiling_review(validated)
        assert fresh["missing"] == []
        filed = client.post(
            url,
            {
                **FILING,
                "attested": "on",
                "confirmed": "on",
                "review_fingerprint": fresh["fingerprint"],
            },
            follow=True,
        )
    assert "Déclaration déposée" in filed.content.decode()
    declaration = Declaration.objects.get()
    frozen = {i["id"]: i["status"] for i in declaration.snapshot["items"]}
    assert frozen == {i["id"]: i["status"] for i in fresh["items"]}
    body = client.get(f"/declarations/{validated.pk}/").content.decode()
    assert f"/evaluations/{validated.assessment_id}/" in body  # declaration → evaluation
    evaluation = client.get(f"/evaluations/{validated.assessment_id}/").content.decode()
    assert f"/declarations/{validated.pk}/" in evaluation  # evaluation → declaration


def test_ars_one_page_review_with_bulk_conforme(declared, people):
    url = f"/declarations/{declared.pk}/instruction/"
    client = client_for(people.ars)
    with time_machine.travel(REVIEW_AT, tick=False):
        page = client.get(url)
        assert page.status_code == 200 and "Instruction ARS sur une page" in page.content.decode()
        refused = client.post(
            url, {"verdict-D2.O1.B": Verdict.NON_COMPLIANT, "rest_compliant": "on"}
        )
        assert refused.status_code == 422
        assert "D2.O1.B : un commentaire est obligatoire" in refused.content.decode()
        assert not ItemReview.objects.exists()  # all or nothing
        done = client.post(
            url,
            {
                "verdict-D2.O1.B": Verdict.COMPLEMENT,
                "message-D2.O1.B": "Joindre le cahier de recette.",
                "due-D2.O1.B": "2026-06-20",
                "rest_compliant": "on",
            },
            follow=True,
        )
        assert "3 avis enregistré(s)." in done.content.decode()
    current = dict(ItemReview.objects.filter(is_current=True).values_list("item_code", "verdict"))
    assert current == {
        "D2.P1": Verdict.COMPLIANT,
        "D2.O1.A": Verdict.COMPLIANT,
        "D2.O1.B": Verdict.COMPLEMENT,
    }
    assert AuditEvent.objects.filter(action="declaration.review_page.ars").count() == 1
    with time_machine.travel(REVIEW_AT, tick=False):
        assert client_for(people.ars_other).get(url).status_code == 404
        assert client_for(people.rssi).post(url, {"rest_compliant": "on"}).status_code == 403


def test_ans_decision_shows_opinions_refuses_missing_ones_and_asks_to_confirm(declared, people):
    from careops.declarations import services

    for code in ("D2.P1", "D2.O1.A", "D2.O1.B"):
        services.review_item(
            people.ars, declared.declaration, code, Verdict.COMPLIANT, now=REVIEW_AT
        )
    services.transmit(people.ars, declared, now=REVIEW_AT)
    url = f"/declarations/{declared.pk}/decision/"
    with time_machine.travel(DECIDE_AT, tick=False):
        client = client_for(people.ans)  # logged in at the decision's date (session age)
        answer = client.get(url)
        assert answer.status_code == 200, answer
        page = answer.content.decode()
        assert 'id="decision-D2.O1.B"' in page and "manquant" in page
        assert "Financement que la décision fixera" in page
        refused = client.post(url, {"confirmed": "on"}).content.decode()
        assert "Décision impossible : avis ANS conforme ou non conforme attendu sur" in refused
        client.post(f"/declarations/{declared.pk}/instruction/", {"rest_compliant": "on"})
        unconfirmed = client.post(url, {"comment": "RAS"}).content.decode()
        assert "Confirmez la décision" in unconfirmed
        declared.refresh_from_db()
        assert declared.state == State.ARS_INSTRUCTED
        decided = client.post(url, {"comment": "RAS", "confirmed": "on"}, follow=True)
    declared.refresh_from_db()
    assert declared.state == State.DECIDED and "Décision rendue." in decided.content.decode()
    with time_machine.travel(DECIDE_AT, tick=False):
        assert client_for(people.ars).post(url, {"confirmed": "on"}).status_code == 422


def test_instruction_page_without_an_open_step(declared, people):
    with time_machine.travel(dt.datetime(2027, 1, 2, 9, tzinfo=dt.UTC), tick=False):
        page = client_for(people.ars).get(f"/declarations/{declared.pk}/instruction/")
    assert "Aucune instruction n'est ouverte" in page.content.decode()


def test_one_page_review_records_only_what_changed(declared, people):
    url = f"/declarations/{declared.pk}/instruction/"
    client = client_for(people.ars)
    with time_machine.travel(REVIEW_AT, tick=False):
        client.post(url, {"rest_compliant": "on"})
        # the page sends every field back, pre-filled (a due date included): nothing changes
        again = client.post(
            url,
            {
                f"{field}-{code}": value
                for code in ("D2.P1", "D2.O1.A", "D2.O1.B")
                for field, value in (
                    ("verdict", Verdict.COMPLIANT),
                    ("message", ""),
                    ("due", "2026-06-16"),
                )
            },
            follow=True,
        )
    assert "0 avis enregistré(s)." in again.content.decode()
    assert ItemReview.objects.count() == 3


def test_instruction_and_decision_before_filing_lead_back_to_the_dossier(validated, people):
    for url in ("instruction", "decision"):
        answer = client_for(people.ars).get(f"/declarations/{validated.pk}/{url}/", follow=True)
        assert answer.redirect_chain[-1][0] == f"/declarations/{validated.pk}/"
        assert "Aucune déclaration déposée pour ce dossier" in answer.content.decode()
    assert (
        client_for(people.ars_other).get(f"/declarations/{validated.pk}/decision/").status_code
        == 404
    )
