"""Template filters of the backups pages."""

from django import template

register = template.Library()

_BADGES = {
    "ok": "met",
    "warning": "partial",
    "failed": "not_met",
    "error": "missing_evidence",
    "skipped": "not_applicable",
}


@register.filter
def badge(status: str) -> str:
    """The shared badge class (met, partial, not_met…) of a check status."""
    return _BADGES.get(status, "not_applicable")


@register.filter
def hours(value) -> str:
    """A duration in hours, French style ("4 h", "1,5 h", "3 j"); "—" when not set."""
    from careops.backups.objectives import hours_label

    return hours_label(value)
