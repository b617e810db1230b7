"""Awareness: training campaigns, attendance imports, headcounts, shares, phishing exercises.

Every write goes through here (views only call these functions); every read a user reaches goes
through ``scope.restrict``. Imports are all or nothing: the whole file is read and checked before
anything is written. The uploaded files are read from a private temporary folder and never kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from careops import archives
from careops.awareness.engine import phishing as phishing_engine
from careops.awareness.engine import training as engine
from careops.awareness.models import (
    Attendance,
    CampaignStatus,
    PhishingCampaign,
    StaffHeadcount,
    TrainingCampaign,
    TrainingSession,
)
from careops.compliance import services as compliance
from careops.core import audit, spreadsheet
from careops.core.logs import without_quoted_values
from careops.tenancy import scope
from careops.tenancy.models import Organisation

logger = logging.getLogger("careops.awareness")

# Which programme items each kind of evidence serves (AAP MS « sensibiliser les professionnels »;
# the criteria reading these kinds are in careops/catalogue/referential/aapms-v0.1.yaml).
EVIDENCE_ITEMS = {"awareness_training": ["AAPMS.O3"], "phishing_exercise": ["AAPMS.O3"]}
TABLE_EXTENSIONS = {"csv", "txt", "xlsx"}
MAX_UPLOAD = 10 * 1024 * 1024
XLSX_LIMITS = archives.Limits(max_total=100 * 1024 * 1024, max_ratio=200, max_files=1000)
DEFAULT_MONTHS = 12
BATCH = 500  # rows per statement when an import replaces many


# --- uploads -----------------------------------------------------------------------------------


def _checked_upload(upload, extensions=TABLE_EXTENSIONS) -> tuple[str, bytes]:
    """The user's file name and content, or a French ValidationError (type, size, content)."""
    name = Path(upload.name or "").name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in extensions:
        raise ValidationError(
            _("« %(name)s » : fichier %(types)s attendu.")
            % {"name": name or "?", "types": ", ".join(sorted(extensions)).upper()}
        )
    limit = min(MAX_UPLOAD, settings.UPLOAD_MAX_BYTES)
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("« %(name)s » dépasse la taille maximale de %(mib)s Mio.")
            % {"name": name, "mib": limit // (1024 * 1024)}
        )
    data = b"".join(upload.chunks())
    if not data:
        raise ValidationError(_("« %(name)s » est vide.") % {"name": name})
    if len(data) > limit:
        raise ValidationError(_("« %(name)s » dépasse la taille maximale.") % {"name": name})
    if extension == "xlsx":
        try:
            archives.check_zip(io.BytesIO(data), XLSX_LIMITS, name)
        except archives.ArchiveError as exc:
            raise ValidationError(str(exc)) from exc
    elif b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # the whole file: a NUL past the first 64 KiB reached PostgreSQL (a 500)
        raise ValidationError(_("« %(name)s » n'est pas un fichier texte.") % {"name": name})
    return name, data


def _read_with(data: bytes, name: str, reader):
    """Run ``reader(path)`` on a private temporary copy of the upload (removed afterwards)."""
    with archives.temporary_folder(prefix="careops-awareness-") as folder:
        suffix = Path(name).suffix.lower() or ".csv"
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        path.chmod(0o600)
        return reader(path)


def _refusal(exc: engine.TableError) -> ValidationError:
    problems = getattr(exc, "problems", None)
    if problems:
        head = str(exc).split("\n", 1)[0]
        return ValidationError([head, *[p.as_text() for p in problems]])
    return ValidationError(str(exc))


# --- structures ----------------------------------------------------------------------------------


class Structures:
    """The structures of a node's subtree, found by FINESS or by name (case, accents aside)."""

    def __init__(self, node: Organisation):
        self.node = node
        self.nodes = list(node.subtree())
        self.by_key: dict[str, Organisation] = {}
        for org in self.nodes:
            self.by_key.setdefault(engine.fold(org.name), org)
            if org.finess:
                self.by_key[org.finess] = org

    def find(self, text: str) -> Organisation | None:
        text = text.strip()
        return self.by_key.get(text.replace(" ", "")) or self.by_key.get(engine.fold(text))

    def names(self) -> str:
        return ", ".join(org.name for org in self.nodes[:12])


