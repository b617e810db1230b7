"""Hand-checked cases for every BIA computation."""

from __future__ import annotations

from fractions import Fraction

from careops.continuity.engine.compute import (
    CoverageUnit,
    analyse,
    analyse_activity,
    coverage,
    criticality_curve,
    derived_dmia,
    find_cycles,
    inherit_objectives,
    monotony_breaks,
    priority_class,
    rto_status,
)
from careops.continuity.engine.example import example_bia
from careops.continuity.engine.model import (
    DAY,
    HOUR,
    PERIMETERS,
    Activity,
    Bia,
    Dependency,
    Method,
    Need,
    PriorityClass,
    Resource,
    format_duration,
)

M = Method()
LABELS = [h.label for h in M.horizons]


def activity(code="A", rto=None, rpo=None, **ratings) -> Activity:
    return Activity(
        code,
        code,
        ratings={k: dict(zip(LABELS, v, strict=True)) for k, v in ratings.items()},
        rto_seconds=rto,
        rpo_seconds=rpo,
    )


def test_curve_is_the_maximum_over_impact_types_per_horizon():
    a = activity(patient_care=[0, 1, 3, 3, 4, 4], financial=[2, 2, 2, 3, 3, 3])
    assert criticality_curve(a, M) == [2, 2, 3, 3, 4, 4]


def test_curve_is_none_where_nothing_is_rated():
    a = Activity("A", "A", ratings={"patient_care": {"1 h": 1, "24 h": 3}})
    assert criticality_curve(a, M) == [1, None, 3, None, None, None]


def test_monotony_break_names_the_impact_and_both_horizons():
    a = activity(patient_care=[1, 3, 2, 2, 4, 4])
    breaks = monotony_breaks(a, M)
    assert [
        (b.impact_type, b.earlier, b.later, b.earlier_level, b.later_level) for b in breaks
    ] == [
        ("patient_care", "4 h", "24 h", 3, 2),
        ("patient_care", "4 h", "72 h", 3, 2),
    ]
    assert monotony_breaks(activity(patient_care=[0, 0, 1, 1, 4, 4]), M) == []


def test_dmia_is_the_first_horizon_reaching_the_threshold():
    assert derived_dmia([0, 1, 2, 3, 4, 4], M) == 3 * DAY
    assert derived_dmia([3, 3, 3, 3, 3, 3], M) == HOUR
    assert derived_dmia([0, 1, 2, 2, 2, 2], M) is None  # beyond 30 days
    assert derived_dmia([0, 1, 2, 2, 2, 2], Method(threshold=2)) == DAY


def test_dmia_override_wins_and_is_flagged():
    a = activity(patient_care=[0, 0, 3, 4, 4, 4], rto=2 * HOUR)
    a.dmia_override_seconds, a.dmia_override_reason = 6 * HOUR, "Urgences vitales"
    result = analyse_activity(a, M)
    assert (result.derived_dmia_seconds, result.dmia_seconds) == (DAY, 6 * HOUR)
    assert result.dmia_overridden and result.priority == "P2" and result.dmia_label == "6 h"


def test_suggested_rpo_follows_the_data_impact_curve():
    a = activity(data=[0, 1, 3, 3, 4, 4], patient_care=[4, 4, 4, 4, 4, 4])
    assert analyse_activity(a, M).suggested_rpo_seconds == DAY
    assert analyse_activity(activity(patient_care=[4] * 6), M).suggested_rpo_seconds is None


def test_priority_classes_are_data():
    assert priority_class(HOUR, M.priority_classes).code == "P1"
    assert priority_class(4 * HOUR, M.priority_classes).code == "P1"
    assert priority_class(DAY, M.priority_classes).code == "P2"
    assert priority_class(3 * DAY, M.priority_classes).code == "P3"
    assert priority_class(7 * DAY, M.priority_classes).code == "P4"
    assert priority_class(None, M.priority_classes).code == "P4"
    two = (PriorityClass("A", "critique", 2 * DAY), PriorityClass("B", "autre", None))
    assert priority_class(DAY, two).code == "A" and priority_class(3 * DAY, two).code == "B"


def test_rto_must_be_strictly_below_the_dmia_with_a_margin_warning():
    assert rto_status(None, DAY, 0.25) == "missing"
    assert rto_status(DAY, DAY, 0.25) == "exceeds"
    assert rto_status(2 * DAY, DAY, 0.25) == "exceeds"
    assert rto_status(20 * HOUR, DAY, 0.25) == "tight"  # 4 h left out of 24 h < 25 %
    assert rto_status(18 * HOUR, DAY, 0.25) == "ok"  # exactly 25 % left
    assert rto_status(100 * DAY, None, 0.25) == "ok"


