from django import template

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.775 → « 77,5 % » (French format); None → « — »."""
    if value is None or value == "":
        return "—"
    text = f"{float(value) * 100:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0%"
