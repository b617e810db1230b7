"""Window boundaries in Europe/Paris: the minute before opening and after closing, across both
DST changes (candidacy opens on 26/10/2025, the autumn change, and closes on 29/03/2026, the
spring change; the declaration window closes on 25/10/2026, the next autumn change)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from careops.declarations import services
from careops.declarations.choices import State
from tests.declarations.conftest import APPLY_AT, VALIDATE_AT

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# 26/10/2025 00:00 Paris is still summer time (UTC+2): 25/10 22:00 UTC.
# 29/03/2026 23:59 Paris is already summer time (UTC+2): 21:59 UTC (22:59 UTC would be wrong).
CANDIDACY_CASES = [
    (at(2025, 10, 25, 21, 59), False),
    (at(2025, 10, 25, 22, 0), True),
    (at(2026, 3, 29, 21, 59), True),
    (at(2026, 3, 29, 22, 0), False),
    (at(2026, 3, 29, 22, 1), False),
]


@pytest.mark.parametrize(("instant", "is_open"), CANDIDACY_CASES)
def test_candidacy_window_boundaries(instant, is_open, org_tree, version, people):
    if is_open:
        assert (
            services.apply(people.rssi, org_tree.ght, version, now=instant).state
            == State.CANDIDACY_SUBMITTED
        )
    else:
        with pytest.raises(ValidationError) as caught:
            services.apply(people.rssi, org_tree.ght, version, now=instant)
        text = caught.value.messages[0]
        assert "guichet de candidature" in text
        assert "du 26/10/2025 au 29/03/2026 inclus (heure de Paris)" in text


# Declaration: opens 30/03/2026 09:00 Paris (UTC+2 → 07:00 UTC); closes 25/10/2026 inclusive,
# after the autumn change (UTC+1): last minute 23:59 Paris = 22:59 UTC.
DECLARATION_CASES = [
    (at(2026, 3, 30, 6, 59), False, "pas encore ouvert"),
    (at(2026, 3, 30, 7, 0), True, ""),
    (at(2026, 10, 25, 22, 59), True, ""),
    (at(2026, 10, 25, 23, 0), False, "fermé"),
    (at(2026, 10, 25, 23, 1), False, "fermé"),
]


@pytest.mark.parametrize(("instant", "is_open", "why"), DECLARATION_CASES)
def test_declaration_window_boundaries(instant, is_open, why, validated, people):
    if is_open:
        services.file_declaration(
            people.rssi, validated, "M. Durand", "Directeur", True, now=instant
        )
        validated.refresh_from_db()
        assert validated.state == State.DECLARED
        return
    with pytest.raises(ValidationError) as caught:
        services.file_declaration(
            people.rssi, validated, "M. Durand", "Directeur", True, now=instant
        )
    text = caught.value.messages[0]
    assert why in text and "du 30/03/2026 09:00 au 25/10/2026 inclus" in text
    validated.refresh_from_db()
    assert validated.state == State.CANDIDACY_VALIDATED


def test_actions_follow_the_windows(validated, people):
    assert services.actions_for(people.rssi, validated, now=at(2026, 3, 30, 7, 0))["file"]
    assert not services.actions_for(people.rssi, validated, now=at(2026, 3, 30, 6, 59))["file"]
    assert not services.actions_for(people.ars, validated, now=at(2026, 3, 30, 7, 0))["file"]


def test_instants_used_by_the_fixtures_are_inside_their_windows():
    assert APPLY_AT < VALIDATE_AT