def _resolve(rows, structures: Structures, default: Organisation, shown: str) -> dict:
    """Organisation of each row's structure (the default when the row names none)."""
    found, problems = {}, []
    for row in rows:
        if not row.structure:
            found[row.line] = default
            continue
        org = structures.find(row.structure)
        if org is None:
            problems.append(
                _(
                    "%(file)s, ligne %(line)s : structure inconnue « %(name)s » (structures : %(known)s)"
                )
                % {
                    "file": shown,
                    "line": row.line,
                    "name": row.structure,
                    "known": structures.names(),
                }
            )
        found[row.line] = org
    if problems:
        raise ValidationError(
            [_("%(file)s : fichier refusé, rien n'est importé.") % {"file": shown}, *problems[:20]]
        )
    return found


# --- training campaigns --------------------------------------------------------------------------


def create_campaign(user, organisation: Organisation, **fields) -> TrainingCampaign:
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(_("Vous ne pouvez pas créer de campagne pour cette organisation."))
    if fields["ends_on"] < fields["starts_on"]:
        raise ValidationError({"ends_on": [_("La fin précède le début.")]})
    campaign = TrainingCampaign.objects.create(organisation=organisation, created_by=user, **fields)
    audit.record(
        user,
        "awareness.campaign.create",
        campaign,
        organisation,
        f"campagne de formation « {campaign.title} » créée",
    )
    return campaign


def _check_open(user, campaign: TrainingCampaign) -> None:
    if not scope.can(user, "change", campaign):
        raise PermissionDenied(_("Vous ne pouvez pas modifier cette campagne."))
    if campaign.status != CampaignStatus.OPEN:
        raise ValidationError(_("Cette campagne est clôturée : créez-en une nouvelle."))


def add_session(user, campaign: TrainingCampaign, **fields) -> TrainingSession:
    _check_open(user, campaign)
    if fields["date"] > compliance.today_in_paris() + dt.timedelta(days=366):
        raise ValidationError({"date": [_("La séance est à plus d'un an.")]})
    session = TrainingSession.objects.create(campaign=campaign, **fields)
    audit.record(
        user,
        "awareness.session.create",
        session,
        campaign.organisation,
        f"séance du {session.date:%d/%m/%Y} ajoutée à « {campaign.title} »",
    )
    return session


def import_attendance(
    user, session: TrainingSession, upload, default_structure: Organisation | None = None
) -> dict:
    """Replace the session's attendance with a sign-in sheet or LMS export; all or nothing."""
    campaign = session.campaign
    _check_open(user, campaign)
    default = default_structure or campaign.organisation
    if not default.path.startswith(campaign.organisation.path):
        raise ValidationError(_("La structure par défaut n'appartient pas à la campagne."))
    name, data = _checked_upload(upload)
    today = compliance.today_in_paris()
    try:
        sheet = _read_with(
            data,
            name,
            lambda path: engine.read_sheet(path, session.date, today=today, file_name=name),
        )
    except engine.TableError as exc:
        logger.warning(
            "attendance import refused for session %s: %s", session.pk, without_quoted_values(exc)
        )
        raise _refusal(exc) from exc
    orgs = _resolve(sheet.rows, Structures(campaign.organisation), default, name)
    with transaction.atomic():
        session.attendances.all().delete()
        Attendance.objects.bulk_create(
            Attendance(
                session=session,
                structure=orgs[row.line],
                line=row.line,
                last_name=row.last_name[:150],
                first_name=row.first_name[:150],
                email=row.email[:254],
                profession=row.profession[:150],
                date=row.date,
                present=row.present,
            )
            for row in sheet.rows
        )
        session.source_name, session.imported_at = name[:200], timezone.now()
        session.save(update_fields=["source_name", "imported_at"])
        audit.record(
            user,
            "awareness.attendance.import",
            session,
            campaign.organisation,
            f"émargement « {name} » importé pour la séance du {session.date:%d/%m/%Y} : "
            f"{len(sheet.rows)} ligne(s), {len(sheet.people)} personne(s)",
        )
    outside = sum(1 for r in sheet.rows if not campaign.starts_on <= r.date <= campaign.ends_on)
    return sheet.as_json() | {"outside": outside}


