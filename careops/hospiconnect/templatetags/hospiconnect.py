from django import template

from careops.core.templatetags.careops import pct as core_pct

register = template.Library()
register.filter("pct", core_pct)  # the shared French percentage


@register.filter
def gap(ratio, target) -> str:
    """Points missing to reach ``target`` (« 12,5 points »), or « » when reached or unknown."""
    if ratio is None or target is None or ratio >= target:
        return ""
    text = f"{(float(target) - float(ratio)) * 100:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0points"
