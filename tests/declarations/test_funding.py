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