def save_headcount(user, organisation: Organisation, profession: str, headcount: int):
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(
            _("Vous ne pouvez pas modifier les effectifs de cette organisation.")
        )
    profession = " ".join(profession.split())
    if not profession:
        raise ValidationError({"profession": [_("La profession est obligatoire.")]})
    existing = next(
        (
            h
            for h in StaffHeadcount.objects.filter(organisation=organisation)
            if engine.profession_key(h.profession) == engine.profession_key(profession)
        ),
        None,
    )
    if existing is None:
        existing = StaffHeadcount(organisation=organisation, profession=profession)
    existing.headcount, existing.updated_by = headcount, user
    existing.save()
    audit.record(
        user,
        "awareness.headcount.update",
        existing,
        organisation,
        f"effectif « {existing.profession} » : {headcount}",
    )
    return existing


def import_headcounts(user, node: Organisation, upload) -> int:
    """Structure (optional: the node), profession, headcount; all or nothing; returns rows."""
    if not scope.can(user, "change", node):
        raise PermissionDenied(
            _("Vous ne pouvez pas modifier les effectifs de cette organisation.")
        )
    name, data = _checked_upload(upload)
    try:
        rows = _read_with(data, name, lambda path: engine.read_headcount(path, file_name=name))
    except engine.TableError as exc:
        raise _refusal(exc) from exc
    orgs = _resolve(rows, Structures(node), node, name)
    refused = [org.name for org in set(orgs.values()) if not scope.can(user, "change", org)]
    if refused:
        raise PermissionDenied(_("Effectifs hors de votre périmètre : %s") % ", ".join(refused))
    # One row per structure and profession (the last of the file when a structure is named
    # twice, by FINESS and by name); the headcounts they replace are read once (each row read
    # every headcount of its structure again: 2,000 rows took 40 s, a 10 MB file days).
    latest = {(orgs[row.line].pk, engine.profession_key(row.profession)): row for row in rows}
    replaced = [
        other.pk
        for other in StaffHeadcount.objects.filter(organisation__in=set(orgs.values()))
        if (other.organisation_id, engine.profession_key(other.profession)) in latest
    ]
    with transaction.atomic():
        for start in range(0, len(replaced), BATCH):
            StaffHeadcount.objects.filter(pk__in=replaced[start : start + BATCH]).delete()
        StaffHeadcount.objects.bulk_create(
            (
                StaffHeadcount(
                    organisation_id=org_pk,
                    profession=row.profession,
                    headcount=row.count,
                    updated_by=user,
                )
                for (org_pk, _key), row in latest.items()
            ),
            batch_size=BATCH,
        )
        audit.record(
            user,
            "awareness.headcount.import",
            None,
            node,
            f"effectifs « {name} » importés : {len(rows)} ligne(s)",
        )
    return len(rows)


# --- shares --------------------------------------------------------------------------------------


ATTENDANCE_COLUMNS = (
    "pk",
    "last_name",
    "first_name",
    "email",
    "profession",
    "structure_id",
    "date",
    "present",
)


def _people(rows) -> list[engine.Person]:
    """People after deduplication, from attendance rows (``ATTENDANCE_COLUMNS`` tuples)."""
    people, _merged = engine.dedupe(
        [
            engine.Attendance(pk, last, first, email, profession, str(structure), date, present)
            for pk, last, first, email, profession, structure, date, present in rows
        ]
    )
    return people


def _report(attendances, headcounts, start, end, professions: list[str] | None = None):
    """Shares from a queryset of attendances: tuples of the needed columns, not model objects
    (tens of thousands of sign-in lines feed a cockpit card)."""
    labels = {}
    counts = []
    wanted = {engine.profession_key(p) for p in professions or [] if p.strip()}
    for h in headcounts.select_related("organisation"):
        if wanted and engine.profession_key(h.profession) not in wanted:
            continue
        labels[str(h.organisation_id)] = h.organisation.name
        counts.append(engine.Headcount(str(h.organisation_id), h.profession, h.headcount))
    rows = list(attendances.values_list(*ATTENDANCE_COLUMNS))
    unnamed = {row[5] for row in rows} - {int(key) for key in labels}
    if unnamed:
        labels.update(
            (str(pk), name)
            for pk, name in Organisation.objects.filter(pk__in=unnamed).values_list("pk", "name")
        )
    people = _people(rows)
    if wanted:
        people = [p for p in people if engine.profession_key(p.profession) in wanted]
    return engine.shares(people, counts, start, end, labels)


