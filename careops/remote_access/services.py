"""Business rules of the remote-access workspace: every write goes through these functions.

The engine (``engine/``) does the checks; this module feeds it from the database (paths,
BIA priorities, the latest exposure run) and from uploaded files, keeps each review, turns
results into D3 evidence and handles vendors' attestations.
"""

from __future__ import annotations

import io
import logging
from dataclasses import fields as dc_fields

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance import services as compliance
from careops.core import audit, spreadsheet
from careops.core.logs import without_quoted_values
from careops.remote_access import choices
from careops.remote_access.engine import accounts, bastion, checks, exposure, inventory, rules, vpn
from careops.remote_access.engine import model as engine
from careops.remote_access.models import AccessPath, Attestation, Review
from careops.tenancy import scope
from careops.tenancy.models import Organisation

logger = logging.getLogger("careops.remote_access")
ENGINE_FIELDS = [f.name for f in dc_fields(engine.AccessPath)]
PRIORITY_ORDER = ["P1", "P2", "P3", "P4"]


# ---------------------------------------------------------------- visibility


def visible_paths(user):
    """The paths a user may see: through "view" on their organisation, or, for a vendor,
    only the paths they were invited on."""
    staff = scope.restrict(AccessPath.objects.all(), user)
    own = scope.restrict(AccessPath.objects.all(), user, "vendor_attest").filter(vendor_users=user)
    return (staff | own).distinct()


def is_vendor_only(user) -> bool:
    return scope.roles(user) == {"vendor"}


# ---------------------------------------------------------------- BIA priority


class PriorityResolver:
    """The priority (P1…P4) a path inherits: the strictest one of the BIA resources it reaches."""

    def __init__(self) -> None:
        self._by_campaign: dict[int, dict[str, str]] = {}

    def resource_priority(self, resource) -> str:
        campaign_id = resource.campaign_id
        if campaign_id not in self._by_campaign:
            from careops.continuity import services as continuity

            analysis = continuity.analyse(resource.campaign, with_measures=False)
            by_activity = {a.code: a.priority for a in analysis.activities}
            self._by_campaign[campaign_id] = {
                r.code: _strictest(by_activity.get(code, "") for code in r.activities)
                for r in analysis.resources
            }
        return self._by_campaign[campaign_id].get(resource.code, "")

    def path_priority(self, path: AccessPath) -> str:
        return _strictest(self.resource_priority(r) for r in path.targets.all())


def _strictest(values) -> str:
    present = [v for v in values if v]
    if not present:
        return ""
    return min(present, key=lambda v: PRIORITY_ORDER.index(v) if v in PRIORITY_ORDER else 99)


def to_engine(path: AccessPath, priority: str = "") -> engine.AccessPath:
    """The engine's view of a stored path."""
    values = {name: getattr(path, name) for name in ENGINE_FIELDS if hasattr(path, name)}
    values["targets"] = [r.code for r in path.targets.all()]
    values["last_access_review"] = (
        path.last_access_review.isoformat() if path.last_access_review else ""
    )
    values["priority"] = priority
    for name in (
        "vendor",
        "contract_ref",
        "justification",
        "business_owner",
        "technical_owner",
        "entry_point",
        "source_ip_restriction",
        "account_model",
        "directory",
        "activation",
        "allowed_windows",
        "vpn_connection",
        "population",
        "technology",
    ):
        values[name] = values.get(name) or ""
    return engine.AccessPath(**values)


# ---------------------------------------------------------------- inventory import / export


def _resources_by_code(organisation: Organisation, user) -> dict[str, object]:
    from careops.continuity.models import Resource

    resources = (
        scope.restrict(
            Resource.objects.filter(campaign__organisation__in=organisation.subtree()), user
        )
        .select_related("campaign")
        .order_by("campaign__version")
    )
    return {r.code: r for r in resources}  # the latest campaign version wins


