"""Business rules of evidence and status: every write goes through these functions."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.catalogue import bridge
from careops.catalogue.engine.eligibility import LEGAL_STATUSES
from careops.compliance import uploads
from careops.compliance.models import (
    Assessment,
    Evidence,
    EvidenceFile,
    EvidenceRevision,
    ItemStatus,
    StatusChange,
)
from careops.core import audit
from careops.tenancy import scope
from careops.tenancy.choices import OrgKind
from careops.tenancy.models import Organisation

logger = logging.getLogger("careops.compliance")
PARIS = ZoneInfo("Europe/Paris")


def today_in_paris() -> dt.date:
    """The calendar date in Europe/Paris, the programme's reference time zone."""
    return timezone.now().astimezone(PARIS).date()


@dataclass
class RevisionInput:
    """What a user gives for a new revision of a piece of evidence."""

    effective_date: dt.date
    expires_on: dt.date | None = None
    validated_by: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    entity_ids: list[int] = field(default_factory=list)
    comment: str = ""
    files: list[UploadedFile] = field(default_factory=list)


def _check_revision(
    organisation: Organisation, data: RevisionInput, kind: str = "", source: str = "upload"
) -> list[uploads.CheckedFile]:
    """Validate everything before any write, so that a rejected upload saves nothing.

    A manual upload of a kind that criteria judge as a document needs a file; evidence made by
    a module needs a file or data: an empty piece of evidence never counts.
    """
    errors: dict[str, list[str]] = {}
    if not data.files:
        if source == "upload" and kind and bridge.file_required(kind):
            errors.setdefault("files", []).append(
                _(
                    "Joignez au moins un fichier : ce type de preuve est un document, une preuve "
                    "sans fichier n'est pas retenue. Un fichier refusé n'est jamais enregistré : "
                    "choisissez-le à nouveau une fois corrigé."
                )
            )
        elif source != "upload" and not any(
            value not in (None, "", [], {}) for value in data.attributes.values()
        ):
            errors.setdefault("attributes", []).append(
                _("Preuve vide : ni fichier ni donnée ; elle n'est pas enregistrée.")
            )
    if data.expires_on and data.expires_on < data.effective_date:
        errors.setdefault("expires_on", []).append(
            _("La date d'expiration précède la date d'effet.")
        )
    if data.effective_date > today_in_paris() + dt.timedelta(days=366):
        errors.setdefault("effective_date", []).append(
            _("La date d'effet est à plus d'un an dans le futur.")
        )
    if data.entity_ids:
        inside = organisation.subtree().filter(pk__in=data.entity_ids).count()
        if inside != len(set(data.entity_ids)):
            errors.setdefault("entities", []).append(
                _("Les entités couvertes doivent appartenir à l'organisation de la preuve.")
            )
    checked = []
    for upload in data.files:
        try:
            checked.append(uploads.check(upload))
        except uploads.UploadRejected as exc:
            errors.setdefault("files", []).append(str(exc))
    if errors:
        logger.warning("evidence rejected for %s: %s", organisation.pk, errors)
        raise ValidationError(errors)
    return checked


def _write_revision(evidence: Evidence, user, data: RevisionInput, checked) -> EvidenceRevision:
    number = evidence.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    revision = EvidenceRevision.objects.create(
        evidence=evidence,
        number=number + 1,
        effective_date=data.effective_date,
        expires_on=data.expires_on,
        validated_by=data.validated_by,
        attributes=data.attributes,
        comment=data.comment,
        author=user if getattr(user, "is_authenticated", False) else None,
    )
    if data.entity_ids:
        revision.entities.set(data.entity_ids)
    for item in checked:
        stored = EvidenceFile(
            revision=revision,
            original_name=item.name,
            size=item.size,
            sha256=item.sha256,
            content_type=item.content_type,
        )
        stored.file.save(item.sha256, item.upload, save=False)
        stored.save()
    return revision