def report(user, node: Organisation, end: dt.date, months: int = DEFAULT_MONTHS) -> engine.Report:
    """Share of staff trained over ``months`` months ending ``end`` in the node's subtree, per
    structure and profession; the total is the node's roll-up (a GHT over its hospitals)."""
    return report_over(user, [node], end, months)


def report_over(user, nodes, end: dt.date, months: int = DEFAULT_MONTHS) -> engine.Report:
    """The same over the subtrees of several nodes (the members of a pool), counted together;
    only what the user may see is read."""
    start = engine.period_ending(end, months)
    where = Q(pk__in=[])
    for node in nodes:
        where |= Q(path__startswith=node.path)
    structures = Organisation.objects.filter(where).values("pk")
    attendances = scope.restrict(Attendance.objects.all(), user).filter(
        structure__in=structures, date__gte=start, date__lte=end
    )
    headcounts = scope.restrict(StaffHeadcount.objects.all(), user).filter(
        organisation__in=structures
    )
    return _report(attendances, headcounts, start, end)


def figures_by_structure(user, organisations, end: dt.date | None = None) -> dict[int, dict]:
    """Per organisation (its subtree): the share of staff trained over the last 12 months and
    the last phishing exercise (None when the user sees none), for a dashboard of several
    structures (the members of a pool). Only what the user may see is read."""
    end = end or compliance.today_in_paris()
    found: dict[int, dict] = {}
    for org in organisations:
        total = report(user, org, end).total
        last = (
            scope.restrict(PhishingCampaign.objects.all(), user)
            .filter(organisation__path__startswith=org.path)
            .order_by("-started_on", "-pk")
            .first()
        )
        found[org.pk] = {"training": total if total.headcount else None, "phishing": last}
    return found


def campaign_report(user, campaign: TrainingCampaign) -> engine.Report:
    """The campaign's own share: its attendance over the headcount of its audience."""
    attendances = scope.restrict(Attendance.objects.all(), user).filter(session__campaign=campaign)
    headcounts = scope.restrict(StaffHeadcount.objects.all(), user).filter(
        organisation__path__startswith=campaign.organisation.path
    )
    professions = [p for p in campaign.audience_professions.split(",") if p.strip()]
    return _report(attendances, headcounts, campaign.starts_on, campaign.ends_on, professions)


def campaign_figures(user, campaign: TrainingCampaign) -> tuple[engine.Report, bool]:
    """The share a campaign shows everywhere (its page, the API list and detail), and whether it
    is frozen: a closed campaign shows what was frozen at closing (the figures filed as
    evidence, whatever the headcounts became since), an open one its live share. Of the frozen
    structures, only those the user may see are listed (the total is the campaign's own)."""
    if campaign.status != CampaignStatus.CLOSED or not (campaign.result or {}).get("total"):
        return campaign_report(user, campaign), False
    frozen = engine.Report.from_json(campaign.result)
    visible = scope.restrict(Organisation.objects.all(), user).filter(
        path__startswith=campaign.organisation.path
    )
    keys = {str(pk) for pk in visible.values_list("pk", flat=True)}
    names = {engine.fold(name) for name in visible.values_list("name", flat=True)}
    frozen.structures = [
        s for s in frozen.structures if (s.key in keys if s.key else engine.fold(s.label) in names)
    ]
    return frozen, True


