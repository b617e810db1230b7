from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.775 → « 77,5 % » (French format); None → « — »."""
    if value is None or value == "":
        return "—"
    text = f"{float(value) * 100:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0%"


@register.filter
def gap(ratio, target) -> str:
    """Points missing to reach ``target`` (« 12,5 points »), or « » when reached or unknown."""
    if ratio is None or target is None or ratio >= target:
        return ""
    text = f"{(float(target) - float(ratio)) * 100:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0points"
