"""Timestamps of backup tools: nanoseconds, ``Z`` and naive local times."""

from __future__ import annotations

import datetime as dt
import re

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: str) -> dt.datetime:
    """Parse a restic/borg/job-report timestamp into an aware datetime.

    restic writes nanoseconds and ``Z`` (Python 3.11 accepts at most microseconds); borg 1.2
    writes local time without an offset, read here in the machine's time zone.
    """
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    return parsed
