"""Spreadsheet-safe cells for every CSV and XLSX export (no Django: engines use it too).

A cell whose text starts with ``= + - @``, a tab or a carriage return is read as a formula by
Excel and LibreOffice (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``): such text gets a leading
apostrophe, which spreadsheets show as plain text. Numbers (int, float, Decimal) and dates stay
typed; a string that is only a number (``-12,5``) is left as it is, since it cannot be a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` itself, or text prefixed with ``'`` when a spreadsheet would run it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of ``row`` through ``safe_cell``."""
    return [safe_cell(value) for value in row]


def unescape_cell(value: Any) -> Any:
    """Undo ``safe_cell`` when a careops workbook is read back (imports)."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


class SafeWriter:
    """``csv.writer`` whose rows go through ``safe_row``: the only CSV writer of exports."""

    def __init__(self, stream, **kwargs):
        kwargs.setdefault("delimiter", ";")
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> SafeWriter:
    """A CSV writer (``;`` by default, as French Excel expects) that neutralises formulas."""
    return SafeWriter(stream, **kwargs)


def append_row(sheet, row: Iterable[Any]) -> None:
    """``sheet.append(row)`` for an openpyxl worksheet, formulas neutralised."""
    sheet.append(safe_row(row))
