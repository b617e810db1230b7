"""The guarded steps of the workflow: the pre-filing review, the ARS's one-page instruction and
the ANS's decision summary.

Filing and deciding are irreversible, so the user first sees exactly what will be frozen or
decided. ``prefiling_review`` computes, without writing anything, the statuses the snapshot would
freeze today, the evidence it would freeze and the funding it implies; its ``fingerprint`` is
required to file, so a declaration is never filed on a review the user has not seen (new
evidence after the review changes the fingerprint and the filing is refused).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from careops.catalogue import bridge
from careops.compliance import services as compliance
from careops.compliance.choices import Status
from careops.core import audit
from careops.declarations import funding, services
from careops.declarations.choices import Level, State, Verdict
from careops.declarations.models import Candidacy, Declaration, content_hash

STATUS_LABELS = {code: str(label) for code, label in Status.choices}
VERDICT_LABELS = {code: str(label) for code, label in Verdict.choices}


def item_kinds(version) -> dict[str, list[str]]:
    """Per item code, the evidence kinds its criteria read (from the referential)."""
    return bridge.item_kinds(version)


def prefiling_review(candidacy: Candidacy, now: dt.datetime | None = None) -> dict[str, Any]:
    """What filing now would freeze: item statuses evaluated at today's filing date, the latest
    evidence revisions, the implied funding and a fingerprint of all of it. Writes nothing."""
    now = now or timezone.now()
    version = candidacy.referential_version
    domain = services.domain_of(version)
    assessment = (
        candidacy.assessment
        or compliance.Assessment.objects.filter(
            candidate=candidacy.candidate, referential_version=version
        ).first()
    )
    filing = services.paris_date(now)
    if assessment is not None:
        shadow = copy.copy(assessment)
        shadow.filing_date = filing
        dossier = compliance.build_dossier(shadow)
        facts = assessment.facts
    else:
        dossier = {
            "domain": version.domain,
            "version": version.version,
            "candidate": {"name": candidacy.candidate.name},
            "filing_date": filing.isoformat(),
            "as_of": filing.isoformat(),
            "facts": {},
            "evidence": [],
        }
        facts = {}
    outcome = bridge.evaluate(version, dossier)
    by_code = {r["id"]: r for r in outcome.results}
    revisions = services._latest_revisions(candidacy.candidate, version)
    kinds = item_kinds(version)
    evidence = [
        {
            "evidence": r.evidence_id,
            "revision": r.number,
            "revision_id": r.pk,
            "kind": r.evidence.kind,
            "title": r.evidence.title,
            "organisation": r.evidence.organisation.name,
            "effective_date": r.effective_date.isoformat(),
            "expires_on": r.expires_on.isoformat() if r.expires_on else None,
            "files": [f.sha256 for f in r.files.all()],
        }
        for r in revisions
    ]
    items = []
    for item in domain.items:
        result = by_code.get(item.id)
        status = result["status"] if result else Status.MISSING_EVIDENCE
        item_kinds_ = kinds.get(item.id, [])
        items.append(
            {
                "id": item.id,
                "kind": item.kind,
                "title": item.title,
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "reasons": list(result["reasons"]) if result else [],
                "missing_evidence": item.kind != "group" and status == Status.MISSING_EVIDENCE,
                "evidence": [e for e in evidence if e["kind"] in item_kinds_],
            }
        )
    met = {
        i["id"]: (None if i["status"] == Status.NOT_APPLICABLE else i["status"] == Status.MET)
        for i in items
        if i["kind"] != "group"
    }
    computed = funding.compute(domain, met, candidacy.ceiling_eur)
    fingerprint = content_hash(
        {
            "candidacy": candidacy.pk,
            "filing_date": filing.isoformat(),
            "facts": facts,
            "items": [(i["id"], i["status"], i["reasons"]) for i in items],
            "evidence": [
                (e["evidence"], e["revision"], e["effective_date"], e["files"]) for e in evidence
            ],
        }
    )
    counts: dict[str, int] = {}
    for i in items:
        if i["kind"] != "group":
            counts[i["status"]] = counts.get(i["status"], 0) + 1
    return {
        "filing_date": filing,
        "items": items,
        "evidence": evidence,
        "funding": computed,
        "counts": [(STATUS_LABELS[s], counts[s], s) for s in Status.values if s in counts],
        "missing": [i for i in items if i["missing_evidence"]],
        "fingerprint": fingerprint,
    }


def require_reviewed(candidacy: Candidacy, fingerprint: str, now=None) -> None:
    """Refuse a filing whose review was not seen, or is out of date."""
    if not fingerprint:
        raise ValidationError(
            "Relisez la revue avant dépôt : elle montre ce qui sera figé et doit être confirmée."
        )
    if prefiling_review(candidacy, now)["fingerprint"] != fingerprint:
        raise ValidationError(
            "La situation a changé depuis votre relecture (nouvelle preuve ou nouveau statut) : "
            "relisez la revue avant dépôt mise à jour puis confirmez."
        )


# --- instruction on one page ------------------------------------------------------------------


def instruction_rows(declaration: Declaration) -> list[dict[str, Any]]:
    """Per reviewable item: its frozen status, the current ARS and ANS opinions."""
    ars = services.current_reviews(declaration, Level.ARS)
    ans = services.current_reviews(declaration, Level.ANS)
    return [
        {
            "item": item,
            "status_label": STATUS_LABELS.get(item["status"], item["status"]),
            "ars": ars.get(item["id"]),
            "ans": ans.get(item["id"]),
        }
        for item in services.reviewable_items(declaration)
    ]


def review_all(
    user,
    declaration: Declaration,
    opinions: dict[str, dict[str, Any]],
    rest_compliant: bool = False,
    now=None,
) -> list:
    """Record several opinions at once (ARS or ANS, by the dossier's step): ``opinions`` maps an
    item code to {verdict, message, due_date}; with ``rest_compliant`` every item left without a
    current opinion at this level is recorded « conforme ». All or nothing: one refused opinion
    refuses the whole page, with every item's reason."""
    candidacy = services._fresh(declaration.candidacy_id)
    level = services._level_for(user, candidacy)
    current = services.current_reviews(declaration, level)
    wanted: dict[str, dict[str, Any]] = {}
    for code, opinion in opinions.items():
        if opinion.get("verdict"):
            due = opinion.get("due_date") if opinion["verdict"] == Verdict.COMPLEMENT else None
            wanted[code] = {**opinion, "due_date": due}
    if rest_compliant:
        for item in services.reviewable_items(declaration):
            if item["id"] not in wanted and item["id"] not in current:
                wanted[item["id"]] = {"verdict": Verdict.COMPLIANT, "message": ""}
    if not wanted:
        raise ValidationError("Aucun avis saisi.")
    errors = []
    for code, opinion in wanted.items():
        verdict = opinion.get("verdict", "")
        message = (opinion.get("message") or "").strip()
        if verdict in (Verdict.NON_COMPLIANT, Verdict.COMPLEMENT) and not message:
            errors.append(
                f"{code} : un commentaire est obligatoire pour l'avis « "
                f"{VERDICT_LABELS.get(verdict, verdict)} »."
            )
    if errors:
        raise ValidationError(errors)
    created = []
    with transaction.atomic():
        for code, opinion in wanted.items():
            previous = current.get(code)
            if (
                previous is not None
                and previous.verdict == opinion["verdict"]
                and previous.message == (opinion.get("message") or "").strip()
                and previous.due_date == opinion.get("due_date")
            ):
                continue  # unchanged: no new review, no duplicate in the journal
            try:
                created.append(
                    services.review_item(
                        user,
                        declaration,
                        code,
                        opinion["verdict"],
                        (opinion.get("message") or "").strip(),
                        opinion.get("due_date"),
                        now=now,
                    )
                )
            except ValidationError as exc:
                raise ValidationError([f"{code} : {m}" for m in exc.messages]) from exc
        audit.record(
            user,
            f"declaration.review_page.{level}",
            declaration,
            candidacy.candidate,
            f"{len(created)} avis {Level(level).label} enregistrés en une page"
            + (" (les autres conformes)" if rest_compliant else ""),
        )
    return created


def decision_summary(candidacy: Candidacy) -> dict[str, Any]:
    """What the ANS decides on: each item's frozen status, ARS and ANS opinions, the result that
    counts, the items still lacking an ANS opinion, and the funding the decision would set."""
    declaration = candidacy.declaration
    rows = instruction_rows(declaration)
    result = services.attainment(declaration)
    for row in rows:
        row["counts_as_met"] = result.get(row["item"]["id"])
    missing = [
        r["item"]["id"] for r in rows if r["ans"] is None or r["ans"].verdict == Verdict.COMPLEMENT
    ]
    computed = funding.compute(services.domain_of(candidacy), result, candidacy.ceiling_eur)
    return {"rows": rows, "missing": missing, "funding": computed}


def require_decidable(candidacy: Candidacy, confirmed: bool) -> None:
    """The ANS decides only with an opinion on every item and an explicit confirmation."""
    if candidacy.state != State.ARS_INSTRUCTED:
        return  # services.decide refuses with the step's own message
    missing = decision_summary(candidacy)["missing"]
    if missing:
        raise ValidationError(
            "Décision impossible : avis ANS conforme ou non conforme attendu sur "
            + ", ".join(missing)
            + "."
        )
    if not confirmed:
        raise ValidationError(
            "Confirmez la décision : cochez la case de confirmation après avoir relu le récapitulatif."
        )
