"""Huey tasks of the exposure app: plan a run, scan its blocks, resume dead workers, schedule."""

from huey import crontab

from careops.exposure import services
from careops.tasks import db_periodic_task, db_task


@db_task(retries=2, retry_delay=30)
def plan_run_task(run_id: int) -> None:
    """Resolve the scope and create the host blocks of a run (idempotent)."""
    services.plan_run(run_id)


@db_task(retries=2, retry_delay=30)
def run_shard_task(shard_id: int) -> None:
    """Scan one block of hosts (skipped if done, or leased by a live worker)."""
    services.run_shard(shard_id)


@db_periodic_task(crontab(minute="*/5"))
def resume_stale_task() -> None:
    """Every 5 minutes: take back the blocks of workers that died."""
    services.resume_stale()


@db_periodic_task(crontab(day="1", hour="3", minute="0"))
def monthly_audits() -> None:
    """Monthly: one audit per organisation with a verified scope and the schedule on."""
    from django.core.exceptions import ValidationError

    from careops.exposure.models import ExposureProfile

    for profile in ExposureProfile.objects.filter(monthly=True).select_related("organisation"):
        try:
            services.start_run(None, profile.organisation, trigger="schedule")
        except ValidationError:
            continue  # no verified scope, or an audit already running
