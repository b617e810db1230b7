"""Eligibility of an organisation to a domain: the pure rules of
``careops.catalogue.engine.eligibility``, fed from the organisation tree, so that the web app
and ``careops evaluate`` give the same answer (see docs/declarations.md)."""

from __future__ import annotations

from careops.catalogue.engine.eligibility import (
    KIND_LABELS,
    Applicant,
    EligibilityResult,
    named_ghts,
)
from careops.catalogue.engine.eligibility import check as check_applicant
from careops.catalogue.engine.schema import DomainVersion
from careops.tenancy.choices import OrgKind

__all__ = ["KIND_LABELS", "EligibilityResult", "applicant_of", "check", "named_ghts"]


def applicant_of(candidate) -> Applicant:
    """The engine's view of an Organisation: kind, legal status (its category), FINESS
    category, and the GHT it is party to."""
    parent = getattr(candidate, "parent", None)
    return Applicant(
        name=candidate.name,
        kind=candidate.kind,
        legal_status=candidate.category or None,
        finess_category=candidate.finess_category or None,
        ght=parent.name if parent is not None and parent.kind == OrgKind.GHT else None,
    )


def check(domain: DomainVersion, candidate, structures: list) -> EligibilityResult:
    """Check ``candidate`` (an Organisation) against ``domain``'s eligibility.

    ``structures`` are the candidate's FINESS structures below it (EJ, EG, ESMS), whose FINESS
    categories count for a domain that names categories.
    """
    return check_applicant(domain, applicant_of(candidate), [s.finess_category for s in structures])
