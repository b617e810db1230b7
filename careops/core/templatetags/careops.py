"""Template helpers shared by every app."""

from django import template

from careops.compliance.choices import Status

register = template.Library()
_LABELS = dict(Status.choices)


@register.filter
def status_label(code: str) -> str:
    """The French label of a status code ("not_met" → "Non atteint")."""
    return _LABELS.get(code, code or "—")