def create_evidence(
    user,
    organisation: Organisation,
    kind: str,
    title: str,
    data: RevisionInput,
    item_codes: Iterable[str] = (),
    source: str = "upload",
) -> Evidence:
    """Create a piece of evidence with its first revision, then recompute the statuses it touches."""
    if user is not None and not scope.can(user, "change", organisation):
        raise PermissionDenied(_("Vous ne pouvez pas déposer de preuve pour cette organisation."))
    if not kind:
        raise ValidationError({"kind": [_("Le type de preuve est obligatoire.")]})
    checked = _check_revision(organisation, data, kind, source)
    with transaction.atomic():
        evidence = Evidence.objects.create(
            organisation=organisation,
            kind=kind,
            title=title or kind,
            item_codes=list(item_codes),
            source=source,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        revision = _write_revision(evidence, user, data, checked)
        audit.record(
            user,
            "evidence.create",
            evidence,
            organisation,
            f"preuve « {evidence.title} » ({kind}), révision 1 du "
            f"{revision.effective_date:%d/%m/%Y}, {len(checked)} fichier(s)",
        )
        recompute_for(organisation, cause=f"preuve « {evidence.title} » déposée")
    return evidence


def add_revision(user, evidence: Evidence, data: RevisionInput) -> EvidenceRevision:
    """Add a revision to a piece of evidence; earlier revisions stay untouched."""
    if user is not None and not scope.can(user, "change", evidence):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette preuve."))
    checked = _check_revision(evidence.organisation, data, evidence.kind, evidence.source)
    with transaction.atomic():
        revision = _write_revision(evidence, user, data, checked)
        audit.record(
            user,
            "evidence.revise",
            evidence,
            evidence.organisation,
            f"preuve « {evidence.title} », révision {revision.number} du "
            f"{revision.effective_date:%d/%m/%Y}",
        )
        recompute_for(evidence.organisation, cause=f"nouvelle révision de « {evidence.title} »")
    return revision


def _unit_nodes(candidate: Organisation) -> list[Organisation]:
    """The FINESS entities the candidate's coverage is counted in: EJ for a GHT, else EG."""
    level = OrgKind.EJ if candidate.kind == OrgKind.GHT else OrgKind.EG
    nodes = list(candidate.subtree().filter(kind=level).exclude(finess=None))
    if not nodes and candidate.finess:
        nodes = [candidate]
    return nodes


def candidate_entities(candidate: Organisation) -> list[dict[str, Any]]:
    """The candidate's FINESS entities with their activity weights and unit."""
    return [
        {
            "finess": node.finess,
            "name": node.name,
            "level": "EG" if node.kind == OrgKind.EG else "EJ",
            "weight": float(node.activity_weight),
            "unit": node.activity_unit or "activité combinée",
            "finess_category": node.finess_category or None,
        }
        for node in _unit_nodes(candidate)
    ]


def _units_covered(node: Organisation, units: list[Organisation]) -> list[str]:
    """Map an organisation to the unit entities it stands for (itself, those under it, or the
    one above it), so that evidence filed on a site or on a whole GHT counts correctly."""
    below = [u.finess for u in units if u.path.startswith(node.path)]
    if below:
        return below
    return [u.finess for u in units if node.path.startswith(u.path)]


def build_dossier(assessment: Assessment, as_of: dt.date | None = None) -> dict[str, Any]:
    """The assessment as a dossier (docs/dossier-format.md), built from the database.

    Only the latest revision of each piece of evidence counts, and only evidence of the kinds
    the assessment's referential version knows.
    """
    candidate = assessment.candidate
    version = assessment.referential_version
    units = _unit_nodes(candidate)
    revisions = (
        EvidenceRevision.objects.filter(
            evidence__organisation__path__startswith=candidate.path,
            evidence__kind__in=bridge.known_kinds(version),
        )
        .select_related("evidence", "evidence__organisation")
        .prefetch_related("entities")
        .order_by("evidence_id", "-number")
    )
    evidence: list[dict[str, Any]] = []
    seen: set[int] = set()
    for revision in revisions:
        if revision.evidence_id in seen:
            continue
        seen.add(revision.evidence_id)
        covered: list[str] = []
        for node in list(revision.entities.all()) or [revision.evidence.organisation]:
            covered.extend(f for f in _units_covered(node, units) if f not in covered)
        evidence.append(
            {
                "id": f"E{revision.evidence_id}r{revision.number}",
                "kind": revision.evidence.kind,
                "title": revision.evidence.title,
                "date": revision.effective_date.isoformat(),
                "expires": revision.expires_on.isoformat() if revision.expires_on else None,
                "entities": covered,
                "validated_by": revision.validated_by or None,
                "attributes": revision.attributes,
            }
        )
    return {
        "domain": version.domain,
        "version": version.version,
        "candidate": {
            "name": candidate.name,
            "finess": candidate.finess,
            "kind": candidate.kind,
            # eligibility (docs/dossier-format.md): the same facts the candidacy was checked on
            "legal_status": candidate.category if candidate.category in LEGAL_STATUSES else None,
            "finess_category": candidate.finess_category or None,
            "ght": candidate.parent.name
            if candidate.parent is not None and candidate.parent.kind == OrgKind.GHT
            else None,
        },
        "entities": candidate_entities(candidate),
        "candidacy_date": assessment.candidacy_date.isoformat()
        if assessment.candidacy_date
        else None,
        "filing_date": assessment.filing_date.isoformat() if assessment.filing_date else None,
        "as_of": (as_of or today_in_paris()).isoformat(),
        "facts": assessment.facts,
        "evidence": evidence,
    }


def evaluate_assessment(assessment: Assessment, cause: str = "", as_of=None) -> list[ItemStatus]:
    """Recompute every item's status; a change of status is kept in the history with its cause."""
    dossier = build_dossier(assessment, as_of)
    outcome = bridge.evaluate(assessment.referential_version, dossier)
    current = {s.item_code: s for s in assessment.statuses.all()}
    changes = []
    with transaction.atomic():
        for result in outcome.results:
            status = current.get(result["id"])
            if status is None:
                status = ItemStatus(assessment=assessment, item_code=result["id"])
                previous = ""
            else:
                previous = status.status
            status.status = result["status"]
            status.reasons = result["reasons"]
            status.criteria = result.get("criteria", [])
            status.save()
            current[result["id"]] = status
            if previous != result["status"]:
                changes.append(
                    StatusChange(
                        assessment=assessment,
                        item_code=result["id"],
                        previous=previous,
                        status=result["status"],
                        reasons=result["reasons"],
                        cause=cause[:255],
                    )
                )
        StatusChange.objects.bulk_create(changes)
        assessment.progress = outcome.progress
        assessment.evaluated_at = timezone.now()
        assessment.save(update_fields=["progress", "evaluated_at"])
    return list(current.values())


def recompute_for(organisation: Organisation, cause: str = "") -> int:
    """Recompute the assessments of every candidate whose perimeter contains ``organisation``."""
    ancestor_ids = [int(p) for p in organisation.path.strip("/").split("/") if p]
    assessments = Assessment.objects.filter(candidate_id__in=ancestor_ids).select_related(
        "candidate", "referential_version"
    )
    count = 0
    for assessment in assessments:
        evaluate_assessment(assessment, cause)
        count += 1
    return count


def open_assessment(
    user, candidate: Organisation, version, candidacy_date=None, facts=None
) -> Assessment:
    """Start (or return) the candidate's assessment on a referential version, evaluated at once."""
    if user is not None and not scope.can(user, "change", candidate):
        raise PermissionDenied(_("Vous ne pouvez pas ouvrir d'évaluation pour cette organisation."))
    if not candidate.is_candidate_kind:
        raise ValidationError(
            _("Seuls un GHT, une entité juridique ou un ESMS peuvent candidater.")
        )
    with transaction.atomic():
        assessment, created = Assessment.objects.get_or_create(
            candidate=candidate,
            referential_version=version,
            defaults={"candidacy_date": candidacy_date, "facts": facts or {}},
        )
        if created:
            audit.record(
                user, "assessment.open", assessment, candidate, f"évaluation {version} ouverte"
            )
            evaluate_assessment(assessment, cause="ouverture de l'évaluation")
    return assessment


_CHANGE_LABELS = {
    "candidacy_date": "date de candidature",
    "filing_date": "date de dépôt",
    "facts": "faits déclarés",
}


def _describe_changes(changes: dict[str, list[str]]) -> str:
    """French summary of an assessment change for the journal."""

    def shown(value: str) -> str:
        if value in ("None", "", "{}"):
            return "vide"
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value

    return " ; ".join(
        f"{_CHANGE_LABELS.get(name, name)} : {shown(before)} → {shown(after)}"
        for name, (before, after) in changes.items()
    )


def update_assessment(user, assessment: Assessment, **fields) -> Assessment:
    """Change an assessment's dates or declared facts, then recompute it."""
    if user is not None and not scope.can(user, "change", assessment):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette évaluation."))
    changes = {}
    for name in ("candidacy_date", "filing_date", "facts"):
        if name in fields and getattr(assessment, name) != fields[name]:
            changes[name] = [str(getattr(assessment, name)), str(fields[name])]
            setattr(assessment, name, fields[name])
    if changes:
        with transaction.atomic():
            assessment.save()
            audit.record(
                user,
                "assessment.update",
                assessment,
                assessment.candidate,
                _describe_changes(changes),
                changes,
            )
            evaluate_assessment(assessment, cause="dates ou faits déclarés modifiés")
    return assessment
