"""The workflow's business rules: every transition goes through these functions.

candidacy → (ARS) validated or rejected → (candidate) declaration filed → (ARS) item reviews,
complement requests and answers → (ARS) transmitted → (ANS) reviews and decision → (ANS)
payment. Each step checks the actor's role on the candidate (through their grants), the state,
and the referential's window for that step at ``now`` (Europe/Paris), and is written to the
audit trail. ``now`` defaults to the current instant; tests pass instants explicitly.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from careops.catalogue import bridge
from careops.catalogue.engine.dates import (
    fmt_date,
    fmt_eur,
    fmt_pct,
    lower_instant,
    upper_instant_exclusive,
)
from careops.catalogue.engine.schema import DomainVersion, Window
from careops.catalogue.engine.windows import window_is_open
from careops.compliance import services as compliance
from careops.compliance.models import Assessment, EvidenceRevision
from careops.core import audit
from careops.declarations import eligibility, funding, notifications
from careops.declarations.choices import (
    ANS_ROLES,
    ANSWER_ROLES,
    ARS_ROLES,
    CANDIDATE_ROLES,
    Decision,
    Level,
    State,
    Verdict,
)
from careops.declarations.models import (
    Candidacy,
    ComplementAnswer,
    Declaration,
    DeclaredItem,
    ItemReview,
    Transition,
)
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation

PARIS = ZoneInfo("Europe/Paris")
WINDOW_LABELS = {
    "candidacy": "de candidature",
    "declaration": "de déclaration",
    "ars_instruction": "d'instruction ARS",
    "ans_instruction": "d'instruction ANS",
    "payment": "de paiement",
}
ATTESTATION = (
    "Je soussigné(e) {name}, {title}, représentant légal de {candidate}, atteste sur l'honneur "
    "l'exactitude des statuts et des preuves de la présente déclaration d'atteinte des objectifs "
    "du domaine {domain} (référentiel version {version}), arrêtés à la date du dépôt."
)


# --- helpers ---------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else timezone.now()


def paris_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(PARIS).date()


def domain_of(candidacy_or_version) -> DomainVersion:
    version = getattr(candidacy_or_version, "referential_version", candidacy_or_version)
    return bridge.domain_of(version)


def holds(user, candidate: Organisation, roles: set[str]) -> bool:
    """Whether one of the user's grants with one of ``roles`` covers ``candidate``."""
    for grant in scope.grants(user):
        if grant.role not in roles:
            continue
        if grant.include_subtree and candidate.path.startswith(grant.path):
            return True
        if grant.organisation_id == candidate.pk:
            return True
    return False


def _require(user, candidate: Organisation, roles: set[str], what: str) -> None:
    if user is None:  # the system itself (commands, tasks)
        return
    if not holds(user, candidate, roles):
        raise PermissionDenied(f"Votre rôle ne permet pas {_of(what)} pour {candidate.name}.")


def _of(verb: str) -> str:
    """French "de" before a verb, elided before a vowel or a mute h ("d'enregistrer")."""
    return f"d'{verb}" if verb[:1].lower() in "aeéèêiîoôuh" else f"de {verb}"


def describe_window(window: Window | None) -> str:
    if window is None:
        return "dates non publiées"
    if window.opens is None and window.closes is None:
        return "(dates à confirmer)"
    if window.opens is None:
        return f"jusqu'au {fmt_date(window.closes)} inclus (heure de Paris ; ouverture à confirmer)"
    if window.closes is None:
        return f"à partir du {fmt_date(window.opens)} (heure de Paris ; fermeture à confirmer)"
    return f"du {fmt_date(window.opens)} au {fmt_date(window.closes)} inclus (heure de Paris)"


def window_state(domain: DomainVersion, name: str, now: dt.datetime) -> tuple[bool, str]:
    """(open?, French explanation) of the domain's window ``name`` at ``now``."""
    window = getattr(domain.windows, name)
    label = WINDOW_LABELS[name]
    if window is None:
        return True, f"guichet {label} : dates non publiées, ouvert par défaut"
    if window_is_open(window, now):
        return True, f"guichet {label} ouvert {describe_window(window)}"
    moment = fmt_date(now)
    if window.opens is not None and now < lower_instant(window.opens):
        return False, (
            f"le guichet {label} n'est pas encore ouvert : il ouvre {describe_window(window)} ; "
            f"nous sommes le {moment}."
        )
    assert window.closes is not None and now >= upper_instant_exclusive(window.closes)
    return False, (
        f"le guichet {label} est fermé : il était ouvert {describe_window(window)} ; nous sommes "
        f"le {moment}."
    )


