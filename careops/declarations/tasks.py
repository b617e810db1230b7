"""Huey tasks of the declarations app (imported by Huey's autodiscovery of ``tasks`` modules)."""

from careops.declarations.notifications import daily_reminders, send_notification  # noqa: F401
