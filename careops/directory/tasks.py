"""Huey tasks of the directory app."""

from huey.contrib.djhuey import db_task

from careops.directory import services


@db_task(retries=1, retry_delay=60)
def run_audit(audit_id: int) -> None:
    """Collect or import, then analyse one audit (idempotent, resumable)."""
    services.execute_audit(audit_id)
