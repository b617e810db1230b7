"""Huey task of the HospiConnect app."""

from careops.hospiconnect import services
from careops.tasks import db_task


@db_task(retries=1, retry_delay=30)
def run_import_task(import_id: int) -> None:
    """Compute a measurement's indicators (idempotent)."""
    services.run_import(import_id)
