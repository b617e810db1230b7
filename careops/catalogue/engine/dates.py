"""Calendar helpers: Europe/Paris dates and instants, parsing and French formatting.

Every date of the programme is a calendar date in Europe/Paris. Instants (datetimes) are always
compared in UTC, because Python compares two datetimes sharing the same tzinfo by wall time,
which is wrong during the autumn DST fold.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: object) -> date:
    """Parse an ISO calendar date (AAAA-MM-JJ); an aware datetime gives its Paris date."""
    if isinstance(value, datetime):
        return to_paris(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if _DATE_RE.match(text):
                return date.fromisoformat(text)
            return to_paris(datetime.fromisoformat(text)).date()
        except ValueError:
            pass
    raise ValueError(f"date invalide : « {value} » (format attendu AAAA-MM-JJ)")


def parse_date_or_datetime(value: object) -> date | datetime:
    """Parse a date, or a datetime made tz-aware in Europe/Paris (naive values are Paris time)."""
    if isinstance(value, datetime):
        return to_paris(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if _DATE_RE.match(text):
                return date.fromisoformat(text)
            return to_paris(datetime.fromisoformat(text))
        except ValueError:
            pass
    raise ValueError(
        f"date invalide : « {value} » (format attendu AAAA-MM-JJ ou AAAA-MM-JJTHH:MM, heure de Paris)"
    )


def to_paris(moment: datetime) -> datetime:
    """Return an aware Europe/Paris datetime; a naive value is read as Paris wall time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=PARIS)
    return moment.astimezone(PARIS)


def start_of_day(day: date) -> datetime:
    """The first instant of a Paris calendar day (aware)."""
    return datetime.combine(day, time(0), tzinfo=PARIS)


def lower_instant(bound: date | datetime) -> datetime:
    """The first instant covered by a window that opens at ``bound``."""
    if isinstance(bound, datetime):
        return to_paris(bound)
    return start_of_day(bound)


def upper_instant_exclusive(bound: date | datetime) -> datetime:
    """The first instant no longer covered by a window that closes at ``bound`` (inclusive)."""
    if isinstance(bound, datetime):
        return to_paris(bound) + timedelta(microseconds=1)
    return start_of_day(bound + timedelta(days=1))


def instant_in(
    instant: datetime, opens: date | datetime | None, closes: date | datetime | None
) -> bool:
    """Whether ``instant`` lies in [opens ; closes], both inclusive, None meaning unbounded."""
    moment = to_paris(instant).astimezone(UTC)
    if opens is not None and moment < lower_instant(opens).astimezone(UTC):
        return False
    return not (closes is not None and moment >= upper_instant_exclusive(closes).astimezone(UTC))


def day_in(day: date, opens: date | datetime | None, closes: date | datetime | None) -> bool:
    """Whether a Paris calendar day falls in [opens ; closes], comparing calendar days."""
    if opens is not None and day < as_day(opens):
        return False
    return not (closes is not None and day > as_day(closes))


def as_day(value: date | datetime) -> date:
    """The Paris calendar day of a date or datetime."""
    if isinstance(value, datetime):
        return to_paris(value).date()
    return value


def add_years(day: date, years: int) -> date:
    """Same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def fmt_date(day: date | datetime) -> str:
    """French display of a date: dd/mm/yyyy (datetimes also show HH:MM, Paris time)."""
    if isinstance(day, datetime):
        local = to_paris(day)
        return local.strftime("%d/%m/%Y %H:%M")
    return day.strftime("%d/%m/%Y")


def fmt_pct(ratio: float) -> str:
    """French display of a ratio as a percentage: 0.66 -> '66 %', 0.665 -> '66,5 %'."""
    value = round(ratio * 100, 1)
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text} %"


def fmt_eur(value) -> str:
    """French display of an amount: 250000 -> '250 000,00 €' (narrow no-break spaces)."""
    if value is None or value == "":
        return "—"
    text = f"{float(value):,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"


def fmt_number(value: float) -> str:
    """French display of a number: integers plain, decimals with a comma."""
    if float(value) == int(value):
        return str(int(value))
    return f"{value:g}".replace(".", ",")
