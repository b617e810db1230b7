"""Percentages as French readers expect them (« 41,7 % », « — » without a denominator)."""

from django import template

from careops.awareness.engine.training import percent

register = template.Library()


@register.filter
def pct(value) -> str:
    """A 0–1 share as « 41,7 % »."""
    return percent(value)


@register.filter
def rate(campaign, name: str) -> str:
    """A phishing campaign's rate (``clicked``, ``reported``…) as « 41,7 % »."""
    return percent(campaign.rate(name))
