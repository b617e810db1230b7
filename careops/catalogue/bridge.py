"""The one door between the Django side and the pure catalogue engine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from careops.catalogue.engine.dossier import DossierError, parse_dossier
from careops.catalogue.engine.evaluate import evaluate as engine_evaluate
from careops.catalogue.engine.schema import DomainVersion, normalize_item_id


@dataclass(frozen=True)
class Outcome:
    """An evaluation as plain data: item results and the domain's progress (0–1)."""

    results: list[dict[str, Any]]
    progress: float
    funding_share: float


# What is derived from a stored referential version, per process, keyed by the SHA-256 of its
# file: a loaded (domain, version) never changes (catalogue.services refuses another content
# under the same number), so the key names one content for good. Reading ``version.data`` (the
# whole domain file, decoded from JSON) is the costly part: on a hit it is not read at all, and
# callers may ``defer("data")`` (a miss then loads it, once per process).
_DERIVED_MAX = 256
_derived: dict[tuple[str, str], Any] = {}


def _derive(version, what: str, compute):
    key = (what, version.sha256)
    try:
        return _derived[key]
    except KeyError:
        pass
    value = compute(version.data)
    if len(_derived) >= _DERIVED_MAX:  # tests load many versions; production a dozen
        _derived.clear()
    _derived[key] = value
    return value


def domain_of(version) -> DomainVersion:
    """The engine model of a stored ReferentialVersion (validated once per content hash)."""
    return _derive(
        version,
        "domain",
        lambda data: DomainVersion.model_validate(json.loads(json.dumps(data))),
    )


def known_kinds(version) -> set[str]:
    """The evidence kinds a referential version knows (others are ignored for that domain)."""
    return set(_derive(version, "kinds", lambda data: dict(data.get("evidence_kinds", {}))))


def kind_label_map(version) -> dict[str, str]:
    """Evidence kind → its label in a referential version."""
    return _derive(
        version,
        "kind_labels",
        lambda data: {
            kind: entry.get("label", kind)
            for kind, entry in (data.get("evidence_kinds") or {}).items()
        },
    )


def item_kinds(version) -> dict[str, list[str]]:
    """Per item code, the evidence kinds its criteria read (as the Item rows store them)."""

    def compute(data):
        labels = data.get("evidence_kinds", {})
        return {
            item["id"]: [kind for kind, _label in item_evidence_kinds(item, labels)]
            for item in data.get("items", [])
        }

    return _derive(version, "item_kinds", compute)


def current_versions():
    """The current referential versions, without their data (read through ``_derive``)."""
    from careops.catalogue.models import ReferentialVersion

    return ReferentialVersion.objects.filter(is_current=True).defer("data")


def evaluate(version, dossier: dict[str, Any]) -> Outcome:
    """Evaluate a dossier (docs/dossier-format.md, as a dict) against a stored version.

    A dossier the engine refuses (an unknown fact, a fact of the wrong type…) becomes a
    ValidationError carrying the engine's French messages.
    """
    try:
        evaluation = engine_evaluate(domain_of(version), parse_dossier(dossier, file="<base>"))
    except DossierError as exc:
        raise ValidationError([p.message for p in exc.problems]) from exc
    results = [
        {
            "id": r.id,
            "status": r.status,
            "reasons": list(r.reasons),
            "criteria": [c.model_dump(mode="json") for c in r.criteria],
        }
        for r in evaluation.results
    ]
    return Outcome(results, evaluation.progress.ratio, evaluation.progress.funding_share)


def _criterion_kinds(criteria: list[dict[str, Any]]) -> Iterator[str]:
    for criterion in criteria:
        for key in ("evidence_kind", "kind"):
            value = criterion.get(key)
            if isinstance(value, str):
                yield value
        for option in (
            (criterion.get("options") or {}).values()
            if isinstance(criterion.get("options"), dict)
            else []
        ):
            if isinstance(option, dict) and isinstance(option.get("evidence_kind"), str):
                yield option["evidence_kind"]
        yield from _criterion_kinds(criterion.get("criteria") or [])


def item_evidence_kinds(item: dict[str, Any], labels: dict[str, Any]) -> list[list[str]]:
    """[kind, label] pairs of the evidence an item's criteria read, in order, without repeats."""
    seen: dict[str, str] = {}
    for kind in _criterion_kinds(item.get("criteria") or []):
        if kind in labels and kind not in seen:
            seen[kind] = labels[kind].get("label", kind)
    return [[k, v] for k, v in seen.items()]


def evidence_kinds(item_data: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kind, label) choices offered when uploading evidence for an item."""
    return [(k, label) for k, label in item_data.get("evidence_kinds", [])]


def kind_labels(kind: str) -> list[tuple[str, str]]:
    """(kind, label) pairs for an evidence kind, from the current referential versions."""
    pairs = []
    for version in current_versions().order_by("domain", "-loaded_at"):
        label = kind_label_map(version).get(kind)
        if label is not None:
            pairs.append((kind, label))
    return pairs


def normalize_code(code: str) -> str:
    """Normalise an item identifier ("D2.03.B" → "D2.O3.B")."""
    return normalize_item_id(code)


def to_json_text(value: Any) -> str:
    """Pretty JSON for a form field ("" for an empty value)."""
    return json.dumps(value, ensure_ascii=False, indent=2) if value else ""


def fact_fields(version) -> list:
    """The facts of a stored version as form specifications (engine ``fields.FieldSpec``)."""
    from careops.catalogue.engine.fields import fact_fields as specs

    return specs(domain_of(version))


def attribute_fields(version, kind: str) -> list:
    """The attributes the version's criteria read on evidence of ``kind``, as form specifications."""
    from careops.catalogue.engine.fields import attribute_fields as specs

    return specs(domain_of(version), kind)


def current_attribute_fields(kind: str) -> list:
    """Attribute specifications of ``kind`` merged over the current versions (first one wins)."""
    from careops.catalogue.models import ReferentialVersion

    merged: dict[str, Any] = {}
    for version in ReferentialVersion.objects.filter(is_current=True).order_by("domain"):
        for spec in attribute_fields(version, kind):
            merged.setdefault(spec.name, spec)
    return list(merged.values())


def file_required(kind: str) -> bool:
    """Whether a manual upload of ``kind`` must carry a file, in any current version."""
    from careops.catalogue.engine.fields import file_required as required
    from careops.catalogue.models import ReferentialVersion

    return any(
        required(domain_of(version), kind)
        for version in ReferentialVersion.objects.filter(is_current=True)
    )