def _require_window(domain: DomainVersion, name: str, now: dt.datetime) -> None:
    is_open, text = window_state(domain, name, now)
    if not is_open:
        raise ValidationError(text[0].upper() + text[1:])


def _require_state(candidacy: Candidacy, states: set[str], what: str) -> None:
    if candidacy.state not in states:
        raise ValidationError(
            f"Impossible de {what} : le dossier est à l'étape « {candidacy.get_state_display()} »."
        )


def _move(candidacy: Candidacy, user, name: str, to: str, now: dt.datetime, comment: str = ""):
    Transition.objects.create(
        candidacy=candidacy,
        name=name,
        from_state=candidacy.state,
        to_state=to,
        actor=user if getattr(user, "is_authenticated", False) else None,
        at=now,
        comment=comment,
    )
    candidacy.state = to


def _locked(candidacy: Candidacy) -> Candidacy:
    return (
        Candidacy.objects.select_for_update()
        .select_related("candidate", "referential_version")
        .get(pk=candidacy.pk)
    )


def _fresh(pk: int) -> Candidacy:
    return Candidacy.objects.select_related("candidate", "referential_version").get(pk=pk)


def structures_of(candidate: Organisation) -> list[Organisation]:
    return list(candidate.subtree().exclude(pk=candidate.pk).exclude(finess=None))


# --- candidacy -------------------------------------------------------------------------------


def check_eligibility(candidate: Organisation, version) -> eligibility.EligibilityResult:
    return eligibility.check(domain_of(version), candidate, structures_of(candidate))


def apply(user, candidate: Organisation, version, now: dt.datetime | None = None) -> Candidacy:
    """File a candidacy while the candidacy window is open; refuse an ineligible candidate with
    every reason."""
    now = _now(now)
    _require(user, candidate, CANDIDATE_ROLES, "déposer une candidature")
    domain = domain_of(version)
    _require_window(domain, "candidacy", now)
    if Candidacy.objects.filter(candidate=candidate, domain=version.domain).exists():
        raise ValidationError(f"{candidate.name} a déjà candidaté au domaine {version.domain}.")
    result = check_eligibility(candidate, version)
    if not result.eligible:
        raise ValidationError(
            [
                f"Candidature refusée : {candidate.name} n'est pas éligible au domaine {version.domain}."
            ]
            + result.reasons
        )
    with transaction.atomic():
        assessment = Assessment.objects.filter(
            candidate=candidate, referential_version=version
        ).first() or compliance.open_assessment(None, candidate, version, paris_date(now))
        if assessment.candidacy_date is None:
            compliance.update_assessment(None, assessment, candidacy_date=paris_date(now))
        candidacy = Candidacy(
            candidate=candidate,
            referential_version=version,
            domain=version.domain,
            region_code=candidate.region_code,
            category=candidate.category,
            state=State.CANDIDACY_SUBMITTED,
            applied_at=now,
            applied_by=user if getattr(user, "is_authenticated", False) else None,
            eligibility=result.as_list(),
            assessment=assessment,
        )
        candidacy.save()
        Transition.objects.create(
            candidacy=candidacy,
            name="apply",
            from_state="",
            to_state=candidacy.state,
            actor=candidacy.applied_by,
            at=now,
        )
        audit.record(
            user,
            "candidacy.apply",
            candidacy,
            candidate,
            f"candidature de {candidate.name} au domaine {version.domain} (v{version.version})",
        )
        notifications.notify(
            candidacy,
            ARS_ROLES - {"administrator"},
            f"[careops] Candidature à instruire : {candidate.name} ({version.domain})",
            f"{candidate.name} a déposé sa candidature au domaine {version.domain}. "
            "Elle attend la validation de l'ARS.",
        )
    return candidacy