def import_inventory(user, organisation: Organisation, data: bytes) -> tuple[int, int]:
    """Create or update the paths of a workbook (matched by reference); all or nothing.

    Returns (created, updated). Any problem (unreadable file, bad cell, unknown BIA resource)
    raises a ValidationError listing every problem, and nothing is written."""
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(
            _("Vous ne pouvez pas modifier les accès distants de cette organisation.")
        )
    try:
        rows, problems = inventory.read_inventory(data)
    except inventory.InventoryError as exc:
        logger.warning(
            "remote-access import refused for %s: %s", organisation.pk, without_quoted_values(exc)
        )
        raise ValidationError({"workbook": [str(exc)]}) from exc
    messages = [str(p) for p in problems]
    resources = _resources_by_code(organisation, user)
    for row in rows:
        unknown = [code for code in row.targets if code not in resources]
        if unknown:
            messages.append(
                _("« %(ref)s » : ressource(s) du BIA inconnue(s) : %(codes)s")
                % {"ref": row.ref, "codes": ", ".join(unknown)}
            )
    if messages:
        logger.warning("remote-access import refused for %s: %s", organisation.pk, messages)
        raise ValidationError({"workbook": messages})
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            values = {
                name: getattr(row, name)
                for name in ENGINE_FIELDS
                if name not in ("ref", "targets", "priority")
            }
            values["last_access_review"] = row.last_access_review or None
            values["status"] = row.status if row.status in choices.PathStatus.values else "active"
            path = AccessPath.objects.filter(organisation=organisation, ref=row.ref).first()
            was_created = path is None
            path = path or AccessPath(organisation=organisation, ref=row.ref)
            for name, value in values.items():
                setattr(path, name, value)
            try:
                path.full_clean()  # before saving: PostgreSQL would refuse an over-long value
            except ValidationError as exc:
                raise ValidationError(
                    {"workbook": [f"« {row.ref} » : {m}" for m in exc.messages]}
                ) from exc
            path.save()
            path.targets.set([resources[c] for c in row.targets])
            created += was_created
            updated += not was_created
        audit.record(
            user,
            "remote_access.import",
            None,
            organisation,
            f"inventaire importé : {created} créé(s), {updated} mis à jour",
        )
    return created, updated


def export_rows(paths) -> list[engine.AccessPath]:
    resolver = PriorityResolver()
    return [to_engine(p, resolver.path_priority(p)) for p in paths]


def export_xlsx(paths) -> bytes:
    """The paths as an importable workbook (formula-safe), with the inherited priority."""
    rows = export_rows(paths)
    return inventory.write_inventory(rows, {r.ref: {"Priorité héritée": r.priority} for r in rows})


def export_csv(paths) -> str:
    out = io.StringIO()
    writer = spreadsheet.csv_writer(out)
    for row in inventory.csv_rows(export_rows(paths)):
        writer.writerow(row)
    return "\ufeff" + out.getvalue()  # BOM: Excel opens the French accents right, as elsewhere


BULK_FIELDS = {
    "activation": choices.Activation.values,
    "directory": choices.Directory.values,
    "account_model": choices.AccountModel.values,
    "status": choices.PathStatus.values,
    "session_recording": ["true", "false"],
    "logs_to_siem": ["true", "false"],
    "through_bastion": ["true", "false"],
    "last_access_review": None,
}


def bulk_update(user, paths, field: str, value: str) -> int:
    """Set one field on several paths (each must be changeable by the user)."""
    if field not in BULK_FIELDS:
        raise ValidationError({"field": [_("Ce champ ne peut pas être modifié en masse.")]})
    allowed = BULK_FIELDS[field]
    if allowed is not None and value not in allowed:
        raise ValidationError({"value": [_("Valeur « %(value)s » non admise.") % {"value": value}]})
    converted: object = value
    if allowed == ["true", "false"]:
        converted = value == "true"
    if field == "last_access_review":
        import datetime as dt

        try:
            converted = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({"value": [_("Date attendue au format AAAA-MM-JJ.")]}) from exc
    paths = list(paths)
    ids = [p.pk for p in paths]
    changeable = scope.restrict(AccessPath.objects.filter(pk__in=ids), user, "change")
    if changeable.count() != len(set(ids)):
        raise PermissionDenied(_("Certains accès ne peuvent pas être modifiés par vous."))
    with transaction.atomic():
        count = changeable.update(**{field: converted, "updated_at": timezone.now()})
        for path in paths:
            audit.record(
                user,
                "remote_access.bulk",
                path,
                path.organisation,
                f"{path.ref} : {field} = {value}",
            )
    return count


# ---------------------------------------------------------------- reviews


