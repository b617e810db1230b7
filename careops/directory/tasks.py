"""Huey tasks of the directory app: run an audit, and fail the audits abandoned by dead workers."""

from huey import crontab

from careops.directory import services
from careops.tasks import db_periodic_task, db_task


@db_task(retries=1, retry_delay=60)
def run_audit(audit_id: int) -> None:
    """Collect or import, then analyse one audit (idempotent, resumable)."""
    services.execute_audit(audit_id)


@db_periodic_task(crontab(minute="*/5"))
def fail_stale_audits_task() -> None:
    """Every 5 minutes: fail the audits whose worker gave no sign of life for too long."""
    services.fail_stale_audits()
