"""The referential shipped with careops: it validates, and it encodes the programme's rules."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from careops.catalogue.engine import (
    PARIS,
    DomainVersion,
    default_directory,
    dump_domain,
    load_referential,
    normalize_item_id,
    validate,
    window_is_open,
)
from careops.catalogue.engine.schema import (
    AttestationCriterion,
    AuditLevelCriterion,
    AuditSeriesCriterion,
    ConditionalCriterion,
    CoverageCriterion,
    DocumentCriterion,
    EventInPeriodCriterion,
    IndicatorCriterion,
    TrajectoryCriterion,
)


@pytest.fixture(scope="module")
def referential():
    return load_referential()


def test_shipped_referential_has_no_problem():
    assert validate([default_directory()]) == []


def test_every_domain_is_loaded(referential):
    assert referential.codes() == ["AAPMS", "D1", "D1BIS", "D2", "D3", "HOSPICONNECT"]
    # issue 13 revised D1, D2 and HospiConnect as 1.1; version 1 stays for dossiers filed on it
    for code in ("D1", "D2", "HOSPICONNECT"):
        assert referential.versions(code) == ["1", "1.1"]
        assert referential.domain(code).version == "1.1"
    assert referential.domain("D3").status == "draft"
    assert referential.domain("AAPMS").status == "draft"
    assert referential.domain("d1 bis").domain == "D1BIS"
    assert referential.domain("D2", "v1").version == "1"


def test_unknown_domain_or_version_is_a_french_key_error(referential):
    with pytest.raises(KeyError, match="domaine inconnu"):
        referential.domain("D9")
    with pytest.raises(KeyError, match="version inconnue"):
        referential.domain("D2", "7")


@pytest.mark.parametrize("spelling", ["D2.O3.B", "D2.03.B", "d2.o3.b", " d2.03.b "])
def test_item_ids_normalise(spelling, referential):
    assert normalize_item_id(spelling) == "D2.O3.B"
    assert referential.domain("D2").item(spelling).title.startswith("Trajectoire")


@pytest.mark.parametrize("bad", ["", "D2", "D2..O1", "D2.O1!"])
def test_invalid_item_ids_are_rejected(bad):
    with pytest.raises(ValueError, match="identifiant invalide"):
        normalize_item_id(bad)


def test_d2_items_are_complete(referential):
    ids = [item.id for item in referential.domain("D2").items]
    assert ids == [
        "D2.P1", "D2.P2", "D2.O1", "D2.O1.A", "D2.O1.B", "D2.O1.C", "D2.O1.D",
        "D2.O2", "D2.O2.A", "D2.O2.B", "D2.O3", "D2.O3.A", "D2.O3.B", "D2.O3.C",
        "D2.O3.D", "D2.O4",
    ]  # fmt: skip
    for item in referential.domain("D2").items:
        assert item.sources, item.id
        assert item.confidence, item.id


def test_d2_rules_are_typed_criteria(referential):
    d2 = referential.domain("D2")
    (p1,) = d2.item("D2.P1").criteria
    assert isinstance(p1, DocumentCriterion)
    assert p1.validated_by == "legal_representative"
    assert p1.period.start.day == date(2022, 7, 16)
    assert p1.period.end.event == "candidacy_date"
    (o2a,) = d2.item("D2.O2.A").criteria
    assert o2a.period.start.day == date(2022, 7, 16) and o2a.period.end.event == "filing_date"
    bia, pcra = d2.item("D2.O1.C").criteria
    assert isinstance(bia, CoverageCriterion) and bia.threshold == 0.66
    assert set(bia.required_perimeters) == {
        "care_service_major_impact", "technical_platform", "critical_admin_process"
    }  # fmt: skip
    exercise, plan, coverage = d2.item("D2.O1.D").criteria
    assert plan.evidence_kind == "pca_test_plan"
    assert isinstance(exercise, EventInPeriodCriterion)
    assert exercise.period.start.event == "operational_phase_start"
    assert isinstance(coverage, CoverageCriterion) and coverage.threshold == 0.66
    roles, two_fa, dedicated = d2.item("D2.O3.A").criteria
    assert isinstance(two_fa, AttestationCriterion)
    assert two_fa.options["not_supported"].required_attributes == ["product", "version"]
    assert isinstance(dedicated, ConditionalCriterion)
    assert dedicated.when.fact == "dedicated_backup_ad"
    (ads,) = dedicated.criteria
    assert isinstance(ads, AuditLevelCriterion)
    assert (ads.min_level, ads.within_days, ads.reference.event) == (3, 60, "filing_date")
    for item_id in ("D2.O3.B", "D2.O3.C"):
        trajectory = next(
            c for c in d2.item(item_id).criteria if isinstance(c, TrajectoryCriterion)
        )
        assert trajectory.max_years == 3 and trajectory.strict
    restore, related = d2.item("D2.O4").criteria
    assert restore.required_attributes == ["business_referent", "scope"]
    assert (related.related_kind, related.related_attribute) == ("bia", "critical_activities")
    assert d2.events["operational_phase_start"].date == date(2025, 7, 16)


def test_d2_windows(referential):
    windows = referential.domain("D2").windows
    assert windows.candidacy.opens == date(2025, 9, 2)
    assert windows.candidacy.closes == date(2025, 10, 31)
    assert windows.declaration.opens == date(2026, 1, 16)
    assert windows.declaration.closes is None and windows.declaration.to_confirm
    assert window_is_open(windows.candidacy, datetime(2025, 10, 31, 23, 59, tzinfo=PARIS))
    assert not window_is_open(windows.candidacy, datetime(2025, 11, 1, 0, 0, tzinfo=PARIS))
    assert window_is_open(windows.declaration, date(2030, 1, 1))


def test_d1_rules(referential):
    d1 = referential.domain("D1")
    (series,) = d1.item("D1.O2.B").criteria
    assert isinstance(series, AuditSeriesCriterion)
    assert (series.count, series.min_gap_days, series.max_gap_days) == (2, 45, 60)
    assert d1.item("D1.O1.A").criteria[0].evidence_kind == "ads_audit"
    for item_id in ("D1.O1.B", "D1.O2.A", "D1.O3", "D1.O4"):
        assert d1.item(item_id).to_confirm
    (ght,) = d1.item("D1.O6.B").criteria
    (converged,) = ght.criteria
    assert converged.when.fact == "ad_already_converged" and converged.otherwise
    w = d1.windows
    assert (w.candidacy.opens, w.candidacy.closes) == (date(2024, 3, 18), date(2024, 4, 19))
    assert w.declaration.closes == date(2025, 6, 30)
    assert w.ars_instruction.closes == date(2025, 9, 30)
    assert w.ans_instruction.closes == date(2025, 12, 31)
    assert "juin 2026" in w.ans_instruction.note
    assert w.payment.closes == date(2026, 6, 30)


def test_d1bis_eligibility_and_reused_objectives(referential):
    d1bis = referential.domain("D1BIS")
    assert d1bis.eligibility.finess_categories == ["146"]
    assert d1bis.eligibility.catch_up is False
    assert any("mixtes" in text for text in d1bis.eligibility.exclusions)
    assert any("Îles du Nord" in text for text in d1bis.eligibility.categories)
    assert d1bis.windows.candidacy.opens == date(2026, 2, 13)
    assert all(item.to_confirm for item in d1bis.items if item.kind != "group")
    assert d1bis.has_item("D1BIS.O2.B")


def test_hospiconnect_indicators(referential):
    hc = referential.domain("HOSPICONNECT")
    targets = {}
    for item in hc.items:
        for criterion in item.criteria:
            if isinstance(criterion, IndicatorCriterion):
                targets[item.id] = criterion.target
    assert targets["HC.2027.2.1"] == 0.75 and targets["HC.2028.2.1"] == 0.90
    assert targets["HC.2027.2.2"] == 0.40 and targets["HC.2028.2.2"] == 0.60
    assert "HC.2027.1.3" in targets and "HC.2028.1.3" in targets
    assert hc.has_item("hc.2026.cadrage")
    assert hc.windows.candidacy.opens == date(2026, 1, 20)


def test_programme_calendar(referential):
    events = {event.id: event for event in referential.programme.events}
    assert events["d2_declaration_open"].date == date(2026, 1, 16)
    assert events["d1_payment_close"].date == date(2026, 6, 30)
    assert events["d1bis_candidacy_open"].date == date(2026, 2, 13)
    assert all(event.sources or event.to_confirm for event in events.values())


def test_dump_domain_is_plain_json(referential):
    dumped = dump_domain(referential.domain("D2"))
    text = json.dumps(dumped, ensure_ascii=False)
    assert dumped["windows"]["candidacy"]["opens"] == "2025-09-02"
    p1 = dumped["items"][0]
    assert p1["criteria"][0]["period"] == {"from": "2022-07-16", "to": "candidacy_date"}
    assert "D2.O3.A" in text


def test_dump_domain_round_trips_through_json(referential):
    # The web app stores dump_domain() as JSON and rebuilds the DomainVersion from it.
    for code in referential.codes():
        for version in referential.versions(code):
            domain = referential.domain(code, version)
            rebuilt = DomainVersion.model_validate(json.loads(json.dumps(dump_domain(domain))))
            assert rebuilt == domain
