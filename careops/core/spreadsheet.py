"""Spreadsheet-safe cells for every CSV and XLSX export (no Django: engines use it too).

A cell whose text starts with ``= + - @``, a tab or a carriage return is read as a formula by
Excel and LibreOffice (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``): such text gets a leading
apostrophe, which spreadsheets show as plain text. Numbers (int, float, Decimal) and dates stay
typed; a string that is only a number (``-12,5``) is left as it is, since it cannot be a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE


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


def french_cell(value: Any) -> Any:
    """A CSV cell as French Excel reads it: decimals with a comma (``27,3``, where ``27.3``
    in a ``;`` file is taken for a date or text), dates as ``dd/mm/yyyy``."""
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


class SafeWriter:
    """``csv.writer`` whose rows go through ``safe_row``: the only CSV writer of exports. With
    the ``;`` delimiter (the default, as French Excel expects), decimals get a comma and dates
    the French form (``french_cell``)."""

    def __init__(self, stream, **kwargs):
        kwargs.setdefault("delimiter", ";")
        self._french = kwargs["delimiter"] == ";"
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        if self._french:
            row = [french_cell(value) for value in row]
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> SafeWriter:
    """A CSV writer (``;`` by default, as French Excel expects) that neutralises formulas."""
    return SafeWriter(stream, **kwargs)


def xml_text(value: Any) -> Any:
    """``value`` without the control characters an XLSX cannot hold (openpyxl raised
    IllegalCharacterError on them: one imported name with an escape or a vertical tab made
    every export of the structure's scope a 500)."""
    return CONTROL.sub("", value) if isinstance(value, str) else value


def append_row(sheet, row: Iterable[Any]) -> None:
    """``sheet.append(row)`` for an openpyxl worksheet, formulas neutralised, control characters
    removed; dates stay typed and show as ``dd/mm/yyyy``."""
    # control characters go first: « \x1b=HYPERLINK(…) » must not become a formula once cleaned
    sheet.append(safe_row(xml_text(value) for value in row))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "DD/MM/YYYY HH:MM"
        elif isinstance(cell.value, dt.date):
            cell.number_format = "DD/MM/YYYY"


# --- reading uploaded tables ------------------------------------------------------------------

EXCEL_MAX_ROWS, EXCEL_MAX_COLUMNS = 1_048_576, 16_384  # a worksheet's limits


class SheetError(ValueError):
    """An uploaded CSV or XLSX that careops refuses to read further (message in French, naming
    the file and the line); each reader turns it into its own error."""


def csv_problem(exc: csv.Error) -> str:
    """The French reason of a ``csv.Error`` (the module's own messages are in English)."""
    if "field larger than field limit" in str(exc):
        return (
            f"cellule de plus de {csv.field_size_limit()} caractères (ce fichier est-il bien "
            "l'export attendu ?)"
        )
    return f"ligne CSV illisible ({exc})"


def checked_csv_rows(
    rows: Iterable[list[str]], name: str, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of a ``csv.reader``, refused in French (``SheetError``) at a NUL
    character (PostgreSQL stores none), at a quote never closed (the rest of the file read as
    one value) and at what the csv module cannot read (a cell beyond its size limit)."""
    line = first_line - 1
    try:
        for line, cells in enumerate(rows, start=first_line):
            joined = "".join(cells)  # one search for the row, not one per cell
            if "\n" in joined or "\r" in joined:
                raise SheetError(
                    f"{name}, ligne {line} : guillemet ouvrant sans guillemet fermant (le reste du "
                    "fichier serait lu comme une seule valeur) ; corrigez la ligne ou exportez de "
                    "nouveau le fichier"
                )
            if "\x00" in joined:
                raise SheetError(
                    f"{name}, ligne {line} : caractère nul (octet 0) : ce n'est pas un fichier "
                    "texte ; exportez-le de nouveau en CSV"
                )
            yield line, cells
    except csv.Error as exc:
        raise SheetError(f"{name}, ligne {line + 1} : {csv_problem(exc)}") from exc


def used_width(values: Iterable[Any]) -> int:
    """The number of columns up to the last non-empty value (a header row's useful width)."""
    width = 0
    for position, value in enumerate(values, start=1):
        if value is not None and str(value).strip():
            width = position
    return width


def xlsx_rows(sheet, name: str, min_row: int = 1, max_col: int | None = None) -> Iterator[tuple]:
    """(row number, values) of a read-only openpyxl worksheet from ``min_row``, each row only
    ``max_col`` wide (openpyxl pads a row up to its last cell: one cell in column XFD made every
    row 16,384 values), refused in French (``SheetError``) past Excel's last row (openpyxl fills
    a jump to row 2,000,000,000 one empty row at a time: minutes for a 4 KB file)."""
    rows = sheet.iter_rows(min_row=min_row, max_col=max_col, values_only=True)
    for line, values in enumerate(rows, start=min_row):
        if line > EXCEL_MAX_ROWS:
            raise SheetError(
                f"{name} : ligne {line} au-delà de la dernière ligne d'Excel ({EXCEL_MAX_ROWS}) : "
                "classeur endommagé ; enregistrez-le de nouveau depuis le tableur, ou exportez-le "
                "en CSV"
            )
        yield line, values
