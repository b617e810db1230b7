"""Whether a guichet (window) is open at a given instant."""

from __future__ import annotations

from datetime import date, datetime

from .dates import day_in, instant_in
from .schema import Window


def window_is_open(window: Window, instant: datetime | date) -> bool:
    """True when ``instant`` falls inside the window, bounds included.

    A date bound covers its whole Paris day (a window closing on 31/10 is open until 23:59:59.999
    that day); a datetime bound is exact. A naive datetime is read as Paris wall time. An
    unknown bound (to be confirmed) leaves that side open. A plain date asks whether the window
    is open on that Paris calendar day at all.
    """
    if isinstance(instant, datetime):
        return instant_in(instant, window.opens, window.closes)
    return day_in(instant, window.opens, window.closes)