def _ceiling(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"ceiling_eur": ["Montant plafond invalide."]}) from exc
    if amount < 0 or amount > Decimal("100000000"):
        raise ValidationError(
            {"ceiling_eur": ["Le montant plafond doit être compris entre 0 et 100 M€."]}
        )
    return amount.quantize(Decimal("0.01"))


def validate_candidacy(
    user, candidacy: Candidacy, ceiling_eur, comment: str = "", now=None
) -> Candidacy:
    """The ARS validates a candidacy and sets the candidate's funding ceiling."""
    now = _now(now)
    _require(user, candidacy.candidate, ARS_ROLES, "valider une candidature")
    amount = _ceiling(ceiling_eur)
    with transaction.atomic():
        candidacy = _locked(candidacy)
        _require_state(candidacy, {State.CANDIDACY_SUBMITTED}, "valider la candidature")
        candidacy.ceiling_eur = amount
        candidacy.reviewed_at, candidacy.reviewed_by = now, _actor(user)
        candidacy.review_comment = comment
        _move(candidacy, user, "validate", State.CANDIDACY_VALIDATED, now, comment)
        candidacy.save()
        audit.record(
            user,
            "candidacy.validate",
            candidacy,
            candidacy.candidate,
            f"candidature validée, plafond {fmt_eur(amount)}"
            + (f" : {comment}" if comment else ""),
        )
        notifications.notify(
            candidacy,
            CANDIDATE_ROLES,
            f"[careops] Candidature validée ({candidacy.domain})",
            f"La candidature de {candidacy.candidate.name} au domaine {candidacy.domain} est "
            f"validée (plafond : {fmt_eur(amount)}). La déclaration d'atteinte se dépose "
            f"{describe_window(domain_of(candidacy).windows.declaration)}.",
        )
    return candidacy


def reject_candidacy(user, candidacy: Candidacy, comment: str, now=None) -> Candidacy:
    now = _now(now)
    _require(user, candidacy.candidate, ARS_ROLES, "refuser une candidature")
    if not comment.strip():
        raise ValidationError({"comment": ["Le motif du refus est obligatoire."]})
    with transaction.atomic():
        candidacy = _locked(candidacy)
        _require_state(candidacy, {State.CANDIDACY_SUBMITTED}, "refuser la candidature")
        candidacy.reviewed_at, candidacy.reviewed_by = now, _actor(user)
        candidacy.review_comment = comment
        _move(candidacy, user, "reject", State.CANDIDACY_REJECTED, now, comment)
        candidacy.save()
        audit.record(
            user,
            "candidacy.reject",
            candidacy,
            candidacy.candidate,
            f"candidature refusée : {comment}",
        )
        notifications.notify(
            candidacy,
            CANDIDATE_ROLES,
            f"[careops] Candidature refusée ({candidacy.domain})",
            f"La candidature de {candidacy.candidate.name} au domaine {candidacy.domain} est "
            f"refusée. Motif : {comment}",
        )
    return candidacy


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


# --- declaration -----------------------------------------------------------------------------


def _latest_revisions(candidate: Organisation, version) -> list[EvidenceRevision]:
    revisions = (
        EvidenceRevision.objects.filter(
            evidence__organisation__path__startswith=candidate.path,
            evidence__kind__in=bridge.known_kinds(version),
        )
        .select_related("evidence", "evidence__organisation")
        .prefetch_related("files")
        .order_by("evidence_id", "-number")
    )
    latest, seen = [], set()
    for revision in revisions:
        if revision.evidence_id not in seen:
            seen.add(revision.evidence_id)
            latest.append(revision)
    return latest