def close_campaign(user, campaign: TrainingCampaign):
    """Close: the campaign's share is frozen and filed as awareness evidence (AAP MS)."""
    _check_open(user, campaign)
    result = campaign_report(user, campaign)
    if not result.total.trained:
        raise ValidationError(
            _("Aucune personne formée : importez un émargement avant de clôturer.")
        )
    if not result.total.headcount:
        raise ValidationError(
            _(
                "Aucun effectif pour le public de la campagne : saisissez les effectifs avant de clôturer."
            )
        )
    effective = min(campaign.ends_on, compliance.today_in_paris())
    data = result.as_json()
    with transaction.atomic():
        evidence = compliance.create_evidence(
            user,
            campaign.organisation,
            "awareness_training",
            _("Campagne de formation « %(title)s » : %(share)s du personnel formé")
            % {"title": campaign.title, "share": engine.percent(result.total.share)},
            compliance.RevisionInput(
                effective_date=effective,
                attributes={
                    "trained": result.total.trained,
                    "headcount": result.total.headcount,
                    "share": round(result.total.share or 0, 4),
                    "period_start": campaign.starts_on.isoformat(),
                    "period_end": campaign.ends_on.isoformat(),
                    "campaign_id": campaign.pk,
                    "sessions": campaign.sessions.count(),
                    "by_profession": {
                        p.label: f"{p.trained}/{p.headcount}" for p in result.professions
                    },
                },
                comment=_("Campagne de formation menée et émargements importés dans careops."),
            ),
            item_codes=EVIDENCE_ITEMS["awareness_training"],
            source="awareness",
        )
        campaign.result, campaign.status = data, CampaignStatus.CLOSED
        campaign.closed_at, campaign.evidence_id = timezone.now(), evidence.pk
        campaign.save(update_fields=["result", "status", "closed_at", "evidence_id"])
        audit.record(
            user,
            "awareness.campaign.close",
            campaign,
            campaign.organisation,
            f"campagne de formation « {campaign.title} » clôturée : "
            f"{result.total.trained}/{result.total.headcount}",
        )
    return evidence


def report_rows(report_: engine.Report) -> list[list]:
    """The report as rows for CSV/XLSX (one per structure × profession, then the totals)."""
    period = f"{report_.start:%d/%m/%Y} – {report_.end:%d/%m/%Y}"
    rows = [
        [
            _("Période"),
            _("Structure"),
            _("Profession"),
            _("Personnes formées"),
            _("Effectif"),
            _("Part formée (%)"),
        ]
    ]

    def pct(share):
        return round(share.share * 100, 1) if share.share is not None else ""

    for structure in report_.structures:
        for p in structure.professions:
            rows.append([period, structure.label, p.label, p.trained, p.headcount, pct(p)])
        t = structure.total
        rows.append([period, structure.label, _("Toutes"), t.trained, t.headcount, pct(t)])
    for p in report_.professions:
        rows.append([period, _("Ensemble"), p.label, p.trained, p.headcount, pct(p)])
    t = report_.total
    rows.append([period, _("Ensemble"), _("Toutes"), t.trained, t.headcount, pct(t)])
    return rows


