"""Property tests: date windows (inclusive, Europe/Paris, DST), coverage and audit series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from careops.catalogue.engine import PARIS, Candidate, DomainVersion, Dossier, Evidence, evaluate
from careops.catalogue.engine.dossier import Entity
from careops.catalogue.engine.evaluate import find_series
from careops.catalogue.engine.schema import Window
from careops.catalogue.engine.windows import window_is_open
from careops.tenancy import finess

DAYS = st.dates(min_value=date(2022, 1, 1), max_value=date(2030, 12, 31))
# instants around the clock changes, where wall-clock comparisons go wrong
INSTANTS = st.datetimes(
    min_value=datetime(2022, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(opens=DAYS, length=st.integers(0, 400), instant=INSTANTS)
def test_date_window_matches_paris_calendar_day(opens, length, instant):
    closes = opens + timedelta(days=length)
    window = Window(opens=opens, closes=closes)
    local_day = instant.astimezone(PARIS).date()
    assert window_is_open(window, instant) == (opens <= local_day <= closes)


@given(opens=DAYS, length=st.integers(0, 400))
def test_date_window_bounds_are_inclusive_to_the_microsecond(opens, length):
    closes = opens + timedelta(days=length)
    window = Window(opens=opens, closes=closes)
    first = datetime(opens.year, opens.month, opens.day, tzinfo=PARIS)
    last = datetime(closes.year, closes.month, closes.day, 23, 59, 59, 999999, tzinfo=PARIS)
    assert window_is_open(window, first)
    assert window_is_open(window, last)
    assert not window_is_open(window, first - timedelta(microseconds=1))
    assert not window_is_open(window, last.astimezone(UTC) + timedelta(microseconds=1))
    assert window_is_open(window, opens) and window_is_open(window, closes)
    assert not window_is_open(window, opens - timedelta(days=1))
    assert not window_is_open(window, closes + timedelta(days=1))


@given(start=INSTANTS, minutes=st.integers(0, 60 * 24 * 30), instant=INSTANTS)
def test_datetime_window_compares_real_instants(start, minutes, instant):
    end = start + timedelta(minutes=minutes)
    window = Window(opens=start.astimezone(PARIS), closes=end.astimezone(PARIS))
    assert window_is_open(window, instant.astimezone(PARIS)) == (start <= instant <= end)


def test_datetime_window_across_the_autumn_fold():
    # 26/10/2025: 02:30 happens twice in Paris; the window closes at the first 02:30 (CEST).
    closes = datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=0)
    window = Window(opens=datetime(2025, 10, 25, 12, 0), closes=closes)
    second_0230 = datetime(2025, 10, 26, 2, 30, tzinfo=PARIS, fold=1)
    assert window_is_open(window, closes)
    assert not window_is_open(window, second_0230)
    assert not window_is_open(window, datetime(2025, 10, 26, 0, 45, tzinfo=UTC))
    assert window_is_open(window, datetime(2025, 10, 26, 0, 30, tzinfo=UTC))


def test_date_window_closing_on_the_spring_change_day():
    window = Window(opens=date(2026, 3, 1), closes=date(2026, 3, 29))  # 23-hour day
    assert window_is_open(window, datetime(2026, 3, 29, 21, 59, tzinfo=UTC))  # 23:59 CEST
    assert not window_is_open(window, datetime(2026, 3, 29, 22, 0, tzinfo=UTC))


# --- coverage --------------------------------------------------------------------------------

DOMAIN = DomainVersion.model_validate(
    {
        "domain": "D2",
        "version": "1",
        "status": "published",
        "title": "Test",
        "evidence_kinds": {
            "bia": {"label": "BIA"},
            "audit": {"label": "audit"},
        },
        "items": [
            {
                "id": "D2.O1.C",
                "kind": "objective",
                "title": "Couverture",
                "criteria": [{"type": "coverage", "evidence_kind": "bia", "threshold": 0.66}],
            },
            {
                "id": "D2.O2.B",
                "kind": "objective",
                "title": "Série",
                "criteria": [
                    {
                        "type": "audit_series",
                        "evidence_kind": "audit",
                        "min_gap_days": 45,
                        "max_gap_days": 60,
                    }
                ],
            },
        ],
    }
)


def coverage_status(weights: list[int], covered: set[int]) -> str:
    entities = [
        Entity(
            finess=finess.with_key(f"37{index:06d}"), name=f"EJ {index}", level="EJ", weight=weight
        )
        for index, weight in enumerate(weights)
    ]
    evidence = [
        Evidence(kind="bia", date="2025-12-01", entities=[entities[index].finess])
        for index in sorted(covered)
    ]
    dossier = Dossier(
        domain="D2",
        candidate=Candidate(name="GHT", kind="ght"),
        entities=entities,
        filing_date="2026-03-01",
        evidence=evidence,
    )
    return evaluate(DOMAIN, dossier).result("D2.O1.C").criteria[0].status


WEIGHTS = st.lists(st.integers(1, 1000), min_size=2, max_size=8)


@settings(max_examples=60)
@given(weights=WEIGHTS, data=st.data())
def test_coverage_is_monotone_in_covered_entities(weights, data):
    indexes = list(range(len(weights)))
    small = set(data.draw(st.lists(st.sampled_from(indexes), unique=True, min_size=1)))
    extra = set(data.draw(st.lists(st.sampled_from(indexes), unique=True)))
    if coverage_status(weights, small) == "met":
        assert coverage_status(weights, small | extra) == "met"


@settings(max_examples=60)
@given(weights=WEIGHTS, data=st.data())
def test_coverage_met_exactly_when_share_reaches_threshold(weights, data):
    indexes = list(range(len(weights)))
    covered = set(data.draw(st.lists(st.sampled_from(indexes), unique=True, min_size=1)))
    share_times_100 = 100 * sum(weights[index] for index in covered)
    expected = "met" if share_times_100 >= 66 * sum(weights) else "not_met"
    assert coverage_status(weights, covered) == expected


@given(covered=st.integers(1, 99))
def test_coverage_threshold_boundary_on_percent_weights(covered):
    status = coverage_status([covered, 100 - covered], {0})
    assert status == ("met" if covered >= 66 else "not_met")


# --- audit series ----------------------------------------------------------------------------


@given(start=DAYS, gap=st.integers(0, 120))
def test_two_audit_series_gap_boundaries(start, gap):
    days = [start, start + timedelta(days=gap)]
    found = find_series(days, 2, 45, 60)
    assert (found is not None) == (45 <= gap <= 60)


@settings(max_examples=80)
@given(start=DAYS, offsets=st.lists(st.integers(1, 200), min_size=1, max_size=8, unique=True))
def test_series_found_iff_some_pair_is_45_to_60_days_apart(start, offsets):
    days = sorted({start, *(start + timedelta(days=offset) for offset in offsets)})
    expected = any(45 <= (b - a).days <= 60 for i, a in enumerate(days) for b in days[i + 1 :])
    chain = find_series(days, 2, 45, 60)
    assert (chain is not None) == expected
    if chain is not None:
        first, second = (days[index] for index in chain)
        assert 45 <= (second - first).days <= 60


@settings(max_examples=40)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2025, 6, 1)), gap=st.integers(30, 75)
)
def test_series_criterion_agrees_with_gap_rule(start, gap):
    dossier = Dossier(
        domain="D2",
        candidate=Candidate(name="CH", kind="ej"),
        filing_date="2026-01-01",
        evidence=[
            Evidence(kind="audit", date=start),
            Evidence(kind="audit", date=start + timedelta(days=gap)),
        ],
    )
    status = evaluate(DOMAIN, dossier).result("D2.O2.B").status
    assert status == ("met" if 45 <= gap <= 60 else "not_met")
