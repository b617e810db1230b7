"""E-mails of the workflow: who is told, and the reminders of deadlines (sent once each)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from huey import crontab

from careops.tasks import db_periodic_task, db_task


def recipients(candidate, roles: set[str]) -> list[str]:
    """E-mail addresses of the users holding one of ``roles`` on the candidate or above it."""
    from careops.tenancy.models import RoleAssignment

    ancestor_ids = [int(p) for p in candidate.path.strip("/").split("/") if p]
    rows = (
        RoleAssignment.objects.filter(role__in=roles, user__is_active=True)
        .filter(
            Q(organisation_id=candidate.pk)
            | Q(organisation_id__in=ancestor_ids, include_subtree=True)
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
        .distinct()
    )
    return sorted(set(rows))


@db_task()
def send_notification(to: list[str], subject: str, body: str) -> int:
    """Send one e-mail (a task: a slow mail server never slows a page)."""
    if not to:
        return 0
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)


def notify(candidacy, roles: set[str], subject: str, body: str) -> None:
    to = recipients(candidacy.candidate, set(roles))
    if to:
        send_notification(to, subject, body)


def _once(key: str, to: list[str], subject: str, body: str) -> bool:
    from careops.declarations.models import ReminderSent

    if not to or ReminderSent.objects.filter(key=key).exists():
        return False
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=False)
    ReminderSent.objects.create(key=key, recipients=len(to))
    return True


COMPLEMENT_THRESHOLDS = (3, 0)  # days before the due date
DECLARATION_THRESHOLDS = (14, 3)  # days before the declaration window closes


def _threshold(days_left: int, thresholds: tuple[int, ...]) -> str | None:
    if days_left < 0:
        return "late"
    matching = [t for t in thresholds if days_left <= t]
    return f"J-{min(matching)}" if matching else None


def send_reminders(today: dt.date) -> int:
    """Remind open complement requests near or past their due date, and validated candidacies
    near the close of the declaration window; each reminder is sent once."""
    from careops.catalogue.engine.dates import as_day
    from careops.declarations import services
    from careops.declarations.choices import ANSWER_ROLES, CANDIDATE_ROLES, State, Verdict
    from careops.declarations.models import Candidacy, ItemReview

    sent = 0
    requests = ItemReview.objects.filter(
        verdict=Verdict.COMPLEMENT, is_current=True, answered_at=None, due_date__isnull=False
    ).select_related("declaration__candidacy__candidate")
    for review in requests:
        step = _threshold((review.due_date - today).days, COMPLEMENT_THRESHOLDS)
        if step is None:
            continue
        candidacy = review.declaration.candidacy
        late = step == "late"
        sent += _once(
            f"complement:{review.pk}:{step}",
            recipients(candidacy.candidate, ANSWER_ROLES),
            f"[careops] {'Complément en retard' if late else 'Rappel : complément attendu'} "
            f"sur {review.item_code} ({candidacy.domain})",
            f"Le complément demandé sur {review.item_code} pour {candidacy.candidate.name} "
            f"{'était attendu' if late else 'est attendu'} le {review.due_date:%d/%m/%Y}.\n"
            f"Demande : {review.message}",
        )
    for candidacy in Candidacy.objects.filter(state=State.CANDIDACY_VALIDATED).select_related(
        "candidate", "referential_version"
    ):
        window = services.domain_of(candidacy).windows.declaration
        if window is None or window.closes is None:
            continue
        step = _threshold((as_day(window.closes) - today).days, DECLARATION_THRESHOLDS)
        if step is None or step == "late":
            continue
        sent += _once(
            f"declaration:{candidacy.pk}:{step}",
            recipients(candidacy.candidate, CANDIDATE_ROLES),
            f"[careops] Rappel : le guichet de déclaration {candidacy.domain} ferme le "
            f"{as_day(window.closes):%d/%m/%Y}",
            f"La déclaration d'atteinte de {candidacy.candidate.name} pour le domaine "
            f"{candidacy.domain} n'est pas encore déposée. Le guichet ferme le "
            f"{as_day(window.closes):%d/%m/%Y} (heure de Paris).",
        )
    return sent


@db_periodic_task(crontab(hour="7", minute="0"))
def daily_reminders() -> int:
    """Every morning (07:00 server time), send the reminders due today in Paris."""
    from django.utils import timezone

    from careops.declarations.services import PARIS

    return send_reminders(timezone.now().astimezone(PARIS).date())