def build_snapshot(
    candidacy: Candidacy, user, attestation: dict[str, str], now: dt.datetime
) -> dict:
    """Evaluate the assessment at the filing date and freeze statuses and evidence."""
    candidate, version = candidacy.candidate, candidacy.referential_version
    domain = domain_of(version)
    assessment = candidacy.assessment or compliance.open_assessment(
        None, candidate, version, paris_date(candidacy.applied_at)
    )
    filing = paris_date(now)
    if assessment.filing_date != filing:
        compliance.update_assessment(None, assessment, filing_date=filing)
    statuses = compliance.evaluate_assessment(
        assessment, cause="dépôt de la déclaration d'atteinte"
    )
    by_code = {s.item_code: s for s in statuses}
    items = []
    for item in domain.items:
        status = by_code.get(item.id)
        items.append(
            {
                "id": item.id,
                "kind": item.kind,
                "title": item.title,
                "status": status.status if status else "missing_evidence",
                "reasons": list(status.reasons) if status else [],
                "to_confirm": item.to_confirm,
            }
        )
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
            "validated_by": r.validated_by,
            "attributes": r.attributes,
            "files": [
                {
                    "name": f.original_name,
                    "sha256": f.sha256,
                    "size": f.size,
                    "content_type": f.content_type,
                }
                for f in r.files.all()
            ],
        }
        for r in _latest_revisions(candidate, version)
    ]
    met = {
        i["id"]: (None if i["status"] == "not_applicable" else i["status"] == "met")
        for i in items
        if i["kind"] != "group"
    }
    return {
        "format": "careops-declaration/1",
        "candidate": {
            "id": candidate.pk,
            "name": candidate.name,
            "finess": candidate.finess,
            "kind": candidate.kind,
            "category": candidate.category,
            "region_code": candidate.region_code,
        },
        "domain": version.domain,
        "version": version.version,
        "referential_sha256": version.sha256,
        "candidacy_date": assessment.candidacy_date.isoformat()
        if assessment.candidacy_date
        else None,
        "filing_date": filing.isoformat(),
        "filed_at": now.astimezone(dt.UTC).isoformat(),
        "filed_by": user.get_username() if getattr(user, "is_authenticated", False) else "système",
        "attestation": attestation,
        "facts": assessment.facts,
        "items": items,
        "evidence": evidence,
        "declared_funding": funding.compute(domain, met, candidacy.ceiling_eur),
    }