def test_cycles_are_reported_once_with_their_path():
    graph = {"A": ["B"], "B": ["C"], "C": ["A", "D"], "D": ["D"], "E": ["A"]}
    assert find_cycles(graph) == [["A", "B", "C", "A"], ["D", "D"]]
    assert find_cycles({"A": ["B"], "B": []}) == []


def small_bia() -> Bia:
    """URG (RTO 2 h) → DPI → VIRT → NET; PAIE (RTO 3 d) → LOG → VIRT; NET is trust core."""
    bia = Bia(
        activities=[
            activity("URG", rto=2 * HOUR, rpo=HOUR, patient_care=[3, 4, 4, 4, 4, 4]),
            activity("PAIE", rto=3 * DAY, rpo=DAY, financial=[0, 0, 1, 2, 3, 4]),
        ],
        resources=[
            Resource("NET", "Réseau", "infrastructure", trust_core=True, restore_seconds=HOUR),
            Resource("VIRT", "Virtualisation", "infrastructure", restore_seconds=2 * HOUR),
            Resource("DPI", "DPI", restore_seconds=3 * HOUR, measured_rto_seconds=HOUR),
            Resource("LOG", "Paie", restore_seconds=HOUR, measured_rto_seconds=4 * DAY),
            Resource("ORPHAN", "Inutilisée"),
        ],
        dependencies=[
            Dependency("URG", "DPI"),
            Dependency("PAIE", "LOG"),
            Dependency("DPI", "VIRT"),
            Dependency("LOG", "VIRT"),
            Dependency("VIRT", "NET"),
        ],
    )
    return bia


def test_resources_inherit_the_strictest_objective_transitively():
    bia = small_bia()
    results = {a.code: analyse_activity(a, M) for a in bia.activities}
    got = {o.code: o for o in inherit_objectives(bia, results)}
    assert got["VIRT"].required_rto_seconds == 2 * HOUR  # from URG, through DPI
    assert got["VIRT"].required_rpo_seconds == HOUR
    assert got["NET"].activities == ["URG", "PAIE"]
    assert got["LOG"].required_rto_seconds == 3 * DAY
    assert got["ORPHAN"].required_rto_seconds is None
    assert (got["DPI"].rto_gap, got["LOG"].rto_gap, got["VIRT"].rto_gap) == (
        "met",
        "not_met",
        "unknown",
    )
    assert got["ORPHAN"].rto_gap == "none_required"
    assert got["NET"].p1_activities == 1


def test_waves_start_with_the_trust_core_and_follow_dependencies():
    bia = small_bia()
    analysis = analyse(bia)
    order = {i.code: i for i in analysis.order}
    assert [i.code for i in analysis.order] == ["NET", "VIRT", "DPI", "LOG", "ORPHAN"]
    assert order["NET"].wave == 0
    assert order["VIRT"].wave == 1 and order["DPI"].wave == 1  # P1 band (RTO 2 h)
    assert order["LOG"].wave == 3  # P3 band (RTO 72 h)
    # parallel restores, each as soon as what it needs is back
    assert (order["VIRT"].start_seconds, order["VIRT"].end_seconds) == (HOUR, 3 * HOUR)
    assert (order["DPI"].start_seconds, order["DPI"].end_seconds) == (3 * HOUR, 6 * HOUR)
    assert order["DPI"].late and not order["LOG"].late
    assert [w.label for w in analysis.waves] == [
        "Vague 0 — socle de confiance",
        "Vague 1 — P1",
        "Vague 3 — P3",
        "Vague 4 — P4",
    ]


def test_trust_core_pulls_what_it_needs_into_wave_zero():
    bia = small_bia()
    bia.resources[1].trust_core = True  # VIRT needs NET: both in wave 0 anyway
    bia.resources.append(Resource("SITE", "Salle serveurs", "site", restore_seconds=0))
    bia.dependencies.append(Dependency("NET", "SITE"))
    order = {i.code: i for i in analyse(bia).order}
    assert order["SITE"].wave == 0 and order["SITE"].order < order["NET"].order


def test_cycles_are_blocking_and_their_resources_placed_last():
    bia = small_bia()
    bia.dependencies.append(Dependency("NET", "DPI"))
    analysis = analyse(bia)
    assert analysis.cycles == [["DPI", "VIRT", "NET", "DPI"]]
    messages = [str(p) for p in analysis.blocking]
    # no workbook rows here; the column is still named with its template letter
    assert "Dépendances, colonne B « Vers » : cycle de dépendances : DPI → VIRT → NET → DPI" in (
        messages
    )
    # LOG needs VIRT, which is on the cycle: placed after it, but not on the cycle itself
    flagged = [i.code for i in analysis.order if i.in_cycle]
    assert set(flagged) == {"DPI", "VIRT", "NET"}
    assert [i.code for i in analysis.order[-4:]].count("LOG") == 1
    # inheritance still reaches every node on the cycle
    got = {o.code: o for o in analysis.resources}
    assert got["NET"].required_rto_seconds == 2 * HOUR


