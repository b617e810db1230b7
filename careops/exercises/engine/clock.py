"""The exercise clock and the observers' grid summary: pure functions over what was recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def elapsed_seconds(accumulated: int, running_since: dt.datetime | None, now: dt.datetime) -> int:
    """Exercise time: the seconds banked before the last pause, plus the current run if any."""
    if running_since is None:
        return accumulated
    return accumulated + max(0, int((now - running_since).total_seconds()))


def format_elapsed(seconds: int) -> str:
    """« 1 h 05 min 09 s » style, as the main courante shows it: T+01:05:09."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"T+{hours:02d}:{minutes:02d}:{secs:02d}"


@dataclass(frozen=True)
class CriterionResult:
    id: str
    text: str
    mean: float | None
    ratings: int
    comments: tuple[str, ...]


def grid_results(
    criteria: list[dict], ratings: list[tuple[str, int | None, str]], scale_max: int
) -> tuple[list[CriterionResult], float | None]:
    """Per criterion the mean of the observers' ratings (unrated ones left out) and their
    comments; overall, the mean of the criterion means as a share of the scale's top."""
    results = []
    for criterion in criteria:
        mine = [(v, c) for cid, v, c in ratings if cid == criterion["id"]]
        values = [v for v, _ in mine if v is not None]
        results.append(
            CriterionResult(
                criterion["id"],
                criterion["text"],
                sum(values) / len(values) if values else None,
                len(values),
                tuple(c for _, c in mine if c),
            )
        )
    means = [r.mean for r in results if r.mean is not None]
    overall = (sum(means) / len(means)) / scale_max if means and scale_max else None
    return results, overall
