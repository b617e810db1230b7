"""French wording and formats shown to users: amounts, percentages, regions, journal actions,
criterion types, windows with unknown dates, elision."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template

from careops.catalogue.engine.dates import fmt_eur, fmt_pct
from careops.catalogue.engine.schema import Window
from careops.core.audit import action_label
from careops.declarations import funding
from careops.declarations.services import _of, describe_window

NNBSP, NBSP = "\u202f", "\u00a0"


def render(text: str, **context) -> str:
    return Template("{% load careops %}" + text).render(Context(context))


def test_amounts_in_french_format():
    assert fmt_eur(250000) == f"250{NNBSP}000,00{NBSP}€"
    assert fmt_eur("1234567.5") == f"1{NNBSP}234{NNBSP}567,50{NBSP}€"
    assert fmt_eur(None) == "—"
    assert render("{{ v|euros }}", v=250000) == f"250{NNBSP}000,00{NBSP}€"
    assert funding._eur(250000) == fmt_eur(250000)


def test_percentages_without_useless_decimals():
    assert fmt_pct(1.0) == "100 %"
    assert fmt_pct(0.665) == "66,5 %"


def test_region_names_instead_of_codes():
    assert render("{{ c|region_name }}", c="11") == "Île-de-France"
    assert render("{{ c|region_name }}", c="") == "—"


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("continuity.besoin.delete", "Besoin en mode dégradé supprimé(e) (continuité)"),
        ("assessment.update", "Évaluation modifiée (dates ou faits)"),
        ("evidence.create", "Preuve déposée"),
        ("directory.milestone.done", "Jalon terminé(e) (annuaires)"),
    ],
)
def test_journal_actions_in_french(code, label):
    assert action_label(code) == label


def test_criterion_types_in_french():
    assert render("{{ c|criterion_label }}", c={"type": "trajectory"}) == "Trajectoire"
    assert render("{{ c|criterion_label }}", c={"type": "document", "label": "PSSI"}) == "PSSI"
    assert render("{{ t|criterion_type }}", t="event_in_period") == "événement dans la période"


def test_windows_with_unknown_dates_are_said_plainly():
    assert (
        describe_window(Window(opens=None, closes=None, to_confirm=True)) == "(dates à confirmer)"
    )
    closes_only = describe_window(Window(opens=None, closes=dt.date(2026, 3, 31), to_confirm=True))
    assert closes_only.startswith("jusqu'au 31/03/2026 inclus")
    assert "date à confirmer" not in closes_only
    opens_only = describe_window(Window(opens=dt.date(2026, 1, 1), closes=None, to_confirm=True))
    assert opens_only.startswith("à partir du 01/01/2026")


def test_de_is_elided_before_a_vowel():
    assert _of("enregistrer") == "d'enregistrer"
    assert _of("déposer") == "de déposer"


def test_chart_labels_wrap_instead_of_being_cut():
    from careops.declarations.dashboards import bars

    label = "Établissements de santé privés d'intérêt collectif"
    chart = bars([(label, 66.5), ("ESMS", 100.0)], " %")
    first = chart["rows"][0]
    assert len(first["lines"]) > 1
    assert " ".join(line["text"] for line in first["lines"]) == label
    assert first["text"] == "66,5 %" and chart["rows"][1]["text"] == "100 %"
    assert chart["rows"][1]["y"] > first["y"] + 16 * len(first["lines"])
