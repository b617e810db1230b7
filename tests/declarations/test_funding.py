"""Properties of the default funding formula."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from careops.catalogue.engine.schema import DomainVersion
from careops.declarations import funding
from tests.declarations.conftest import DOMAIN

TEST_DOMAIN = DomainVersion.model_validate(DOMAIN)
ITEMS = ["D2.P1", "D2.O1.A", "D2.O1.B"]
attainment = st.fixed_dictionaries({code: st.sampled_from([True, False, None]) for code in ITEMS})
ceilings = st.decimals(min_value=0, max_value=10_000_000, places=2)


@given(attainment, ceilings)
def test_amount_is_between_zero_and_the_ceiling(met, ceiling):
    result = funding.compute(TEST_DOMAIN, met, ceiling)
    assert 0 <= result["share"] <= 1
    assert Decimal(0) <= Decimal(result["amount_eur"]) <= ceiling
    assert result["to_confirm"] and any("à confirmer" in s for s in result["steps"])


@given(attainment, ceilings, st.sampled_from(["D2.O1.A", "D2.O1.B"]))
def test_meeting_one_more_objective_never_lowers_the_amount(met, ceiling, code):
    before = funding.compute(TEST_DOMAIN, {**met, code: False}, ceiling)
    after = funding.compute(TEST_DOMAIN, {**met, code: True}, ceiling)
    assert Decimal(after["amount_eur"]) >= Decimal(before["amount_eur"])


def test_a_prerequisite_not_met_gates_everything():
    result = funding.compute(
        TEST_DOMAIN, {"D2.P1": False, "D2.O1.A": True, "D2.O1.B": True}, Decimal(1000)
    )
    assert result["amount_eur"] == "0.00"


def test_weights_are_applied_and_shown():
    result = funding.compute(
        TEST_DOMAIN, {"D2.P1": True, "D2.O1.A": False, "D2.O1.B": True}, Decimal(90000)
    )
    assert result["amount_eur"] == "60000.00"
    assert "poids des objectifs atteints 2 / poids total 3" in result["steps"][0]


def test_without_a_complete_ads_audit_nothing_of_d1_is_due():
    """S14 (FAQ ANS): the ADS audit is mandatory to receive any D1 funding; the rule is data
    (``mandatory_for_funding`` on D1.O1.A in d1-v1.1.yaml), shown in the funding steps."""
    from careops.catalogue.engine import load_referential

    d1 = load_referential().domain("D1", "1.1")
    met = {item.id: True for item in d1.items if item.kind != "group"}
    everything = funding.compute(d1, met, Decimal(1000))
    assert everything["share"] == 1 and everything["blocked_by"] == []
    without = funding.compute(d1, {**met, "D1.O1.A": False}, Decimal(1000))
    assert without["share"] == 0 and without["amount_eur"] == "0.00"
    (reason,) = without["blocked_by"]
    assert reason.startswith("D1.O1.A « Audit ADS de l'Active Directory réalisé » non atteint")
    assert "obligatoire pour percevoir tout financement du domaine D1 (source S14" in reason
    assert any(step.startswith(reason) for step in without["steps"])
    # version 1, which dossiers already filed keep, had no such rule
    d1_v1 = load_referential().domain("D1", "1")
    assert funding.compute(d1_v1, {**met, "D1.O1.A": False}, Decimal(1000))["share"] > 0


def test_dashboard_names_the_items_without_which_nothing_is_due(db):
    from careops.catalogue import services as catalogue
    from careops.catalogue.engine import loader
    from careops.declarations import dashboards

    catalogue.load_paths([loader.default_directory()])
    objectives = {"D1.O1.A": {"met": 3, "applicable": 5, "total": 5}}
    (gate,) = dashboards._funding_gates("D1", objectives)
    assert (gate["id"], gate["declared"], gate["not_met"]) == ("D1.O1.A", 5, 2)
    assert "obligatoire pour percevoir tout financement du domaine D1" in gate["reason"]
    assert dashboards._funding_gates("D2", {}) == []
