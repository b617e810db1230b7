"""Hostile workbooks given to the sign-in sheet, headcount and HospiConnect readers (they share
careops/hospiconnect/engine/tables.py): the work done stays in proportion to the file."""

import datetime as dt

import pytest

from careops.awareness.engine import training
from careops.hospiconnect.engine import tables

TODAY = dt.date(2026, 12, 1)


class CountedRanges(list):
    """The merged ranges of one column, counting how many times a reader walks them."""

    walks = 0

    def __iter__(self):
        CountedRanges.walks += 1
        return super().__iter__()


def test_merged_cells_are_walked_once_not_once_per_row(tmp_path, monkeypatch):
    """Thousands of merged cells over thousands of rows took minutes (a 600 KB sign-in sheet
    with 16,000 merges over 32,000 rows: 25 s of one worker; 10 MB: hours): every row went
    through every merged range of the sheet."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nom", "Profession", "Date", "Présence"])
    for number in range(400):
        sheet.append(
            [f"AGENT{number}", "Infirmier", "12/03/2026" if number % 2 == 0 else None, "oui"]
        )
    for first in range(2, 402, 2):
        sheet.merge_cells(f"C{first}:C{first + 1}")  # the date written once per pair of rows
    path = tmp_path / "emargement.xlsx"
    book.save(path)

    read_merges = tables._vertical_merges

    def counted(*args):
        return {column: CountedRanges(ranges) for column, ranges in read_merges(*args).items()}

    monkeypatch.setattr(tables, "_vertical_merges", counted)
    CountedRanges.walks = 0
    read = training.read_sheet(path, today=TODAY)
    assert len(read.rows) == 400
    assert {r.date for r in read.rows} == {dt.date(2026, 3, 12)}  # every merged date carried
    assert CountedRanges.walks <= 1


def test_a_merged_range_carries_only_inside_itself(tmp_path):
    """A cell left empty below a merged range that ended is not filled from that range."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nom", "Profession", "Structure"])
    sheet.append(["DUPONT", "Infirmier", "CH Bêta"])
    sheet.append(["MARTIN", "Infirmier", None])
    sheet.append(["LEROY", "Médecin", None])  # after the range C2:C3
    sheet.merge_cells("C2:C3")
    path = tmp_path / "emargement.xlsx"
    book.save(path)
    read = training.read_sheet(path, default_date=dt.date(2026, 3, 1), today=TODAY)
    assert [(r.last_name, r.structure) for r in read.rows] == [
        ("DUPONT", "CH Bêta"),
        ("MARTIN", "CH Bêta"),
        ("LEROY", ""),
    ]
