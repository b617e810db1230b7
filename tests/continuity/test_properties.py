"""Properties of the BIA computations: monotony, inheritance never loosens an objective, waves
respect dependencies, and the workbook round trip keeps the BIA."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from careops.continuity.engine.compute import (
    analyse,
    analyse_activity,
    criticality_curve,
    derived_dmia,
    priority_class,
)
from careops.continuity.engine.model import HOUR, Activity, Bia, Dependency, Method, Resource
from careops.continuity.engine.workbook import read_workbook, write_workbook

M = Method()
LABELS = [h.label for h in M.horizons]
INF = float("inf")

monotone_row = st.lists(st.integers(0, 4), min_size=len(LABELS), max_size=len(LABELS)).map(sorted)
ratings = st.dictionaries(
    st.sampled_from([t.code for t in M.impact_types]), monotone_row, min_size=1
)


def make_activity(code: str, rows: dict[str, list[int]], rto=None, rpo=None) -> Activity:
    return Activity(
        code,
        code,
        ratings={k: dict(zip(LABELS, v, strict=True)) for k, v in rows.items()},
        rto_seconds=rto,
        rpo_seconds=rpo,
    )


@given(ratings)
def test_the_curve_of_monotone_ratings_is_monotone(rows):
    curve = criticality_curve(make_activity("A", rows), M)
    assert curve == sorted(curve)


@given(ratings, st.sampled_from([t.code for t in M.impact_types]), st.integers(0, 5))
def test_raising_a_rating_never_delays_the_dmia_nor_lowers_the_priority(rows, impact, index):
    before = analyse_activity(make_activity("A", rows), M)
    raised = {k: list(v) for k, v in rows.items()}
    row = raised.setdefault(impact, [0] * len(LABELS))
    for i in range(index, len(LABELS)):
        row[i] = min(4, row[i] + 1)
    after = analyse_activity(make_activity("A", raised), M)
    as_number = lambda d: INF if d is None else d  # noqa: E731
    assert as_number(after.dmia_seconds) <= as_number(before.dmia_seconds)
    codes = [c.code for c in M.priority_classes]
    assert codes.index(after.priority) <= codes.index(before.priority)


@given(st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=6, max_size=6))
def test_dmia_is_a_rated_horizon_at_or_above_threshold(curve):
    dmia = derived_dmia(curve, M)
    if dmia is None:
        assert all(level is None or level < M.threshold for level in curve)
    else:
        index = [h.seconds for h in M.horizons].index(dmia)
        assert curve[index] >= M.threshold
        assert all(level is None or level < M.threshold for level in curve[:index])
        assert priority_class(dmia, M.priority_classes).code in {"P1", "P2", "P3", "P4"}


@st.composite
def graphs(draw, allow_cycles=False):
    n_act = draw(st.integers(1, 4))
    n_res = draw(st.integers(1, 8))
    hours = st.one_of(st.none(), st.integers(1, 24 * 40).map(lambda h: h * HOUR))
    activities = [
        make_activity(f"A{i}", {"patient_care": [0, 1, 2, 3, 4, 4]}, draw(hours), draw(hours))
        for i in range(n_act)
    ]
    resources = [
        Resource(
            f"R{i}",
            f"R{i}",
            trust_core=draw(st.booleans()),
            restore_seconds=draw(st.integers(0, 10)) * HOUR,
        )
        for i in range(n_res)
    ]
    deps = []
    for a in activities:
        for j in draw(st.sets(st.integers(0, n_res - 1), max_size=3)):
            deps.append(Dependency(a.code, f"R{j}"))
    for i in range(n_res):
        upper = n_res - 1
        targets = draw(st.sets(st.integers(0, upper), max_size=3))
        for j in targets:
            if allow_cycles or j > i:  # j > i keeps the graph acyclic
                deps.append(Dependency(f"R{i}", f"R{j}"))
    return Bia(activities=activities, resources=resources, dependencies=deps)


def rto_of(value):
    return INF if value is None else value


@given(graphs(allow_cycles=True))
def test_inheritance_never_loosens_an_objective(bia):
    analysis = analyse(bia)
    required = {r.code: r for r in analysis.resources}
    activity = {a.code: a for a in bia.activities}
    for dep in bia.dependencies:
        target = required[dep.target]
        if dep.source in activity:
            source_rto, source_rpo = (
                activity[dep.source].rto_seconds,
                activity[dep.source].rpo_seconds,
            )
        else:
            source_rto = required[dep.source].required_rto_seconds
            source_rpo = required[dep.source].required_rpo_seconds
        assert rto_of(target.required_rto_seconds) <= rto_of(source_rto)
        assert rto_of(target.required_rpo_seconds) <= rto_of(source_rpo)


@given(graphs())
def test_waves_respect_dependencies(bia):
    analysis = analyse(bia)
    assert analysis.cycles == []
    item = {i.code: i for i in analysis.order}
    assert sorted(i.order for i in analysis.order) == list(range(1, len(bia.resources) + 1))
    for dep in bia.dependencies:
        if dep.source in item:  # a resource needing another resource
            needed, needing = item[dep.target], item[dep.source]
            assert needed.order < needing.order
            assert needed.wave <= needing.wave
            assert needing.start_seconds >= needed.end_seconds
    trust = {r.code for r in bia.resources if r.trust_core}
    assert all(item[c].wave == 0 for c in trust)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_workbook_round_trip_keeps_the_bia(bia):
    buffer = io.BytesIO()
    write_workbook(bia, buffer)
    buffer.seek(0)
    back, problems = read_workbook(buffer)
    assert [p for p in problems if p.blocking] == []
    got, expected = analyse(back).as_dict(), analyse(bia).as_dict()
    for data in (got, expected):
        data["problems"] = [p["message"] for p in data["problems"]]
    assert got == expected


@given(graphs(allow_cycles=True))
def test_in_cycle_marks_exactly_the_resources_on_a_cycle(bia):
    analysis = analyse(bia)
    needs: dict[str, set[str]] = {}
    for dep in bia.dependencies:
        needs.setdefault(dep.source, set()).add(dep.target)

    def reaches_itself(code: str) -> bool:
        seen, todo = set(), list(needs.get(code, ()))
        while todo:
            node = todo.pop()
            if node == code:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(needs.get(node, ()))
        return False

    flagged = {i.code for i in analysis.order if i.in_cycle}
    assert flagged == {r.code for r in bia.resources if reaches_itself(r.code)}
    assert {code for cycle in analysis.cycles for code in cycle} <= flagged | {
        a.code for a in bia.activities
    }
