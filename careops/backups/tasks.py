"""Huey tasks of the backups app: runs, and the periodic freshness sweep of job reports."""

from huey import crontab

from careops.backups import services
from careops.tasks import db_periodic_task, db_task


@db_task(retries=2, retry_delay=60)
def execute_run_task(run_id: int) -> None:
    """Execute a verification or restore-test run (idempotent)."""
    services.execute_run(run_id)


@db_periodic_task(crontab(minute="17"))
def sweep_job_reports() -> None:
    """Hourly: stale backups and failed jobs of systems fed by job reports."""
    services.evaluate_job_systems()


@db_periodic_task(crontab(hour="2", minute="30"))
def nightly_verifications() -> None:
    """Nightly: one verification per repository (rotating data subsets)."""
    from careops.backups.choices import RunKind
    from careops.backups.models import Repository, VerificationRun

    for repository in Repository.objects.all():
        run = VerificationRun.objects.create(
            organisation=repository.organisation, repository=repository, kind=RunKind.VERIFY
        )
        execute_run_task(run.pk)
