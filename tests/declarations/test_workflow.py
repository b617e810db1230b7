"""The workflow through the services: roles, states, windows, snapshot, complements, funding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from careops.core.models import AuditEvent
from careops.declarations import services
from careops.declarations.choices import Decision, State, Verdict
from careops.declarations.models import Candidacy
from tests.declarations.conftest import (
    APPLY_AT,
    DECIDE_AT,
    FILE_AT,
    PAY_AT,
    REVIEW_AT,
    VALIDATE_AT,
    add_evidence,
    ans_concur,
)

UTC = dt.UTC


def test_whole_workflow_with_complement_and_partial_funding(declared, people, org_tree):
    declaration = declared.declaration
    assert declared.state == State.DECLARED
    frozen = {i["id"]: i["status"] for i in declaration.snapshot["items"]}
    assert frozen == {
        "D2.P1": "met",
        "D2.O1": "partial",
        "D2.O1.A": "met",
        "D2.O1.B": "missing_evidence",
    }
    assert declaration.verify()
    sha = declaration.content_sha256

    # ARS: P1 conforme, O1.A conforme, complement on O1.B
    services.review_item(people.ars, declaration, "D2.P1", Verdict.COMPLIANT, now=REVIEW_AT)
    services.review_item(people.ars, declaration, "d2.o1.a", Verdict.COMPLIANT, now=REVIEW_AT)
    request = services.review_item(
        people.ars,
        declaration,
        "D2.O1.B",
        Verdict.COMPLEMENT,
        "Joindre le cahier de recette du test de restauration.",
        dt.date(2026, 6, 15),
        now=REVIEW_AT,
    )
    with pytest.raises(ValidationError, match="D2.O1.B"):
        services.transmit(people.ars, declared, now=REVIEW_AT)

    # the establishment answers with a new piece of evidence: the snapshot does not move
    restore = add_evidence(org_tree.eg_a1, "backup_test", "Test de restauration", "restore")
    answer = services.answer_complement(
        people.contributor if False else people.rssi,
        request,
        "Cahier de recette joint.",
        [restore.current.pk],
        now=REVIEW_AT + dt.timedelta(days=3),
    )
    assert answer.revisions.count() == 1
    declaration.refresh_from_db()
    assert declaration.content_sha256 == sha and declaration.verify()
    assert {i["id"]: i["status"] for i in declaration.snapshot["items"]} == frozen
    # the live assessment moved on, the frozen statuses did not
    assert declared.assessment.statuses.get(item_code="D2.O1.B").status == "met"

    services.review_item(
        people.ars,
        declaration,
        "D2.O1.B",
        Verdict.NON_COMPLIANT,
        "Test réalisé hors de la phase opérationnelle.",
        now=REVIEW_AT + dt.timedelta(days=5),
    )
    services.transmit(people.ars, declared, now=REVIEW_AT + dt.timedelta(days=5))
    declared.refresh_from_db()
    assert declared.state == State.ARS_INSTRUCTED

    # the ARS can no longer act; the ANS decides
    with pytest.raises(PermissionDenied):
        services.review_item(people.ars, declaration, "D2.P1", Verdict.COMPLIANT, now=DECIDE_AT)
    with pytest.raises(
        ValidationError, match="avis ANS conforme ou non conforme attendu sur D2.P1"
    ):
        services.decide(people.ans, declared, now=DECIDE_AT)
    ans_concur(people, declaration, D2_O1_B=(Verdict.NON_COMPLIANT, "Hors phase opérationnelle."))
    decided = services.decide(
        people.ans, declared, "Décision conforme à l'avis ARS.", now=DECIDE_AT
    )
    assert decided.decision == Decision.PARTIAL
    # weights: O1.A = 1 met, O1.B = 2 not met → 1/3 of 100 000 €
    assert decided.amount_eur == Decimal("33333.33")
    assert decided.funding["to_confirm"] is True
    assert any("à confirmer" in step for step in decided.funding["steps"])
    paid = services.record_payment(people.ans, decided, "VIR-2027-001", now=PAY_AT)
    assert paid.state == State.PAID

    names = [t.name for t in paid.transitions.all()]
    assert names == ["apply", "validate", "file", "transmit", "decide", "pay"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "candidacy.apply",
        "candidacy.validate",
        "declaration.file",
        "declaration.review.ars",
        "declaration.complement.answer",
        "declaration.transmit",
        "declaration.decide",
        "declaration.pay",
    } <= actions
    subjects = [m.subject for m in mail.outbox]
    assert any("Complément demandé sur D2.O1.B" in s for s in subjects)
    assert any("Décision de l'ANS" in s for s in subjects)


def test_each_step_is_refused_to_the_wrong_role(validated, people, org_tree, version):
    with pytest.raises(PermissionDenied):
        services.apply(people.ars, org_tree.ej_other, version, now=APPLY_AT)
    with pytest.raises(PermissionDenied):
        services.file_declaration(people.contributor, validated, "X", "Y", True, now=FILE_AT)
    with pytest.raises(PermissionDenied):
        services.file_declaration(people.ars, validated, "X", "Y", True, now=FILE_AT)
    services.file_declaration(people.rssi, validated, "X", "DG", True, now=FILE_AT)
    validated.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.review_item(
            people.rssi, validated.declaration, "D2.P1", "compliant", now=REVIEW_AT
        )
    with pytest.raises(PermissionDenied):  # an instructor of another region
        services.review_item(
            people.ars_other, validated.declaration, "D2.P1", "compliant", now=REVIEW_AT
        )
    with pytest.raises(PermissionDenied):  # the ANS waits for the ARS
        services.review_item(people.ans, validated.declaration, "D2.P1", "compliant", now=REVIEW_AT)
    with pytest.raises(ValidationError, match="étape"):
        services.decide(people.ans, validated, now=DECIDE_AT)


def test_candidacy_validation_belongs_to_the_candidates_region(org_tree, version, people, evidence):
    candidacy = services.apply(people.rssi, org_tree.ght, version, now=APPLY_AT)
    with pytest.raises(PermissionDenied):
        services.validate_candidacy(people.ars_other, candidacy, "1000", now=VALIDATE_AT)
    with pytest.raises(ValidationError, match="motif"):
        services.reject_candidacy(people.ars, candidacy, " ", now=VALIDATE_AT)
    services.reject_candidacy(people.ars, candidacy, "Dossier incomplet.", now=VALIDATE_AT)
    candidacy.refresh_from_db()
    assert candidacy.state == State.CANDIDACY_REJECTED
    with pytest.raises(ValidationError, match="refusée"):
        services.file_declaration(people.rssi, candidacy, "X", "DG", True, now=FILE_AT)


def test_filing_needs_the_legal_representatives_attestation(validated, people):
    with pytest.raises(ValidationError) as caught:
        services.file_declaration(people.rssi, validated, "", "", False, now=FILE_AT)
    assert set(caught.value.message_dict) == {
        "representative_name",
        "representative_title",
        "attested",
    }
    validated.refresh_from_db()
    assert validated.state == State.CANDIDACY_VALIDATED


def test_an_ej_party_to_a_ght_applies_through_its_ght(org_tree, version, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a)
    with pytest.raises(ValidationError) as caught:
        services.apply(rssi, org_tree.ej_a, version, now=APPLY_AT)
    text = " ".join(caught.value.messages)
    assert "partie au GHT Test Val-de-Seine" in text
    assert not Candidacy.objects.exists()


def test_one_candidacy_per_domain(validated, people, org_tree, version):
    with pytest.raises(ValidationError, match="déjà candidaté"):
        services.apply(people.rssi, org_tree.ght, version, now=APPLY_AT)


def test_complement_request_needs_a_message_and_a_future_due_date(declared, people):
    declaration = declared.declaration
    with pytest.raises(ValidationError):
        services.review_item(
            people.ars, declaration, "D2.P1", Verdict.COMPLEMENT, "", None, now=REVIEW_AT
        )
    with pytest.raises(ValidationError, match="échéance"):
        services.review_item(
            people.ars,
            declaration,
            "D2.P1",
            Verdict.COMPLEMENT,
            "x",
            dt.date(2026, 5, 1),
            now=REVIEW_AT,
        )
    with pytest.raises(ValidationError, match="D2.O9"):
        services.review_item(people.ars, declaration, "D2.O9", Verdict.COMPLIANT, now=REVIEW_AT)


def test_answers_cite_only_the_candidates_evidence(declared, people, org_tree):
    request = services.review_item(
        people.ars,
        declared.declaration,
        "D2.O1.B",
        Verdict.COMPLEMENT,
        "Test ?",
        dt.date(2026, 7, 1),
        now=REVIEW_AT,
    )
    foreign = add_evidence(org_tree.ej_other, "backup_test", "Autre région", "other")
    with pytest.raises(ValidationError, match="preuves du candidat"):
        services.answer_complement(people.rssi, request, "ok", [foreign.current.pk], now=REVIEW_AT)
    services.answer_complement(people.rssi, request, "ok", [], now=REVIEW_AT)
    with pytest.raises(ValidationError, match="n'attend plus"):
        services.answer_complement(people.rssi, request, "encore", [], now=REVIEW_AT)


def test_prerequisite_not_met_means_nothing_is_due(declared, people):
    declaration = declared.declaration
    services.review_item(
        people.ars, declaration, "D2.P1", Verdict.NON_COMPLIANT, "PSSI non signée", now=REVIEW_AT
    )
    services.review_item(people.ars, declaration, "D2.O1.A", Verdict.COMPLIANT, now=REVIEW_AT)
    services.review_item(people.ars, declaration, "D2.O1.B", Verdict.COMPLIANT, now=REVIEW_AT)
    services.transmit(people.ars, declared, now=REVIEW_AT)
    ans_concur(people, declaration, D2_P1=(Verdict.NON_COMPLIANT, "PSSI non signée"))
    decided = services.decide(people.ans, declared, now=DECIDE_AT)
    assert decided.decision == Decision.REFUSED and decided.amount_eur == Decimal("0.00")
    assert "prérequis non atteints (D2.P1)" in decided.funding["steps"][0]
    with pytest.raises(ValidationError, match="Aucun montant"):
        services.record_payment(people.ans, decided, "VIR-1", now=PAY_AT)


def test_ans_verdict_overrides_the_ars_one(declared, people):
    declaration = declared.declaration
    for code in ("D2.P1", "D2.O1.A", "D2.O1.B"):
        services.review_item(people.ars, declaration, code, Verdict.COMPLIANT, now=REVIEW_AT)
    services.transmit(people.ars, declared, now=REVIEW_AT)
    services.review_item(
        people.ans, declaration, "D2.O1.B", Verdict.NON_COMPLIANT, "Preuve absente", now=DECIDE_AT
    )
    ans_concur(people, declaration)
    decided = services.decide(people.ans, declared, now=DECIDE_AT)
    assert decided.amount_eur == Decimal("33333.33")


def test_reminders_are_sent_once_near_and_after_the_due_date(declared, people):
    from careops.declarations.notifications import send_reminders

    services.review_item(
        people.ars,
        declared.declaration,
        "D2.O1.B",
        Verdict.COMPLEMENT,
        "Recette ?",
        dt.date(2026, 6, 15),
        now=REVIEW_AT,
    )
    mail.outbox.clear()
    assert send_reminders(dt.date(2026, 6, 5)) == 0  # 10 days before: nothing yet
    assert send_reminders(dt.date(2026, 6, 12)) == 1  # J-3
    assert send_reminders(dt.date(2026, 6, 13)) == 0  # already sent
    assert send_reminders(dt.date(2026, 6, 15)) == 1  # due today
    assert send_reminders(dt.date(2026, 6, 16)) == 1  # late
    assert send_reminders(dt.date(2026, 6, 20)) == 0
    assert [m.to for m in mail.outbox] == [["rssi.ght@example.test"]] * 3
    assert "en retard" in mail.outbox[-1].subject


def test_declaration_window_reminder(validated, people):
    from careops.declarations.notifications import send_reminders

    mail.outbox.clear()
    assert send_reminders(dt.date(2026, 10, 1)) == 0
    assert send_reminders(dt.date(2026, 10, 11)) == 1  # J-14 before 25/10/2026
    assert send_reminders(dt.date(2026, 10, 23)) == 1  # J-3
    assert "25/10/2026" in mail.outbox[-1].subject


def test_validation_sets_the_ceiling_and_refuses_nonsense(org_tree, version, people, evidence):
    candidacy = services.apply(people.rssi, org_tree.ght, version, now=APPLY_AT)
    with pytest.raises(ValidationError):
        services.validate_candidacy(people.ars, candidacy, "beaucoup", now=VALIDATE_AT)
    with pytest.raises(ValidationError):
        services.validate_candidacy(people.ars, candidacy, "-5", now=VALIDATE_AT)
    done = services.validate_candidacy(people.ars, candidacy, "250000.5", now=VALIDATE_AT)
    assert done.ceiling_eur == Decimal("250000.50")
    indicative = services.funding_of(done)
    assert indicative["indicative"] and indicative["amount_eur"] == "83333.50"


def test_ans_complement_request_and_answer(declared, people, org_tree):
    declaration = declared.declaration
    for code in ("D2.P1", "D2.O1.A", "D2.O1.B"):
        services.review_item(people.ars, declaration, code, Verdict.COMPLIANT, now=REVIEW_AT)
    services.transmit(people.ars, declared, now=REVIEW_AT)
    request = services.review_item(
        people.ans,
        declaration,
        "D2.O1.B",
        Verdict.COMPLEMENT,
        "Preuve du test ?",
        dt.date(2027, 1, 30),
        now=DECIDE_AT,
    )
    counts = Candidacy.objects.values("ars_compliant", "ans_complement", "ans_compliant").get()
    assert counts == {"ars_compliant": 3, "ans_complement": 1, "ans_compliant": 0}
    with pytest.raises(ValidationError, match="compléments demandés par l'ANS"):
        services.decide(people.ans, declared, now=DECIDE_AT)
    mail.outbox.clear()
    services.answer_complement(people.rssi, request, "Voici le cahier.", [], now=DECIDE_AT)
    assert mail.outbox[0].to == ["ans@example.test"]
    services.review_item(people.ans, declaration, "D2.O1.B", Verdict.COMPLIANT, now=DECIDE_AT)
    assert Candidacy.objects.values_list("ans_complement", "ans_compliant").get() == (0, 1)
    ans_concur(people, declaration)
    decided = services.decide(people.ans, declared, now=DECIDE_AT)
    assert decided.decision == Decision.ACCEPTED and decided.amount_eur == Decimal("100000.00")
