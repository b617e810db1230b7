"""The home page's content per role: what to do next.

- establishment (RSSI, contributor, reader): complements requested with their due dates,
  evidence expiring, windows closing, audits due (D1.O2.B's second exposure audit 45–60 days
  after the first, monthly scans), alerts (backups stale against their RPO, new critical
  exposure findings), objectives whose status changed recently;
- ARS instructor: the queue of candidacies and declarations to instruct with their deadlines;
- ANS instructor: the national picture and the dossiers to decide or pay.

Every queryset goes through ``scope.restrict``; each section is one or two grouped queries with
a bound, so the page time does not grow with the data (benchmarks/cockpit.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Avg, Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from careops.backups.models import ProtectedSystem
from careops.catalogue import bridge
from careops.catalogue.engine.dates import fmt_date, upper_instant_exclusive
from careops.catalogue.engine.windows import window_is_open
from careops.catalogue.models import ReferentialVersion
from careops.compliance.choices import Status
from careops.compliance.models import EvidenceRevision, ItemStatus, StatusChange
from careops.core import charts
from careops.declarations.choices import State, Verdict
from careops.declarations.models import Candidacy, ItemReview
from careops.directory.models import Audit
from careops.exercises.models import ActionStatus, RetexAction
from careops.exposure.models import Finding, FindingStatus, RunStatus, ScanRun, Severity
from careops.tenancy import scope
from careops.tenancy.choices import Role

ESTABLISHMENT_ROLES = {Role.GHT_RSSI, Role.ES_RSSI, Role.CONTRIBUTOR, Role.READER}
LIMIT = 12
EXPIRY_DAYS = 30
CHANGE_DAYS = 14
WINDOW_WARNING_DAYS = 60
SECOND_AUDIT = (45, 60)  # D1.O2.B: the second exposure audit 45 to 60 days after the first
MONTHLY_SCAN_DAYS = 31
WINDOW_NAMES = {
    "candidacy": "de candidature",
    "declaration": "de déclaration",
    "ars_instruction": "d'instruction ARS",
    "ans_instruction": "d'instruction ANS",
}


def _paris_today(now: dt.datetime) -> dt.date:
    from careops.declarations.services import paris_date

    return paris_date(now)


def roles_of(user) -> dict[str, bool]:
    held = scope.roles(user)
    admin = Role.ADMINISTRATOR in held
    return {
        "establishment": bool(held & ESTABLISHMENT_ROLES) or admin,
        "ars": Role.ARS_INSTRUCTOR in held or admin,
        "ans": Role.ANS_INSTRUCTOR in held or admin,
    }


# --- establishment ---------------------------------------------------------------------------


def complements(user, today: dt.date) -> list[dict[str, Any]]:
    """Open complement requests, earliest due first."""
    found = (
        scope.restrict(
            ItemReview.objects.filter(
                verdict=Verdict.COMPLEMENT, is_current=True, answered_at__isnull=True
            ),
            user,
        )
        .select_related("candidate")
        .annotate(candidacy_id=F("declaration__candidacy_id"))
        .order_by("due_date", "pk")[:LIMIT]
    )
    return [
        {
            "code": r.item_code,
            "candidate": r.candidate.name,
            "candidacy_id": r.candidacy_id,
            "level": r.get_level_display(),
            "message": r.message,
            "due": r.due_date,
            "late": r.due_date is not None and r.due_date < today,
        }
        for r in found
    ]


def expiring_evidence(user, today: dt.date) -> list[EvidenceRevision]:
    """Current revisions (the newest of their evidence) expired or expiring within 30 days."""
    newest = (
        EvidenceRevision.objects.filter(evidence=OuterRef("evidence"))
        .order_by("-number")
        .values("number")[:1]
    )
    return list(
        scope.restrict(
            EvidenceRevision.objects.filter(
                expires_on__isnull=False, expires_on__lte=today + dt.timedelta(days=EXPIRY_DAYS)
            ),
            user,
        )
        .filter(number=Subquery(newest))
        .select_related("evidence", "evidence__organisation")
        .order_by("expires_on", "pk")[:LIMIT]
    )


def windows_closing(now: dt.datetime, names=("candidacy", "declaration")) -> list[dict]:
    """Open windows (guichets) of the current referentials that close within 60 days."""
    rows = []
    for version in bridge.current_versions().order_by("domain"):
        domain = bridge.domain_of(version)
        for name in names:
            window = getattr(domain.windows, name, None)
            if window is None or window.closes is None or not window_is_open(window, now):
                continue
            closes_at = upper_instant_exclusive(window.closes)
            days = (closes_at - now).days
            if days <= WINDOW_WARNING_DAYS:
                rows.append(
                    {
                        "domain": version.domain,
                        "title": version.title,
                        "name": WINDOW_NAMES[name],
                        "closes": fmt_date(window.closes),
                        "days": days,
                    }
                )
    return sorted(rows, key=lambda r: r["days"])


def audits_due(user, now: dt.datetime) -> list[dict[str, Any]]:
    """Per organisation with exposure audits: the D1.O2.B second-audit window after the latest
    audit, and a monthly scan overdue."""
    latest = (
        scope.restrict(ScanRun.objects.filter(status=RunStatus.DONE), user)
        .values("organisation_id", "organisation__name")
        .annotate(last=Max("finished_at"), n=Count("id"))
        .order_by("last")[:50]
    )
    today = _paris_today(now)
    rows = []
    for row in latest:
        if row["last"] is None:
            continue
        last_day = _paris_today(row["last"])
        opens = last_day + dt.timedelta(days=SECOND_AUDIT[0])
        closes = last_day + dt.timedelta(days=SECOND_AUDIT[1])
        if today <= closes:
            rows.append(
                {
                    "organisation_id": row["organisation_id"],
                    "organisation": row["organisation__name"],
                    "what": _("second audit d'exposition (D1.O2.B)"),
                    "detail": _("entre le %(a)s et le %(b)s, 45 à 60 jours après l'audit du %(c)s")
                    % {"a": fmt_date(opens), "b": fmt_date(closes), "c": fmt_date(last_day)},
                    "due": opens,
                    "open": opens <= today,
                }
            )
        if (today - last_day).days > MONTHLY_SCAN_DAYS:
            rows.append(
                {
                    "organisation_id": row["organisation_id"],
                    "organisation": row["organisation__name"],
                    "what": _("scan mensuel d'exposition"),
                    "detail": _("dernier audit le %(c)s") % {"c": fmt_date(last_day)},
                    "due": last_day + dt.timedelta(days=MONTHLY_SCAN_DAYS),
                    "open": True,
                }
            )
    return sorted(rows, key=lambda r: r["due"])[:LIMIT]


def alerts(user, now: dt.datetime) -> dict[str, list]:
    """Backups stale against their RPO, and critical exposure findings first seen this month."""
    stale = list(
        scope.restrict(
            ProtectedSystem.objects.filter(freshness_status__in=["failed", "warning"]), user
        )
        .select_related("organisation")
        .order_by("last_backup_at", "pk")[:LIMIT]
    )
    critical = list(
        scope.restrict(
            Finding.objects.filter(
                severity=Severity.CRITICAL,
                status=FindingStatus.OPEN,
                first_seen__gte=now - dt.timedelta(days=30),
            ),
            user,
        )
        .select_related("organisation")
        .order_by("-first_seen", "pk")[:LIMIT]
    )
    return {"stale_backups": stale, "critical_findings": critical}


def pools_of(user, today: dt.date) -> list[dict[str, Any]]:
    """The pools the user works in (as pooled staff) or whose member structure they run, with
    their dashboard's alerts: the pooled RSSI's way in (regional pools are the ARS's list)."""
    from careops.maturity import pools
    from careops.maturity.models import Membership, MembershipStatus, Pool

    members = (
        # "change": the structures the user works for; an ARS instructor's "view" would list
        # every pool of the region here (they have the regional list in Maturité)
        scope.restrict(Membership.objects.all(), user, "change")
        .filter(status=MembershipStatus.ACTIVE)
        .values("pool_id")
    )
    found = (
        Pool.objects.filter(Q(staff=user) | Q(pk__in=members)).distinct().order_by("name")[:LIMIT]
    )
    return [
        {
            "pool": pool,
            "convention": pools.current_convention(pool, today),
            "alerts": pools.pool_alerts(pool, today),
        }
        for pool in found
    ]


def retex_actions(user, today: dt.date) -> list[dict[str, Any]]:
    """Open crisis-exercise RETEX actions, overdue first then by due date."""
    found = (
        scope.restrict(RetexAction.objects.exclude(status=ActionStatus.DONE), user)
        .select_related("exercise__organisation")
        .order_by("due_on", "pk")[:LIMIT]
    )
    return [
        {
            "action": a,
            "exercise": a.exercise,
            "organisation": a.exercise.organisation.name,
            "late": a.due_on < today,
        }
        for a in found
    ]


def status_changes(user, now: dt.datetime) -> list[StatusChange]:
    return list(
        scope.restrict(
            StatusChange.objects.filter(at__gte=now - dt.timedelta(days=CHANGE_DAYS)).exclude(
                previous=""
            ),
            user,
        )
        .select_related("assessment__candidate", "assessment__referential_version")
        .defer("assessment__referential_version__data")  # the page shows its domain and title
        .order_by("-at", "-pk")[:LIMIT]
    )


# --- charts ----------------------------------------------------------------------------------

STATUS_KEYS = [(s.value, str(s.label)) for s in Status]
SEVERITY_KEYS = [(s.value, str(s.label)) for s in Severity]


def _months(now: dt.datetime, count: int = 6) -> list[dt.date]:
    first = _paris_today(now).replace(day=1)
    months = [first]
    for _i in range(count - 1):
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    return months


def _month_key(value) -> str:
    return value.strftime("%m/%Y")


def status_per_domain(user) -> dict:
    grouped = (
        scope.restrict(ItemStatus.objects.all(), user)
        .values("assessment__referential_version__domain", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    per: dict[str, dict[str, int]] = {}
    for row in grouped:
        domain = row["assessment__referential_version__domain"]
        per.setdefault(domain, {})[row["status"]] = row["n"]
    rows = sorted(per.items())
    return charts.stacked_bars(rows, STATUS_KEYS, charts.STATUS_COLOURS)


def findings_over_time(user, now: dt.datetime) -> dict:
    months = _months(now)
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time()))
    grouped = (
        scope.restrict(Finding.objects.filter(first_seen__gte=start), user)
        .annotate(month=TruncMonth("first_seen"))
        .values("month", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    series: dict[str, dict[str, int]] = {}
    for row in grouped:
        series.setdefault(_month_key(row["month"]), {})[row["severity"]] = row["n"]
    return charts.stacked_columns(
        [_month_key(m) for m in months], series, SEVERITY_KEYS, charts.SEVERITY_COLOURS
    )


def ad_level_over_time(user, now: dt.datetime) -> dict:
    months = _months(now, 12)
    start = timezone.make_aware(dt.datetime.combine(months[0], dt.time()))
    grouped = (
        scope.restrict(Audit.objects.filter(finished_at__gte=start, level__isnull=False), user)
        .annotate(month=TruncMonth("finished_at"))
        .values("month")
        .annotate(level=Avg("level"))
        .order_by()
    )
    by_month = {_month_key(row["month"]): round(row["level"], 1) for row in grouped}
    return charts.line([(_month_key(m), by_month.get(_month_key(m))) for m in months], 0, 5)


def awareness_figures(user) -> dict | None:
    """Share of staff trained (12 months) and the last phishing exercise's rates."""
    from careops.awareness.services import cockpit_figures

    return cockpit_figures(user)


# --- instructors -----------------------------------------------------------------------------


def ars_queue(user, now: dt.datetime) -> list[dict[str, Any]]:
    """Candidacies to validate and declarations to instruct, earliest deadline first."""
    from careops.declarations import services

    found = (
        scope.restrict(
            Candidacy.objects.filter(state__in=[State.CANDIDACY_SUBMITTED, State.DECLARED]),
            user,
            "instruct",
        )
        .select_related("candidate", "referential_version")
        .defer("referential_version__data")
        .order_by("applied_at", "pk")[:100]
    )
    # each referential read and modelled once, not once per candidacy (it is the whole file)
    domains = {
        v.pk: services.domain_of(v)
        for v in ReferentialVersion.objects.filter(
            pk__in={c.referential_version_id for c in found}
        ).defer("data")  # read once per process, through the file's hash
    }
    rows = []
    for c in found:
        # a declaration is instructed inside the ARS window; the validation of a candidacy has
        # no published window (docs/declarations.md)
        window = (
            domains[c.referential_version_id].windows.ars_instruction
            if c.state == State.DECLARED
            else None
        )
        closes = window.closes if window is not None else None
        rows.append(
            {
                "candidacy": c,
                "what": _("instruire la déclaration")
                if c.state == State.DECLARED
                else _("valider la candidature"),
                "deadline": fmt_date(closes) if closes is not None else _("non publiée"),
                "sort": upper_instant_exclusive(closes) if closes is not None else None,
                "pending": c.ars_complement,
                "settled": c.ars_compliant + c.ars_non_compliant,
            }
        )
    far = timezone.make_aware(dt.datetime(9999, 1, 1))
    return sorted(rows, key=lambda r: r["sort"] or far)[: LIMIT * 3]


def ans_queue(user) -> list[Candidacy]:
    return list(
        scope.restrict(
            Candidacy.objects.filter(state__in=[State.ARS_INSTRUCTED, State.DECIDED]),
            user,
            "instruct",
        )
        .select_related("candidate")
        .order_by("state", "updated_at", "pk")[: LIMIT * 3]
    )


def build(user, now: dt.datetime | None = None) -> dict[str, Any]:
    """Every section of the cockpit the user's roles call for."""
    now = now or timezone.now()
    today = _paris_today(now)
    who = roles_of(user)
    data: dict[str, Any] = {"roles": who, "today": today}
    if who["establishment"]:
        data["complements"] = complements(user, today)
        data["expiring"] = expiring_evidence(user, today)
        data["windows"] = windows_closing(now)
        data["audits_due"] = audits_due(user, now)
        data["alerts"] = alerts(user, now)
        data["changes"] = status_changes(user, now)
        data["awareness"] = awareness_figures(user)
        data["retex_actions"] = retex_actions(user, today)
    # a pooled RSSI whose convention lapsed holds no role, but still finds the pool's dashboard
    data["pools"] = pools_of(user, today)
    if who["establishment"] or who["ars"] or who["ans"]:
        data["chart_status"] = status_per_domain(user)
        data["chart_findings"] = findings_over_time(user, now)
        data["chart_ad"] = ad_level_over_time(user, now)
    if who["ars"]:
        data["ars_queue"] = ars_queue(user, now)
        data["ars_windows"] = windows_closing(now, ("ars_instruction",))
    if who["ans"]:
        from careops.declarations import dashboards

        data["national"] = dashboards.build(user)
        data["ans_queue"] = ans_queue(user)
        data["ans_windows"] = windows_closing(now, ("ans_instruction",))
    return data