def latest_exposure(organisation: Organisation, user) -> tuple[dict | None, str]:
    """The latest finished exposure run of the organisation's subtree, as scan JSON."""
    from careops.exposure.models import RunStatus, ScanRun

    run = (
        scope.restrict(ScanRun.objects.filter(organisation__in=organisation.subtree()), user)
        .filter(status=RunStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )
    if run is None or not run.result:
        return None, ""
    return run.result, _("audit d'exposition n° %(id)s du %(date)s") % {
        "id": run.pk,
        "date": timezone.localtime(run.finished_at).strftime("%d/%m/%Y")
        if run.finished_at
        else "—",
    }


def run_review(
    user,
    organisation: Organisation,
    exposure_json: dict | None = None,
    ad_dump: bytes | None = None,
    vpn_files: list[tuple[str, bytes]] = (),
    bastion_files: list[tuple[str, bytes]] = (),
    use_latest_exposure: bool = True,
) -> Review:
    """Evaluate the organisation's active paths with every source given; keep the review and
    file it as D3 evidence. Uploaded files are parsed, never stored (VPN files may hold keys)."""
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(
            _("Vous ne pouvez pas évaluer les accès distants de cette organisation.")
        )
    import tempfile

    sources = checks.Sources(as_of=compliance.today_in_paris())
    described: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    if exposure_json is None and use_latest_exposure:
        exposure_json, label = latest_exposure(organisation, user)
        if exposure_json is not None:
            described["exposure"] = label
    elif exposure_json is not None:
        described["exposure"] = _("résultat d'exposition déposé")
    if exposure_json is not None:
        if not isinstance(exposure_json, dict):  # never a path: a document only
            errors.setdefault("exposure", []).append(
                _("le résultat d'exposition doit être un objet JSON (careops exposure scan --json)")
            )
        else:
            try:
                sources.exposure = exposure.load(exposure_json)
            except exposure.ExposureError as exc:
                errors.setdefault("exposure", []).append(str(exc))
    if ad_dump:
        from careops.directory.engine.dump import DumpError

        with tempfile.NamedTemporaryFile(suffix=".json.gz") as handle:
            handle.write(ad_dump)
            handle.flush()
            try:
                sources.directory = accounts.load(handle.name)
                described["ad"] = (
                    f"{sources.directory.domain} ({sources.directory.collected_at[:10]})"
                )
            except DumpError as exc:
                errors.setdefault("ad", []).append(str(exc))
    for name, raw in vpn_files:
        try:
            if len(raw) > vpn.MAX_FILE_BYTES:
                raise vpn.VpnConfigError(f"{name} : fichier refusé (plus de 2 Mio)")
            sources.vpn += vpn.parse_file(name, raw.decode("utf-8", "replace"))
        except vpn.VpnConfigError as exc:
            errors.setdefault("vpn", []).append(str(exc))
    for name, raw in bastion_files:
        try:
            sources.bastion.append(bastion.parse_bytes(raw, name))
        except bastion.BastionLogError as exc:
            errors.setdefault("bastion", []).append(str(exc))
    if errors:
        logger.warning("remote-access review refused for %s: %s", organisation.pk, errors)
        raise ValidationError(errors)
    described["vpn"] = [f"{c.source}:{c.name}" for c in sources.vpn]
    described["bastion"] = [f"{b.file} ({len(b.sessions)} sessions)" for b in sources.bastion]
    paths = list(
        AccessPath.objects.filter(organisation__in=organisation.subtree())
        .exclude(status=choices.PathStatus.RETIRED)
        .prefetch_related("targets__campaign")
    )
    resolver = PriorityResolver()
    engine_paths = [to_engine(p, resolver.path_priority(p)) for p in paths]
    report = checks.evaluate(engine_paths, sources, rules.load())
    report.sources = {**described, "vpn_connections": [c.to_json() for c in sources.vpn]}
    data = report.to_json()
    with transaction.atomic():
        review = Review.objects.create(
            organisation=organisation,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            score=report.score,
            band=report.band,
            paths_count=len(report.paths),
            blocking_count=sum(1 for p in report.paths if p.blocked),
            undeclared_count=len(report.undeclared),
            sources=described,
            result=data,
        )
        audit.record(
            user,
            "remote_access.review",
            review,
            organisation,
            f"revue des accès distants : note {report.score}, {len(report.paths)} accès",
        )
        review_evidence(user, review)
    return review


def items_for(review: Review) -> list[str]:
    """The D3 items a review speaks to (by the populations of its paths)."""
    mapping = rules.load().items_by_population
    return sorted(
        {
            mapping[p["population"]]
            for p in review.result.get("paths", [])
            if p["population"] in mapping
        }
    )


def review_evidence(user, review: Review):
    """A review → evidence ``remote_access_review`` of the D3 items its paths belong to."""
    if review.evidence_id:
        return review.evidence
    items = items_for(review)
    if not items:
        return None
    result = review.result
    evidence = compliance.create_evidence(
        user,
        review.organisation,
        "remote_access_review",
        _("Revue des accès distants du %(date)s")
        % {"date": timezone.localtime(review.created_at).strftime("%d/%m/%Y")},
        compliance.RevisionInput(
            effective_date=compliance.today_in_paris(),
            attributes={
                "score": review.score,
                "band": review.band,
                "paths": review.paths_count,
                "blocking": review.blocking_count,
                "undeclared": review.undeclared_count,
                "rules_version": result.get("rules_version"),
                "sources": review.sources,
                "review_id": review.pk,
            },
            comment="Produit par careops (contrôles A1–A14 des accès distants).",
        ),
        item_codes=items,
        source="remote_access",
    )
    Review.objects.filter(pk=review.pk).update(evidence=evidence)
    review.evidence = evidence
    return evidence


def trend(organisation: Organisation, user, limit: int = 12) -> list[Review]:
    """The organisation's reviews, oldest first (for the trend between reviews)."""
    reviews = scope.restrict(Review.objects.filter(organisation=organisation), user)
    return list(reversed(list(reviews.order_by("-created_at", "-pk")[:limit])))


def compare(previous: Review | None, current: Review) -> list[dict]:
    """Per path: score before and after, and checks that changed status."""
    before = {p["ref"]: p for p in (previous.result.get("paths", []) if previous else [])}
    rows = []
    for path in current.result.get("paths", []):
        old = before.get(path["ref"])
        changed = []
        if old:
            old_checks = {c["code"]: c["status"] for c in old["checks"]}
            changed = [
                f"{c['code']} {old_checks.get(c['code'])} → {c['status']}"
                for c in path["checks"]
                if old_checks.get(c["code"]) != c["status"]
            ]
        rows.append(
            {
                "ref": path["ref"],
                "name": path["name"],
                "before": old["score"] if old else None,
                "after": path["score"],
                "changed": changed,
            }
        )
    return rows


# ---------------------------------------------------------------- vendors' attestations


def submit_attestation(
    user,
    path: AccessPath,
    contract_security_clauses: bool,
    workstation_requirements: bool,
    technicians: str,
    comment: str = "",
) -> Attestation:
    """A vendor attests one of their own paths."""
    allowed = scope.restrict(AccessPath.objects.filter(pk=path.pk), user, "vendor_attest").filter(
        vendor_users=user
    )
    if not allowed.exists():
        raise PermissionDenied(_("Vous ne pouvez attester que vos propres accès."))
    names = [line.strip() for line in technicians.splitlines() if line.strip()]
    if not names:
        raise ValidationError({"technicians": [_("Nommez au moins un technicien.")]})
    with transaction.atomic():
        attestation = Attestation.objects.create(
            path=path,
            submitted_by=user,
            contract_security_clauses=contract_security_clauses,
            workstation_requirements=workstation_requirements,
            technicians="\n".join(names),
            comment=comment,
        )
        audit.record(
            user,
            "remote_access.attest",
            attestation,
            path.organisation,
            f"attestation déposée pour {path.ref}",
        )
    return attestation


def decide_attestation(
    user, attestation: Attestation, accept: bool, comment: str = ""
) -> Attestation:
    """The RSSI accepts (the path takes the attested facts, evidence for D3.O1) or rejects."""
    if not scope.can(user, "manage", attestation.path.organisation):
        raise PermissionDenied(_("Seul le RSSI peut accepter ou refuser une attestation."))
    if attestation.status != choices.AttestationStatus.PENDING:
        raise ValidationError({"status": [_("Cette attestation a déjà été traitée.")]})
    if not accept and not comment.strip():
        raise ValidationError({"decision_comment": [_("Indiquez le motif du refus.")]})
    path = attestation.path
    with transaction.atomic():
        attestation.status = (
            choices.AttestationStatus.ACCEPTED if accept else choices.AttestationStatus.REJECTED
        )
        attestation.decided_by = user
        attestation.decided_at = timezone.now()
        attestation.decision_comment = comment
        if accept:
            path.contract_security_clauses = attestation.contract_security_clauses
            path.workstation_requirements = attestation.workstation_requirements
            path.save(
                update_fields=[
                    "contract_security_clauses",
                    "workstation_requirements",
                    "updated_at",
                ]
            )
            item = rules.load().items_by_population.get(path.population, "D3.O1")
            attestation.evidence = compliance.create_evidence(
                user,
                path.organisation,
                "vendor_attestation",
                _("Attestation fournisseur — %(ref)s %(vendor)s")
                % {"ref": path.ref, "vendor": path.vendor},
                compliance.RevisionInput(
                    effective_date=compliance.today_in_paris(),
                    attributes={
                        "path": path.ref,
                        "vendor": path.vendor,
                        "contract_security_clauses": attestation.contract_security_clauses,
                        "workstation_requirements": attestation.workstation_requirements,
                        "technicians": attestation.technicians.splitlines(),
                    },
                    comment=comment,
                ),
                item_codes=[item],
                source="remote_access",
            )
        attestation.save()
        audit.record(
            user,
            "remote_access.attestation_decision",
            attestation,
            path.organisation,
            f"attestation {path.ref} {'acceptée' if accept else 'refusée'}",
        )
    return attestation