def test_coverage_is_exact_and_inclusive():
    units = [
        CoverageUnit("A", "A", 66, "séjours", {"x"}),
        CoverageUnit("B", "B", 34, "séjours", set()),
    ]
    result = coverage(units, 0.66, required=["x"])
    assert result.share == Fraction(66, 100) and result.met
    assert result.missing == {"B": ["x"]}
    units[0].weight = 65.99
    assert not coverage(units, 0.66, required=["x"]).met


def test_coverage_counts_declared_absent_perimeters_and_refuses_mixed_units():
    units = [CoverageUnit("A", "A", 1, "lits", {"x"}, {"y"})]
    assert coverage(units, 0.66, required=["x", "y"]).met
    units.append(CoverageUnit("B", "B", 1, "séjours", {"x", "y"}))
    result = coverage(units, 0.5, required=["x", "y"])
    assert not result.met and "unités d'activité différentes" in result.problems[0]
    assert not coverage([], 0.66).met
    undone = coverage([CoverageUnit("A", "A", 1, "u", {"x"}, done=False)], 0.5, ["x"])
    assert undone.missing == {"A": ["not_done"]} and not undone.met


def test_example_bia_is_complete_and_covers_the_three_perimeters():
    analysis = analyse(example_bia())
    assert analysis.problems == []
    assert analysis.coverage.met
    assert {a.code: a.priority for a in analysis.activities} == {
        "URG": "P1",
        "LAB": "P2",
        "PAIE": "P4",
    }


def test_completeness_rules_block_validation_without_blocking_import():
    bia = small_bia()
    bia.activities[0].rto_seconds = 5 * HOUR  # DMIA of URG is 1 h
    analysis = analyse(bia)
    messages = [str(p) for p in analysis.problems]
    assert not analysis.blocking
    assert "Activités, colonne G « RTO (heures) » : URG : RTO (5 h) ≥ DMIA (1 h)" in messages
    assert any(m.startswith("Cotations : URG : 36 cotation(s) manquante(s)") for m in messages)
    assert "Besoins dégradés : URG : aucun besoin matériel en mode dégradé" in messages
    assert "Activités, colonne H « PDMA (heures) » : PAIE : PDMA non renseignée" not in messages
    bia.needs += [Need("URG", "material", "papier"), Need("URG", "human", "coursier")]
    messages = [str(p) for p in analyse(bia).problems]
    assert not any("URG : aucun besoin" in m for m in messages)


def test_unknown_codes_and_overrides_without_reason_are_blocking():
    bia = small_bia()
    bia.dependencies.append(Dependency("URG", "NOPE", row=9))
    bia.dependencies.append(Dependency("GHOST", "NET", row=10))
    bia.dependencies.append(Dependency("DPI", "PAIE", row=11))
    bia.activities[1].dmia_override_seconds = DAY
    messages = {str(p) for p in analyse(bia).blocking}
    assert "Dépendances, ligne 9, colonne B « Vers » : ressource « NOPE » inconnue" in messages
    assert (
        "Dépendances, ligne 10, colonne A « De » : « GHOST » n'est ni une activité ni une ressource"
        in messages
    )
    assert any(
        "ligne 11" in m and "une activité ne peut pas être une dépendance" in m for m in messages
    )
    assert any("DMIA forcée sans motif" in m for m in messages)


def test_durations_read_in_french():
    assert format_duration(None) == "non définie"
    assert format_duration(1800) == "30 min"
    assert format_duration(4 * HOUR) == "4 h"
    assert format_duration(36 * HOUR) == "36 h"
    assert format_duration(3 * DAY) == "3 j"
    assert format_duration(7 * DAY + 6 * HOUR) == "7 j 6 h"


def test_workbook_coverage_counts_entities_by_their_own_activities():
    from careops.continuity.engine.compute import bia_coverage
    from careops.continuity.engine.model import Entity

    bia = example_bia("111111111")
    bia.entities = [
        Entity("111111111", "CH A", 70, "séjours"),
        Entity("222222222", "CH B", 30, "séjours"),
    ]
    result = bia_coverage(bia)
    assert result.share == Fraction(7, 10) and result.met
    assert result.missing == {"222222222": ["not_done", *sorted(PERIMETERS)]}
    bia.entities[0].weight = 60
    bia.entities[1].weight = 40
    assert not bia_coverage(bia).met  # 60 % < 66 %
    bia.activities[2].entity = "222222222"  # payroll moved to CH B: neither is complete
    bia.entities[1].perimeters_absent = ("care_service_major_impact", "technical_platform")
    result = bia_coverage(bia)
    assert result.covered == ["222222222"] and result.missing == {
        "111111111": ["critical_admin_process"]
    }
