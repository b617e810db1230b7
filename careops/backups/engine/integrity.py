"""Integrity with rotating data subsets: over ``t`` runs, every part of the data is read once."""

from __future__ import annotations

import datetime as dt


def next_subset(previous: int | None, cycle: int) -> int:
    """The subset number (1..cycle) to read after ``previous`` (None: start the cycle)."""
    if cycle < 1:
        raise ValueError("cycle must be ≥ 1")
    if previous is None or previous < 1 or previous >= cycle:
        return 1
    return previous + 1


def subset_for_day(day: dt.date, cycle: int) -> int:
    """A subset number derived from the date, for runs that keep no state."""
    return day.toordinal() % cycle + 1


def cycle_coverage(history: list[int], cycle: int) -> float:
    """Share of the cycle's subsets read successfully in the last ``cycle`` runs."""
    if cycle < 1:
        return 0.0
    return len(set(history[-cycle:]) & set(range(1, cycle + 1))) / cycle
