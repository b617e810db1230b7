"""HospiConnect services: measurements from exports, the RPPS directory, MIE, account reviews.

Every write goes through here; views and the API only call these functions."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.compliance import services as compliance
from careops.core import audit, storage
from careops.core.logs import without_quoted_values
from careops.hospiconnect.engine import indicators as engine
from careops.hospiconnect.engine.tables import TableError
from careops.hospiconnect.models import (
    AccountReview,
    ColumnMapping,
    Decision,
    IdentificationMeans,
    IndicatorImport,
    ReviewLine,
    ReviewStatus,
    RppsDirectoryImport,
    RppsEntry,
    RunStatus,
    Source,
)
from careops.tenancy import scope

logger = logging.getLogger("careops.hospiconnect")
COLUMN_SOURCES = (Source.DPI, Source.MFA, Source.DMP)  # exports whose columns are mapped
FAILING_KEPT = 5000  # accounts listed per indicator in a stored result (all are counted)
ALLOWED_EXTENSIONS = {"csv", "txt", "xlsx", "gz", "json"}


PENDING_PREFIX = f"{storage.TRANSIENT}/hospiconnect"


def pending_dir() -> Path:
    """Where the task copies the exports it reads (local scratch, emptied after each run)."""
    folder = Path(settings.DATA_DIR) / "hospiconnect" / "pending"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def pending_objects() -> list[str]:
    """Names of uploaded exports still waiting in the shared store (none once tasks ran)."""
    return [
        name for name in storage.current().iter_names() if name.startswith(PENDING_PREFIX + "/")
    ]


def remembered_mapping(organisation, source: str) -> dict:
    found = ColumnMapping.objects.filter(organisation=organisation, source=source).first()
    return dict(found.mapping) if found else {}


def _store_upload(upload) -> dict:
    """Keep an uploaded export in the shared store (the evidence store: a local folder, or S3
    when several web nodes and workers run on different machines) until the task has read it."""
    name = Path(upload.name or "").name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            _("« %(name)s » : export CSV ou XLSX attendu.") % {"name": name or "?"}
        )
    if upload.size and upload.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _(
                "« %(name)s » dépasse la taille maximale autorisée ; utilisez la ligne de commande "
                "careops hospiconnect indicators pour les très gros exports."
            )
            % {"name": name}
        )
    # read back under its own (cleaned) name, so problems name the user's file
    safe = re.sub(r"[^\w.\- ]", "_", name).strip(". ")[:100] or f"export.{extension}"
    try:
        stored = storage.current().save(f"{PENDING_PREFIX}/{uuid.uuid4().hex}/x", upload)
    except storage.StorageError as exc:
        logger.error("hospiconnect: export %s not kept: %s", name, exc)
        raise ValidationError(
            _("« %(name)s » n'a pas pu être conservé pour le calcul (stockage indisponible).")
            % {"name": name}
        ) from exc
    return {"name": name, "object": stored, "file": safe}


def _fetch_pending(files: dict, scratch: Path) -> dict[str, Path]:
    """Copy each pending export from the shared store to ``scratch`` (0600), checked against
    its SHA-256; an export that is gone (or comes from before the shared store) stays absent."""
    paths = {}
    store = storage.current()
    for source, stored in files.items():
        if "path" in stored:  # queued by a version that kept exports on the web node's disk
            paths[source] = Path(stored["path"])
            continue
        target = scratch / source / stored["file"]
        target.parent.mkdir(mode=0o700)
        try:
            with store.open(stored["object"]) as handle:
                descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as out:
                    shutil.copyfileobj(handle, out, 1024 * 1024)
        except (FileNotFoundError, storage.StorageError) as exc:
            logger.warning("hospiconnect: pending export %s unavailable: %s", stored["name"], exc)
            target.unlink(missing_ok=True)
        paths[source] = target
    return paths


def _drop_pending(files: dict) -> None:
    store = storage.current()
    for stored in files.values():
        if "object" in stored:
            try:
                store.delete(stored["object"])
            except (FileNotFoundError, storage.StorageError) as exc:
                logger.warning(
                    "hospiconnect: pending export %s not deleted: %s", stored["name"], exc
                )


def start_import(
    user,
    organisation,
    as_of: dt.date,
    uploads: dict,
    mappings: dict[str, dict],
    create_review: bool = False,
    review_automatic: bool = False,
) -> IndicatorImport:
    """Keep the uploaded exports, remember the column mappings, queue the computation."""
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(_("Vous ne pouvez pas importer de données pour cette organisation."))
    if as_of > compliance.today_in_paris():
        raise ValidationError(
            {"as_of": [_("La date de la mesure ne peut pas être postérieure à aujourd'hui.")]}
        )
    if not uploads.get(Source.DPI):
        raise ValidationError({"dpi": [_("L'export des utilisateurs du DPI est obligatoire.")]})
    files = {}
    try:
        for source, upload in uploads.items():
            if upload:
                files[source] = _store_upload(upload)
    except ValidationError:
        _drop_pending(files)
        raise
    with transaction.atomic():
        for source, mapping in mappings.items():
            clean = {key: value for key, value in mapping.items() if value}
            ColumnMapping.objects.update_or_create(
                organisation=organisation, source=source, defaults={"mapping": clean}
            )
        run = IndicatorImport.objects.create(
            organisation=organisation,
            as_of=as_of,
            files=files,
            create_review=create_review,
            review_automatic=review_automatic,
            created_by=user,
        )
        audit.record(
            user,
            "hospiconnect.import",
            run,
            organisation,
            f"mesure HospiConnect au {as_of:%d/%m/%Y} : {', '.join(f['name'] for f in files.values())}",
        )
    from careops.hospiconnect.tasks import run_import_task

    transaction.on_commit(lambda: run_import_task(run.pk))
    return run


def _directory_lookup():
    if not RppsEntry.objects.exists():
        return None

    def lookup(wanted: set[str]) -> dict[str, tuple[str, str]]:
        found = {}
        numbers = sorted(wanted)
        for start in range(0, len(numbers), 900):
            for rpps, code, label in RppsEntry.objects.filter(
                rpps__in=numbers[start : start + 900]
            ).values_list("rpps", "profession_code", "profession_label"):
                found[rpps] = (code, label)
        return found

    return lookup


def _progress(run: IndicatorImport, value: int, label: str) -> None:
    IndicatorImport.objects.filter(pk=run.pk).update(progress=value, progress_label=label)


def run_import(import_id: int) -> IndicatorImport:
    """Compute the indicators of a queued import, file their evidence, open the review.
    Idempotent: a finished import is left as it is; the exports are always deleted."""
    run = IndicatorImport.objects.select_related("organisation", "created_by").get(pk=import_id)
    if run.status in (RunStatus.DONE, RunStatus.FAILED):
        return run
    run.status, run.started_at = RunStatus.RUNNING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    scratch = Path(tempfile.mkdtemp(prefix=f"import{run.pk}-", dir=pending_dir()))
    paths = _fetch_pending(run.files, scratch)
    try:
        missing = [run.files[s]["name"] for s, p in paths.items() if not p.exists()]
        if missing:
            raise TableError(
                _("export(s) introuvable(s) sur le serveur : %(names)s ; importez-les à nouveau.")
                % {"names": ", ".join(missing)}
            )
        _progress(run, 10, _("lecture des exports"))
        mappings = {
            source: remembered_mapping(run.organisation, source) for source in COLUMN_SOURCES
        }
        report = engine.compute(
            paths[Source.DPI],
            mfa=paths.get(Source.MFA),
            ad=paths.get(Source.AD),
            dmp=paths.get(Source.DMP),
            rpps_directory=_directory_lookup(),
            as_of=run.as_of,
            mappings=mappings,
        )
        _progress(run, 80, _("enregistrement des résultats"))
        result = report.as_json()
        for indicator in result["indicators"]:
            indicator["failing"] = indicator["failing"][:FAILING_KEPT]
        with transaction.atomic():
            run.result = result
            if not report.blocking:
                run.evidence_ids = _file_evidence(run, report)
                if run.create_review:
                    _open_review(run, report)
            run.status, run.progress, run.progress_label = RunStatus.DONE, 100, ""
            run.finished_at = timezone.now()
            run.save()
    except TableError as exc:
        logger.warning("hospiconnect import %s refused: %s", run.pk, without_quoted_values(exc))
        run.status, run.error, run.finished_at = RunStatus.FAILED, str(exc), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
    finally:
        for path in paths.values():  # exports of an earlier version, on this node's disk
            if path.parent.parent != scratch:
                path.unlink(missing_ok=True)
                if path.parent != pending_dir() and path.parent.is_dir():
                    path.parent.rmdir()
        shutil.rmtree(scratch, ignore_errors=True)
        _drop_pending(run.files)
        run.files = {s: {"name": f["name"]} for s, f in run.files.items()}  # names kept, no data
        IndicatorImport.objects.filter(pk=run.pk).update(files=run.files)
    return run


def _file_evidence(run: IndicatorImport, report) -> list[int]:
    made = []
    for entry in report.evidence:
        evidence = compliance.create_evidence(
            run.created_by,
            run.organisation,
            entry["kind"],
            entry["title"],
            compliance.RevisionInput(
                effective_date=run.as_of,
                attributes=entry["attributes"],
                comment=_(
                    "Mesuré par careops à partir des exports de l'établissement (mesure n° %(n)s)."
                )
                % {"n": run.pk},
            ),
            item_codes=entry["objectives"],
            source="hospiconnect",
        )
        made.append(evidence.pk)
    return made


def _open_review(run: IndicatorImport, report) -> AccountReview:
    review = AccountReview.objects.create(
        organisation=run.organisation,
        year=run.as_of.year,
        source=run,
        automatic=run.review_automatic,
    )
    table = engine.professions()
    ReviewLine.objects.bulk_create(
        [
            ReviewLine(
                review=review,
                account=user.account,
                name=user.name,
                profession=table[user.profession]["label"]
                if user.profession
                else user.profession_raw,
                active=user.active,
            )
            for user in report.users
        ],
        batch_size=2000,
    )
    return review


# An extraction with fewer than this share of the people already in the directory is taken for
# a truncated or wrong file (an interrupted download, a regional extract) and refused unless forced.
RPPS_SHRINK_GUARD = 0.5


def import_rpps_directory(path: Path, progress=None, force: bool = False) -> RppsDirectoryImport:
    """Replace the platform's RPPS directory with an Annuaire Santé extraction (streamed).

    An extraction that would shrink the directory below half of its size (or empty it) is
    refused, the directory untouched, unless ``force``."""
    seen: dict[str, tuple[str, str]] = {}
    lines = 0
    for rpps, code, label in engine.iter_extract(path, progress=progress):
        lines += 1
        seen.setdefault(rpps, (code, label[:120]))
    current = RppsEntry.objects.count()
    if not force and (not seen or len(seen) < current * RPPS_SHRINK_GUARD):
        message = _(
            "L'extraction %(file)s compte %(new)s professionnels contre %(old)s dans l'annuaire"
            " actuel : elle semble tronquée ou incomplète. L'annuaire n'a pas été modifié"
            " (--force pour la charger quand même)."
        ) % {"file": Path(path).name, "new": len(seen), "old": current}
        logger.warning(
            "rpps import refused: %s people in %s, %s in the directory",
            len(seen),
            Path(path).name,
            current,
        )
        raise ValidationError(message)
    with transaction.atomic():
        RppsEntry.objects.all().delete()
        batch = []
        for rpps, (code, label) in seen.items():
            batch.append(RppsEntry(rpps=rpps, profession_code=code[:10], profession_label=label))
            if len(batch) == 5000:
                RppsEntry.objects.bulk_create(batch)
                batch = []
        RppsEntry.objects.bulk_create(batch)
        done = RppsDirectoryImport.objects.create(
            file_name=Path(path).name, lines=lines, people=len(seen)
        )
        audit.record(
            None,
            "hospiconnect.rpps_directory",
            done,
            None,
            f"annuaire RPPS importé : {len(seen)} professionnels ({Path(path).name})",
        )
    return done


def add_means(user, organisation, **fields) -> IdentificationMeans:
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette organisation."))
    issued = fields.get("issued_on")
    if issued and issued > compliance.today_in_paris():
        raise ValidationError(
            {"issued_on": [_("La date de remise ne peut pas être dans le futur.")]}
        )
    serial = (fields.get("serial") or "").strip()
    if (
        serial
        and IdentificationMeans.objects.filter(
            organisation=organisation, kind=fields.get("kind"), serial=serial, revoked_on=None
        ).exists()
    ):
        raise ValidationError(
            {"serial": [_("Un moyen de ce type portant ce numéro de série est déjà en service.")]}
        )
    means = IdentificationMeans(organisation=organisation, **fields)
    means.full_clean()
    means.save()
    audit.record(
        user,
        "hospiconnect.means.add",
        means,
        organisation,
        f"{means.get_kind_display()} remis à {means.holder_account}",
    )
    return means


def revoke_means(user, means: IdentificationMeans, on: dt.date) -> None:
    if not scope.can(user, "change", means):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette organisation."))
    if means.revoked_on:
        raise ValidationError(
            _("Ce moyen est déjà révoqué depuis le %(date)s.")
            % {"date": f"{means.revoked_on:%d/%m/%Y}"}
        )
    means.revoked_on = on
    means.save(update_fields=["revoked_on"])
    audit.record(
        user,
        "hospiconnect.means.revoke",
        means,
        means.organisation,
        f"{means.get_kind_display()} de {means.holder_account} révoqué le {on:%d/%m/%Y}",
    )


def decide(
    user, review: AccountReview, line_ids: list[int], decision: str, comment: str = ""
) -> int:
    """Confirm or revoke accounts of an open review; the deciding user is the named manager."""
    if not scope.can(user, "change", review):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette revue."))
    if review.status != ReviewStatus.OPEN:
        raise ValidationError(_("Cette revue est terminée."))
    if decision not in (Decision.CONFIRMED, Decision.REVOKED):
        raise ValidationError(_("Décision inconnue."))
    if decision == Decision.REVOKED and not comment.strip():
        raise ValidationError(_("Indiquez le motif de la révocation."))
    count = review.lines.filter(pk__in=line_ids).update(
        decision=decision, decided_by=user, decided_at=timezone.now(), comment=comment.strip()[:300]
    )
    audit.record(
        user,
        "hospiconnect.review.decide",
        review,
        review.organisation,
        f"revue {review.year} : {count} compte(s) {Decision(decision).label}",
    )
    return count


def confirm_remaining(user, review: AccountReview) -> int:
    pending = list(review.lines.filter(decision=Decision.PENDING).values_list("pk", flat=True))
    return decide(user, review, pending, Decision.CONFIRMED) if pending else 0


def complete_review(user, review: AccountReview):
    """Close a review whose every account was decided; file it as the access-review evidence."""
    if not scope.can(user, "change", review):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette revue."))
    pending = review.lines.filter(decision=Decision.PENDING).count()
    if pending:
        raise ValidationError(
            _("%(n)s compte(s) restent à revoir avant de clore la revue.") % {"n": pending}
        )
    revoked = review.lines.filter(decision=Decision.REVOKED).count()
    total = review.lines.count()
    today = compliance.today_in_paris()
    with transaction.atomic():
        evidence = compliance.create_evidence(
            user,
            review.organisation,
            "access_review",
            _("Revue des comptes et des droits du DPI %(year)s") % {"year": review.year},
            compliance.RevisionInput(
                effective_date=today,
                attributes={
                    "automatic_review": review.automatic,
                    "accounts": total,
                    "revoked": revoked,
                    "review_id": review.pk,
                },
                comment=_(
                    "Revue menée dans careops : chaque compte confirmé ou révoqué par un responsable nommé."
                ),
            ),
            source="hospiconnect",
        )
        review.status, review.completed_at, review.evidence_id = (
            ReviewStatus.DONE,
            timezone.now(),
            evidence.pk,
        )
        review.save(update_fields=["status", "completed_at", "evidence_id"])
        audit.record(
            user,
            "hospiconnect.review.complete",
            review,
            review.organisation,
            f"revue {review.year} close : {total} comptes, {revoked} révoqué(s)",
        )
    return evidence