def file_declaration(
    user,
    candidacy: Candidacy,
    representative_name: str,
    representative_title: str,
    attested: bool,
    now=None,
    review_fingerprint: str | None = None,
) -> Declaration:
    """File the declaration of attainment inside the declaration window: the statuses and the
    evidence are frozen in a hashed snapshot, attested by the legal representative. The web and
    the API pass the fingerprint of the pre-filing review the user saw (``review.py``): filing
    is refused when it is missing or when the situation changed since."""
    now = _now(now)
    _require(user, candidacy.candidate, CANDIDATE_ROLES, "déposer la déclaration")
    errors = {}
    if not representative_name.strip():
        errors["representative_name"] = ["Le nom du représentant légal est obligatoire."]
    if not representative_title.strip():
        errors["representative_title"] = ["La qualité du représentant légal est obligatoire."]
    if not attested:
        errors["attested"] = ["Le représentant légal doit attester la déclaration."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        candidacy = _locked(candidacy)
        _require_state(candidacy, {State.CANDIDACY_VALIDATED}, "déposer la déclaration")
        domain = domain_of(candidacy)
        _require_window(domain, "declaration", now)
        if review_fingerprint is not None:
            from careops.declarations.review import require_reviewed  # builds on this module

            require_reviewed(candidacy, review_fingerprint, now)
        text = ATTESTATION.format(
            name=representative_name.strip(),
            title=representative_title.strip(),
            candidate=candidacy.candidate.name,
            domain=candidacy.domain,
            version=candidacy.referential_version.version,
        )
        attestation = {
            "representative_name": representative_name.strip(),
            "representative_title": representative_title.strip(),
            "text": text,
        }
        snapshot = build_snapshot(candidacy, user, attestation, now)
        declaration = Declaration(
            candidacy=candidacy,
            filed_at=now,
            filing_date=paris_date(now),
            filed_by=_actor(user),
            representative_name=attestation["representative_name"],
            representative_title=attestation["representative_title"],
            attestation=text,
            snapshot=snapshot,
        )
        declaration.save()
        DeclaredItem.objects.bulk_create(
            DeclaredItem(
                declaration=declaration,
                candidate=candidacy.candidate,
                domain=candidacy.domain,
                item_code=i["id"],
                kind=i["kind"],
                status=i["status"],
            )
            for i in snapshot["items"]
            if i["kind"] != "group"
        )
        _move(candidacy, user, "file", State.DECLARED, now)
        candidacy.save()
        audit.record(
            user,
            "declaration.file",
            declaration,
            candidacy.candidate,
            f"déclaration d'atteinte déposée ({candidacy.domain}), SHA-256 "
            f"{declaration.content_sha256}, attestée par {attestation['representative_name']}",
        )
        notifications.notify(
            candidacy,
            ARS_ROLES - {"administrator"},
            f"[careops] Déclaration à instruire : {candidacy.candidate.name} ({candidacy.domain})",
            f"{candidacy.candidate.name} a déposé sa déclaration d'atteinte des objectifs du "
            f"domaine {candidacy.domain}. Instruction ARS "
            f"{describe_window(domain.windows.ars_instruction)}.",
        )
    return declaration


# --- instruction -----------------------------------------------------------------------------


def reviewable_items(declaration: Declaration) -> list[dict]:
    """The declared prerequisites and objectives that instructors give a verdict on."""
    return [
        i
        for i in declaration.snapshot["items"]
        if i["kind"] != "group" and i["status"] != "not_applicable"
    ]


def current_reviews(declaration: Declaration, level: str) -> dict[str, ItemReview]:
    return {r.item_code: r for r in declaration.reviews.filter(level=level, is_current=True)}


def _level_for(user, candidacy: Candidacy) -> str:
    """ARS instruction while declared, ANS instruction once transmitted."""
    if candidacy.state == State.DECLARED:
        _require(user, candidacy.candidate, ARS_ROLES, "instruire cette déclaration (ARS)")
        return Level.ARS
    if candidacy.state == State.ARS_INSTRUCTED:
        _require(user, candidacy.candidate, ANS_ROLES, "instruire cette déclaration (ANS)")
        return Level.ANS
    raise ValidationError(
        f"Impossible d'instruire : le dossier est à l'étape « {candidacy.get_state_display()} »."
    )


def review_item(
    user,
    declaration: Declaration,
    item_code: str,
    verdict: str,
    message: str = "",
    due_date: dt.date | None = None,
    now=None,
) -> ItemReview:
    """An instructor's verdict on one item: conforme, non conforme, or complément demandé (with
    a message and a due date)."""
    now = _now(now)
    candidacy = _fresh(declaration.candidacy_id)
    level = _level_for(user, candidacy)
    domain = domain_of(candidacy)
    _require_window(domain, "ars_instruction" if level == Level.ARS else "ans_instruction", now)
    try:
        code = bridge.normalize_code(item_code)
    except ValueError as exc:
        raise ValidationError({"item_code": [str(exc)]}) from exc
    if code not in {i["id"] for i in reviewable_items(declaration)}:
        raise ValidationError(
            {"item_code": [f"{code} n'est pas une exigence à instruire de cette déclaration."]}
        )
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": ["Avis inconnu."]})
    if verdict == Verdict.COMPLEMENT:
        if not message.strip():
            raise ValidationError({"message": ["Précisez le complément attendu."]})
        if due_date is None or due_date < paris_date(now):
            raise ValidationError(
                {"due_date": ["L'échéance du complément est obligatoire et ne peut être passée."]}
            )
    elif verdict == Verdict.NON_COMPLIANT and not message.strip():
        raise ValidationError({"message": ["Motivez l'avis « non conforme »."]})
    with transaction.atomic():
        declaration.reviews.filter(item_code=code, level=level, is_current=True).update(
            is_current=False
        )
        review = ItemReview.objects.create(
            declaration=declaration,
            candidate_id=candidacy.candidate_id,
            domain=candidacy.domain,
            item_code=code,
            level=level,
            verdict=verdict,
            message=message,
            due_date=due_date if verdict == Verdict.COMPLEMENT else None,
            reviewer=_actor(user),
            at=now,
        )
        _count_verdicts(declaration)
        label = Verdict(verdict).label
        audit.record(
            user,
            f"declaration.review.{level}",
            review,
            candidacy.candidate,
            f"{code} : {label}"
            + (f" — {message}" if message else "")
            + (f" (échéance {due_date:%d/%m/%Y})" if review.due_date else ""),
        )
        if verdict == Verdict.COMPLEMENT:
            notifications.notify(
                candidacy,
                ANSWER_ROLES,
                f"[careops] Complément demandé sur {code} ({candidacy.domain})",
                f"L'instructeur {Level(level).label} demande un complément sur {code} pour "
                f"{candidacy.candidate.name} : {message}\nÉchéance : {due_date:%d/%m/%Y}.",
            )
    return review


VERDICT_FIELDS = {
    (Level.ARS, Verdict.COMPLIANT): "ars_compliant",
    (Level.ARS, Verdict.NON_COMPLIANT): "ars_non_compliant",
    (Level.ARS, Verdict.COMPLEMENT): "ars_complement",
    (Level.ANS, Verdict.COMPLIANT): "ans_compliant",
    (Level.ANS, Verdict.NON_COMPLIANT): "ans_non_compliant",
    (Level.ANS, Verdict.COMPLEMENT): "ans_complement",
}


def _count_verdicts(declaration: Declaration) -> None:
    """Refresh the candidacy's counts of current verdicts (read by the dashboards)."""
    counts = dict.fromkeys(VERDICT_FIELDS.values(), 0)
    for row in (
        declaration.reviews.filter(is_current=True)
        .values("level", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[VERDICT_FIELDS[(row["level"], row["verdict"])]] = row["n"]
    Candidacy.objects.filter(pk=declaration.candidacy_id).update(**counts)


def answer_complement(
    user, review: ItemReview, message: str, revision_ids=(), now=None
) -> ComplementAnswer:
    """The candidate answers a complement request with new evidence revisions (uploaded through
    the evidence pages); the declaration's snapshot is not touched."""
    now = _now(now)
    candidacy = _fresh(review.declaration.candidacy_id)
    _require(user, candidacy.candidate, ANSWER_ROLES, "répondre à une demande de complément")
    if not message.strip():
        raise ValidationError({"message": ["La réponse est obligatoire."]})
    ids = {int(i) for i in revision_ids}
    revisions = list(
        EvidenceRevision.objects.filter(
            pk__in=ids, evidence__organisation__path__startswith=candidacy.candidate.path
        )
    )
    if len(revisions) != len(ids):
        raise ValidationError(
            {"revisions": ["Les révisions citées doivent être des preuves du candidat."]}
        )
    with transaction.atomic():
        review = ItemReview.objects.select_for_update().get(pk=review.pk)
        if not review.is_open_request:
            raise ValidationError("Cette demande de complément n'attend plus de réponse.")
        answer = ComplementAnswer.objects.create(
            review=review, message=message, author=_actor(user), at=now
        )
        answer.revisions.set(revisions)
        review.answered_at = now
        review.save(update_fields=["answered_at"])
        late = review.due_date is not None and paris_date(now) > review.due_date
        audit.record(
            user,
            "declaration.complement.answer",
            answer,
            candidacy.candidate,
            f"réponse au complément sur {review.item_code} avec {len(revisions)} révision(s)"
            + (" — hors délai" if late else ""),
        )
        notifications.notify(
            candidacy,
            ARS_ROLES - {"administrator"}
            if review.level == Level.ARS
            else ANS_ROLES - {"administrator"},
            f"[careops] Complément reçu sur {review.item_code} ({candidacy.candidate.name})",
            f"{candidacy.candidate.name} a répondu à la demande de complément sur {review.item_code}.",
        )
    return answer


def pending_items(declaration: Declaration, level: str) -> list[str]:
    """Items without a settled verdict (conforme / non conforme) at ``level``."""
    current = current_reviews(declaration, level)
    return [
        i["id"]
        for i in reviewable_items(declaration)
        if i["id"] not in current or current[i["id"]].verdict == Verdict.COMPLEMENT
    ]


def transmit(user, candidacy: Candidacy, comment: str = "", now=None) -> Candidacy:
    """The ARS closes its instruction and transmits to the ANS once every item has a verdict."""
    now = _now(now)
    _require(user, candidacy.candidate, ARS_ROLES, "transmettre le dossier à l'ANS")
    with transaction.atomic():
        candidacy = _locked(candidacy)
        _require_state(candidacy, {State.DECLARED}, "transmettre le dossier à l'ANS")
        _require_window(domain_of(candidacy), "ars_instruction", now)
        pending = pending_items(candidacy.declaration, Level.ARS)
        if pending:
            raise ValidationError(
                "Instruction ARS incomplète : avis conforme ou non conforme attendu sur "
                + ", ".join(pending)
                + "."
            )
        _move(candidacy, user, "transmit", State.ARS_INSTRUCTED, now, comment)
        candidacy.save()
        audit.record(
            user,
            "declaration.transmit",
            candidacy,
            candidacy.candidate,
            "instruction ARS close, dossier transmis à l'ANS"
            + (f" : {comment}" if comment else ""),
        )
        notifications.notify(
            candidacy,
            ANS_ROLES - {"administrator"},
            f"[careops] Dossier transmis à l'ANS : {candidacy.candidate.name} ({candidacy.domain})",
            "L'ARS a terminé son instruction ; le dossier attend l'instruction de l'ANS.",
        )
    return candidacy


def attainment(declaration: Declaration) -> dict[str, bool | None]:
    """Per item, the instructed result: the ANS verdict when given, else the ARS verdict; a
    not-applicable item is None; an item without a settled verdict counts as its declared
    status."""
    ars = current_reviews(declaration, Level.ARS)
    ans = current_reviews(declaration, Level.ANS)
    result: dict[str, bool | None] = {}
    for item in declaration.snapshot["items"]:
        if item["kind"] == "group":
            continue
        if item["status"] == "not_applicable":
            result[item["id"]] = None
            continue
        review = ans.get(item["id"]) or ars.get(item["id"])
        if review is not None and review.verdict != Verdict.COMPLEMENT:
            result[item["id"]] = review.verdict == Verdict.COMPLIANT
        else:
            result[item["id"]] = item["status"] == "met"
    return result


def funding_of(candidacy: Candidacy) -> dict:
    """The funding computation: the decided one, else an indicative one from the current
    verdicts (or the declared statuses), else from the live assessment."""
    if candidacy.funding:
        return candidacy.funding
    domain = domain_of(candidacy)
    declaration = (
        getattr(candidacy, "declaration", None)
        if candidacy.state
        not in (State.CANDIDACY_SUBMITTED, State.CANDIDACY_VALIDATED, State.CANDIDACY_REJECTED)
        else None
    )
    if declaration is not None:
        met = attainment(declaration)
    else:
        kinds = {i.id: i.kind for i in domain.items}
        statuses = candidacy.assessment.statuses.all() if candidacy.assessment else []
        met = {
            s.item_code: (None if s.status == "not_applicable" else s.status == "met")
            for s in statuses
            if kinds.get(s.item_code) in ("prerequisite", "objective")
        }
    result = funding.compute(domain, met, candidacy.ceiling_eur)
    result["indicative"] = True
    return result


def decide(user, candidacy: Candidacy, comment: str = "", now=None) -> Candidacy:
    """The ANS decides: attainment from the verdicts, funding share and amount owed."""
    now = _now(now)
    _require(user, candidacy.candidate, ANS_ROLES, "rendre la décision")
    with transaction.atomic():
        candidacy = _locked(candidacy)
        _require_state(candidacy, {State.ARS_INSTRUCTED}, "rendre la décision")
        _require_window(domain_of(candidacy), "ans_instruction", now)
        declaration = candidacy.declaration
        open_requests = declaration.reviews.filter(
            level=Level.ANS, is_current=True, verdict=Verdict.COMPLEMENT
        ).values_list("item_code", flat=True)
        if open_requests:
            raise ValidationError(
                "Des compléments demandés par l'ANS restent à instruire : "
                + ", ".join(open_requests)
                + "."
            )
        pending = pending_items(declaration, Level.ANS)
        if pending:
            raise ValidationError(
                "Décision impossible : avis ANS conforme ou non conforme attendu sur "
                + ", ".join(pending)
                + "."
            )
        computation = funding.compute(
            domain_of(candidacy), attainment(declaration), candidacy.ceiling_eur
        )
        computation["indicative"] = False
        share = computation["share"]
        candidacy.decision = (
            Decision.ACCEPTED if share >= 1 else Decision.PARTIAL if share > 0 else Decision.REFUSED
        )
        candidacy.funding = computation
        candidacy.amount_eur = (
            Decimal(computation["amount_eur"]) if computation["amount_eur"] else None
        )
        candidacy.decided_at, candidacy.decided_by, candidacy.decision_comment = (
            now,
            _actor(user),
            comment,
        )
        _move(candidacy, user, "decide", State.DECIDED, now, comment)
        candidacy.save()
        audit.record(
            user,
            "declaration.decide",
            candidacy,
            candidacy.candidate,
            f"décision : {candidacy.get_decision_display()}, part {fmt_pct(float(share))}, "
            f"montant dû {fmt_eur(candidacy.amount_eur)}" + (f" — {comment}" if comment else ""),
        )
        notifications.notify(
            candidacy,
            CANDIDATE_ROLES,
            f"[careops] Décision de l'ANS ({candidacy.domain}) : {candidacy.get_decision_display()}",
            f"Décision pour {candidacy.candidate.name} : {candidacy.get_decision_display()}.\n"
            + "\n".join(computation["steps"]),
        )
    return candidacy


def record_payment(user, candidacy: Candidacy, reference: str, now=None) -> Candidacy:
    """Record the payment of the amount owed, inside the payment window."""
    now = _now(now)
    _require(user, candidacy.candidate, ANS_ROLES, "enregistrer le paiement")
    if not reference.strip():
        raise ValidationError({"reference": ["La référence du paiement est obligatoire."]})
    with transaction.atomic():
        candidacy = _locked(candidacy)
        _require_state(candidacy, {State.DECIDED}, "enregistrer le paiement")
        _require_window(domain_of(candidacy), "payment", now)
        if not candidacy.amount_eur:
            raise ValidationError("Aucun montant n'est dû pour ce dossier.")
        candidacy.paid_at, candidacy.paid_by, candidacy.payment_reference = (
            now,
            _actor(user),
            reference.strip(),
        )
        _move(candidacy, user, "pay", State.PAID, now, reference)
        candidacy.save()
        audit.record(
            user,
            "declaration.pay",
            candidacy,
            candidacy.candidate,
            f"paiement de {fmt_eur(candidacy.amount_eur)} enregistré (réf. {reference})",
        )
        notifications.notify(
            candidacy,
            CANDIDATE_ROLES,
            f"[careops] Paiement enregistré ({candidacy.domain})",
            f"Le paiement de {fmt_eur(candidacy.amount_eur)} pour {candidacy.candidate.name} est enregistré "
            f"(référence {reference}).",
        )
    return candidacy


# --- what a user may do next ------------------------------------------------------------------


def actions_for(user, candidacy: Candidacy, now=None) -> dict[str, bool]:
    """Which actions the page and the API offer this user on this candidacy now."""
    now = _now(now)
    domain = domain_of(candidacy)
    state = candidacy.state
    is_candidate = holds(user, candidacy.candidate, CANDIDATE_ROLES)
    is_ars = holds(user, candidacy.candidate, ARS_ROLES)
    is_ans = holds(user, candidacy.candidate, ANS_ROLES)
    return {
        "validate": is_ars and state == State.CANDIDACY_SUBMITTED,
        "file": is_candidate
        and state == State.CANDIDACY_VALIDATED
        and window_state(domain, "declaration", now)[0],
        "review_ars": is_ars
        and state == State.DECLARED
        and window_state(domain, "ars_instruction", now)[0],
        "review_ans": is_ans
        and state == State.ARS_INSTRUCTED
        and window_state(domain, "ans_instruction", now)[0],
        "answer": holds(user, candidacy.candidate, ANSWER_ROLES)
        and state in (State.DECLARED, State.ARS_INSTRUCTED),
        "pay": is_ans and state == State.DECIDED and window_state(domain, "payment", now)[0],
    }


def candidate_choices(user) -> list[Organisation]:
    """Organisations the user may file a candidacy for."""
    qs = scope.restrict(
        Organisation.objects.filter(kind__in=[OrgKind.GHT, OrgKind.EJ, OrgKind.ESMS]),
        user,
        "manage",
    )
    return [o for o in qs.select_related("parent") if holds(user, o, CANDIDATE_ROLES)]


def visible(user):
    return scope.restrict(Candidacy.objects.all(), user, "view")