def export_csv(rows: list[list]) -> str:
    out = io.StringIO()
    writer = spreadsheet.csv_writer(out)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def export_xlsx(rows: list[list], title: str) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for row in rows:
        spreadsheet.append_row(sheet, row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- phishing ------------------------------------------------------------------------------------


def _previous_import(organisation, result, started, name: str, replace: bool):
    """The earlier import of the same campaign, or None for a new campaign.

    A GoPhish « Results » export has no campaign id, but each row carries the result id GoPhish
    drew for the target when the campaign was launched: the same campaign exported again has the
    same ids (``targets_fingerprint``) and the same first send date, whatever its file name.
    Without them (a file edited by
    hand, or a campaign imported before careops kept them), only the campaign name is left, and
    a name is not proof: the user must confirm (``replace``) — otherwise a French refusal."""
    earlier = PhishingCampaign.objects.filter(organisation=organisation)
    if result.targets_fingerprint:
        found = earlier.filter(
            targets_fingerprint=result.targets_fingerprint, started_on=started
        ).first()
        if found:
            return found, "targets"
    same_name = [
        c
        for c in earlier.filter(name__iexact=name)
        if not (c.targets_fingerprint and result.targets_fingerprint)
    ]
    if not same_name:
        return None, ""
    found = same_name[0]
    if not replace:
        raise ValidationError(
            _(
                "Une campagne « %(name)s » a déjà été importée le %(date)s et rien ne permet de "
                "dire si c'est la même (l'export ne porte pas les identifiants GoPhish des cibles, "
                "ou l'import précédent date d'avant leur lecture). Si c'est la même campagne "
                "exportée de nouveau, cochez « Remplacer la campagne de même nom » : ses taux "
                "seront remplacés, pas ajoutés ; sinon donnez-lui un autre nom. Rien n'a été importé."
            )
            % {
                "name": found.name,
                "date": timezone.localtime(found.imported_at).strftime("%d/%m/%Y"),
            }
        )
    return found, "name"


def import_phishing(
    user, organisation: Organisation, upload, name: str = "", replace: bool = False
) -> PhishingCampaign:
    """A GoPhish « Results » export → the campaign's counts and its evidence (never identities).

    The same campaign exported again later replaces its earlier import (counts, evidence as a
    new revision) instead of being counted twice; ``campaign.outcome`` says, in French, what
    happened. ``name``: the campaign's name (default: from the file name, as GoPhish writes it);
    ``replace``: the user confirms that a campaign of the same name is this one."""
    if not scope.can(user, "change", organisation):
        raise PermissionDenied(_("Vous ne pouvez pas importer d'exercice pour cette organisation."))
    file_name, data = _checked_upload(upload, {"csv"})
    digest = hashlib.sha256(data).hexdigest()
    already = PhishingCampaign.objects.filter(
        organisation=organisation, source_sha256=digest
    ).first()
    if already:
        raise ValidationError(
            _("« %(name)s » est déjà importé (campagne « %(campaign)s »).")
            % {"name": file_name, "campaign": already.name}
        )
    try:
        result = _read_with(
            data, file_name, lambda path: phishing_engine.read_results(path, file_name=file_name)
        )
    except engine.TableError as exc:
        logger.warning(
            "phishing import refused for organisation %s: %s",
            organisation.pk,
            without_quoted_values(exc),
        )
        raise ValidationError(str(exc)) from exc
    if result.nothing_delivered():
        logger.warning(
            "phishing import refused for organisation %s: %s: %s",
            organisation.pk,
            file_name,
            result.nothing_delivered(),
        )
        raise ValidationError(
            _(
                "« %(name)s » : %(why)s. Importez l'export une fois la campagne envoyée. Rien n'a été importé."
            )
            % {"name": file_name, "why": result.nothing_delivered()}
        )
    started = dt.date.fromisoformat(result.started) if result.started else None
    if started and started > compliance.today_in_paris():
        raise ValidationError(_("« %(name)s » : campagne datée du futur.") % {"name": file_name})
    name = " ".join((name or "").split())[:200] or result.name[:200]
    t = result.totals
    with transaction.atomic():
        previous, matched_by = _previous_import(organisation, result, started, name, replace)
        if previous and phishing_engine.is_older(result.last_change, previous.last_change):
            raise ValidationError(
                _(
                    "« %(file)s » est un export plus ancien de la campagne « %(name)s » (dernière "
                    "activité le %(then)s) que celui déjà importé (%(now)s) : il ne le remplace "
                    "pas. Rien n'a été importé."
                )
                % {
                    "file": file_name,
                    "name": previous.name,
                    "then": _day(result.last_change),
                    "now": _day(previous.last_change),
                }
            )
        campaign = previous or PhishingCampaign(organisation=organisation)
        earlier = (previous.imported_at, previous.delivered) if previous else None
        if previous is None or name != result.name[:200] or matched_by == "name":
            campaign.name = name
        campaign.started_on = started
        campaign.source_sha256 = digest
        campaign.targets_fingerprint = result.targets_fingerprint
        campaign.last_change = result.last_change
        for key in ("targets", "delivered", "opened", "clicked", "submitted", "reported"):
            setattr(campaign, key, getattr(t, key))
        campaign.by_position = {
            position: {
                k: getattr(r, k)
                for k in ("delivered", "opened", "clicked", "submitted", "reported")
            }
            for position, r in result.by_position.items()
        }
        campaign.unknown_statuses = result.unknown_statuses
        campaign.imported_by = user
        if previous:
            campaign.replaced_at = timezone.now()
            campaign.imports = previous.imports + 1
        campaign.save()
        if t.delivered:
            _file_phishing_evidence(user, campaign, started)
        audit.record(
            user,
            "awareness.phishing.reimport" if previous else "awareness.phishing.import",
            campaign,
            organisation,
            (
                f"exercice d'hameçonnage « {campaign.name} » importé de nouveau "
                f"({'mêmes cibles GoPhish' if matched_by == 'targets' else 'même nom, confirmé'}) : "
                f"{t.delivered} courriels reçus, l'import précédent est remplacé"
            )
            if previous
            else f"exercice d'hameçonnage « {campaign.name} » importé : {t.delivered} courriels reçus",
        )
    campaign.outcome = _phishing_outcome(campaign, earlier, matched_by)
    return campaign


def _day(sortable: str) -> str:
    """« 2026-03-17T10:00:40 » → « 17/03/2026 »."""
    return f"{sortable[8:10]}/{sortable[5:7]}/{sortable[:4]}" if len(sortable) >= 10 else sortable


def _phishing_outcome(campaign: PhishingCampaign, earlier, matched_by: str) -> str:
    rates = _("%(clicked)s de clic, %(reported)s de signalement") % {
        "clicked": engine.percent(campaign.rate("clicked")),
        "reported": engine.percent(campaign.rate("reported")),
    }
    if earlier is None:
        return _("Exercice « %(name)s » importé : %(rates)s.") % {
            "name": campaign.name,
            "rates": rates,
        }
    why = (
        _("mêmes cibles GoPhish")
        if matched_by == "targets"
        else _("même nom, remplacement confirmé")
    )
    return _(
        "Exercice « %(name)s » importé de nouveau (%(why)s) : il remplace l'import du %(date)s "
        "(%(before)s courriels reçus, maintenant %(after)s) et n'est compté qu'une fois ; %(rates)s."
    ) % {
        "name": campaign.name,
        "why": why,
        "date": timezone.localtime(earlier[0]).strftime("%d/%m/%Y"),
        "before": earlier[1],
        "after": campaign.delivered,
        "rates": rates,
    }


def _file_phishing_evidence(user, campaign: PhishingCampaign, started) -> None:
    """The exercise's evidence: a new one, or a new revision of the earlier import's."""
    from careops.compliance.models import Evidence

    data = compliance.RevisionInput(
        effective_date=started or compliance.today_in_paris(),
        attributes={
            "delivered": campaign.delivered,
            "opened_rate": round(campaign.rate("opened") or 0, 4),
            "clicked_rate": round(campaign.rate("clicked") or 0, 4),
            "submitted_rate": round(campaign.rate("submitted") or 0, 4),
            "reported_rate": round(campaign.rate("reported") or 0, 4),
            "campaign_id": campaign.pk,
        },
        comment=_("Export « Results » de GoPhish importé dans careops (taux seulement)."),
    )
    existing = (
        Evidence.objects.filter(pk=campaign.evidence_id, organisation=campaign.organisation).first()
        if campaign.evidence_id
        else None
    )
    if existing is not None:
        compliance.add_revision(user, existing, data)
        return
    evidence = compliance.create_evidence(
        user,
        campaign.organisation,
        "phishing_exercise",
        _("Exercice d'hameçonnage « %(name)s » : %(clicked)s de clic, %(reported)s de signalement")
        % {
            "name": campaign.name,
            "clicked": engine.percent(campaign.rate("clicked")),
            "reported": engine.percent(campaign.rate("reported")),
        },
        data,
        item_codes=EVIDENCE_ITEMS["phishing_exercise"],
        source="awareness",
    )
    campaign.evidence_id = evidence.pk
    campaign.save(update_fields=["evidence_id"])


def phishing_rows(campaigns) -> list[list]:
    rows = [
        [
            _("Organisation"),
            _("Campagne"),
            _("Envoyée le"),
            _("Cibles"),
            _("Courriels reçus"),
            _("Ouverture (%)"),
            _("Clic (%)"),
            _("Saisie (%)"),
            _("Signalement (%)"),
        ]
    ]
    for c in campaigns:
        rates = [c.rate(k) for k in ("opened", "clicked", "submitted", "reported")]
        rows.append(
            [
                c.organisation.name,
                c.name,
                c.started_on or "",  # a typed date in XLSX, dd/mm/yyyy in CSV
                c.targets,
                c.delivered,
                *[round(r * 100, 1) if r is not None else "" for r in rates],
            ]
        )
    return rows


# --- cockpit -------------------------------------------------------------------------------------


def cockpit_figures(user) -> dict | None:
    """The share of staff trained in the last 12 months over the user's scope, and the last
    phishing exercise's rates (None when there is nothing to show)."""
    today = compliance.today_in_paris()
    start = engine.period_ending(today, DEFAULT_MONTHS)
    headcounts = scope.restrict(StaffHeadcount.objects.all(), user)
    attendances = scope.restrict(Attendance.objects.all(), user).filter(
        date__gte=start, date__lte=today
    )
    last = (
        scope.restrict(PhishingCampaign.objects.all(), user)
        .select_related("organisation")
        .order_by("-started_on", "-pk")
        .first()
    )
    if not headcounts.exists() and last is None:
        return None
    figures: dict = {"phishing": last}
    if headcounts.exists():
        figures["training"] = _cached_total(user, attendances, headcounts, start, today)
        figures["start"], figures["end"] = start, today
    return figures


def _cached_total(user, attendances, headcounts, start, end):
    """The roll-up share of the cockpit card, kept in the cache while nothing it counts changes:
    the key holds the user's grants, the period and a signature of the rows (count and last id
    of attendances and headcounts, last headcount change), so an import, an edit or a deletion
    gives a new key. Tens of thousands of sign-in lines cost one computation, not one per page."""
    from django.core.cache import cache
    from django.db.models import Count, Max

    rows = attendances.order_by().aggregate(n=Count("pk"), last=Max("pk"))
    counts = headcounts.order_by().aggregate(n=Count("pk"), last=Max("pk"), at=Max("updated_at"))
    grants = sorted((g.role, g.path, g.include_subtree) for g in scope.grants(user))
    signature = repr((grants, start, end, rows, counts))
    key = "awareness-total:" + hashlib.sha256(signature.encode()).hexdigest()
    total = cache.get(key)
    if total is None:
        total = _report(attendances, headcounts, start, end).total
        cache.set(key, total, 6 * 3600)
    return total


def delete_phishing(user, campaign: PhishingCampaign) -> str:
    """Delete a phishing exercise (imported by mistake: wrong file, wrong organisation).

    Its evidence is kept, as careops keeps the evidence of every deleted item (its history is
    part of the file), but it receives a last revision saying the exercise was deleted and
    expiring the day before, so it no longer counts for AAPMS.O3 from the day of deletion.
    Returns the French message for the user."""
    if not scope.can(user, "change", campaign):
        raise PermissionDenied(_("Vous ne pouvez pas supprimer cet exercice."))
    from careops.compliance.models import Evidence

    today = compliance.today_in_paris()
    name, organisation = campaign.name, campaign.organisation
    with transaction.atomic():
        evidence = (
            Evidence.objects.filter(pk=campaign.evidence_id, organisation=organisation).first()
            if campaign.evidence_id
            else None
        )
        current = evidence.current if evidence else None
        if current is not None:
            effective = current.effective_date
            compliance.add_revision(
                user,
                evidence,
                compliance.RevisionInput(
                    effective_date=effective,
                    expires_on=max(effective, today - dt.timedelta(days=1)),
                    attributes={**current.attributes, "deleted_on": today.isoformat()},
                    comment=_(
                        "Exercice d'hameçonnage « %(name)s » supprimé de careops le %(day)s : "
                        "cette preuve ne compte plus à partir de ce jour."
                    )
                    % {"name": name, "day": f"{today:%d/%m/%Y}"},
                ),
            )
        audit.record(
            user,
            "awareness.phishing.delete",
            campaign,
            organisation,
            f"exercice d'hameçonnage « {name} » supprimé ({campaign.delivered} courriels reçus"
            + (f", preuve n° {evidence.pk} expirée" if current is not None else "")
            + ")",
        )
        campaign.delete()
    if current is not None:
        return _(
            "Exercice « %(name)s » supprimé. Sa preuve est conservée dans l'historique mais ne "
            "compte plus pour AAPMS.O3."
        ) % {"name": name}
    return _("Exercice « %(name)s » supprimé.") % {"name": name}
