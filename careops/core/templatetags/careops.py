"""Template helpers shared by every app."""

from django import template
from django.utils.translation import gettext

from careops.compliance.choices import Status

register = template.Library()
_TRANSLATED: dict[tuple, dict] = {}  # (what, language) → {code: label}, filled once per process


def translated(what, choices) -> dict:
    """``{code: label}`` of ``choices`` with the labels translated once per language: a lazy
    label is translated each time it is rendered or hashed, which a long table pays per row."""
    from django.utils.translation import get_language

    key = (what, get_language())
    labels = _TRANSLATED.get(key)
    if labels is None:
        labels = _TRANSLATED[key] = {code: str(label) for code, label in choices}
    return labels


@register.filter
def status_label(code: str) -> str:
    """The French label of a status code ("not_met" → "Non atteint")."""
    return translated("status", Status.choices).get(code, code or "—")


@register.filter
def display(obj, field: str):
    """``obj.get_FIELD_display()`` (the label of a choice field's value), its labels translated
    once per language (Django rebuilds and hashes the lazy choices on every call)."""
    model = type(obj)
    labels = translated((model, field), model._meta.get_field(field).flatchoices)
    value = getattr(obj, field)
    return labels.get(value, value)


@register.filter
def isodate(value):
    """An ISO date string from stored JSON (« 2027-03-29 ») as a date, for the ``date`` filter;
    anything else is returned unchanged."""
    import datetime as dt

    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


@register.inclusion_tag("includes/breadcrumb.html")
def breadcrumb(*parts):
    """The breadcrumb of a page: ``{% breadcrumb "Déclarations" url "Dossier" url "Revue" %}``
    — label/URL pairs of the ancestors, then the current page's label (Accueil comes first)."""
    pairs = list(parts[:-1])
    ancestors = [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)]
    return {"ancestors": ancestors, "current": parts[-1] if parts else ""}


@register.inclusion_tag("includes/producers.html")
def producers(code: str):
    """Links from an objective to the modules that produce its evidence (core.modules)."""
    from careops.core.modules import producers_for

    return {"producers": producers_for(code)}


@register.inclusion_tag("includes/fed_objectives.html")
def fed_objectives(app: str):
    """Links from a module page back to the objectives it feeds, in the current referentials."""
    from careops.catalogue.models import Item
    from careops.core.modules import objectives_fed_by

    items = Item.objects.filter(version__is_current=True).exclude(kind="group")
    items = items.only("code", "title", "version_id", "position")
    return {"items": objectives_fed_by(app, items.order_by("version__domain", "position"))}


@register.filter
def criterion_label(criterion) -> str:
    """A criterion result's label, else the French name of its type (never "document")."""
    from careops.catalogue.engine.schema import CRITERION_TYPE_LABELS

    label = criterion.get("label") if isinstance(criterion, dict) else None
    if label:
        return label
    kind = criterion.get("type", "") if isinstance(criterion, dict) else ""
    text = CRITERION_TYPE_LABELS.get(kind, kind)
    return text[:1].upper() + text[1:]


@register.filter
def criterion_type(code: str) -> str:
    """The French name of a criterion type ("event_in_period" → "événement dans la période")."""
    from careops.catalogue.engine.schema import CRITERION_TYPE_LABELS

    return CRITERION_TYPE_LABELS.get(code, code)


@register.filter
def euros(value) -> str:
    """An amount in French format: 250000 → « 250 000,00 € »."""
    from careops.catalogue.engine.dates import fmt_eur

    return fmt_eur(value)


@register.filter
def action_label(code: str) -> str:
    """The French label of an audit action code."""
    from careops.core.audit import action_label as label

    return label(code)


@register.filter
def region_name(code: str) -> str:
    """The region's name from its INSEE code ("11" → "Île-de-France")."""
    from careops.tenancy.choices import REGIONS

    return translated("regions", REGIONS).get(code or "", code or "—")


@register.filter
def resource_kind(code: str) -> str:
    """The French label of a BIA resource kind ("supplier" → "Fournisseur")."""
    from careops.continuity.models import ResourceKind

    return dict(ResourceKind.choices).get(code, code)


@register.filter
def pct(value) -> str:
    """0.775 → « 77,5 % » (French format, no useless decimal); None → « — »."""
    if value is None or value == "":
        return "—"
    text = f"{float(value) * 100:.1f}".replace(".", ",").removesuffix(",0")
    return f"{text}\u00a0%"


@register.filter
def points(value) -> str:
    """A difference of two shares, in percentage points: 0.071 → « +7,1 pts », -0.056 →
    « −5,6 pts » (never « % », which would read as a relative change); None → « — »."""
    if value is None or value == "":
        return "—"
    number = float(value) * 100
    text = f"{abs(number):.1f}".replace(".", ",").removesuffix(",0")
    sign = "+" if number > 0.05 else "−" if number < -0.05 else ""
    return gettext("%(value)s pts") % {"value": f"{sign}{text}"}


def _url_maker(name: str):
    """A function pk → URL of the view ``name`` (reversed once, not once per row)."""
    from django.urls import reverse

    sentinel = 987654321
    before, after = reverse(name, args=[sentinel]).split(str(sentinel), 1)
    return lambda pk: f"{before}{int(pk)}{after}"


@register.simple_tag
def assessment_cards(rows) -> str:
    """The home page's candidate cards (up to 200) with their assessments' progress: the
    markup of ``includes/progress.html`` per assessment, built here in one pass, since the
    template engine's per-variable cost made this loop most of the instructor's home page."""
    from django.utils.html import conditional_escape as esc
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext

    candidate_url = _url_maker("tenancy:detail")
    assessment_url = _url_maker("compliance:assessment")
    progress_label = esc(gettext("Avancement"))
    empty = f"\n      <p>{esc(gettext('Aucune évaluation ouverte.'))}</p>\n    "
    out = []
    for candidate, assessments in rows:
        pk = int(candidate.pk)
        finess = f" · FINESS {esc(candidate.finess)}" if candidate.finess else ""
        out.append(
            f'\n  <section class="card" aria-labelledby="cand-{pk}">\n'
            f'    <h3 id="cand-{pk}" class="card__title"><a href="{esc(candidate_url(pk))}">'
            f"{esc(candidate.name)}</a></h3>\n"
            f'    <p class="meta">{esc(display(candidate, "kind"))}{finess}</p>\n    '
        )
        for a in assessments:
            try:
                pct = str(round(float(a.progress) * 100))
            except (ValueError, TypeError, OverflowError):
                pct = ""
            version = a.referential_version
            out.append(
                f'\n      <p class="progress-label"><a href="{esc(assessment_url(a.pk))}">'
                f"{esc(version.domain)} — {esc(version.title)}</a></p>\n      "
                f'<div class="progress" role="progressbar" aria-valuemin="0" '
                f'aria-valuemax="100" aria-valuenow="{pct}" aria-label="{progress_label}">'
                f'<div class="progress__bar" style="width: {pct}%"></div></div>'
                f'<span class="progress-label">{pct} %</span>\n\n    '
            )
        if not assessments:
            out.append(empty)
        out.append("\n  </section>\n")
    return mark_safe("".join(out))  # noqa: S308 — every value above is escaped
