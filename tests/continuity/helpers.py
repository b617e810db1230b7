"""Workbook helpers for the continuity tests."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from careops.continuity.engine.example import example_bia
from careops.continuity.engine.workbook import workbook_bytes


def example_workbook():
    """The filled example workbook, opened for editing."""
    return load_workbook(io.BytesIO(workbook_bytes(example_bia())))


def to_bytes(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def find_row(ws, first_value: str, second_value: str | None = None) -> int:
    """The row number whose first cell (and second, if given) hold these values."""
    for row in ws.iter_rows(min_row=2):
        if row[0].value == first_value and (second_value is None or row[1].value == second_value):
            return row[0].row
    raise AssertionError(f"{first_value} not found in {ws.title}")


def normalised(bia) -> dict:
    """A BIA as comparable data: workbook rows dropped, lists sorted (order carries no meaning)."""

    def plain(item) -> dict:
        data = dict(vars(item))
        data.pop("row", None)
        data.pop("rating_rows", None)
        return data

    def key(data: dict) -> str:
        return repr(sorted(data.items(), key=lambda kv: kv[0]))

    return {
        name: sorted((plain(i) for i in getattr(bia, name)), key=key)
        for name in ("activities", "resources", "dependencies", "needs", "entities")
    } | {"method": bia.method}
