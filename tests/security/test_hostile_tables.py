"""Hostile workbooks given to the sign-in sheet, headcount and HospiConnect readers (they share
careops/hospiconnect/engine/tables.py): the work done stays in proportion to the file."""

import datetime as dt
import io
from pathlib import Path

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


def test_a_nul_character_in_a_csv_is_refused_by_the_reader(tmp_path):
    """Every reader of tables.py (sign-in sheets, headcounts, HospiConnect exports)."""
    path = tmp_path / "emargement.csv"
    path.write_bytes(
        b"Nom;Profession;Date\nDUPONT;Infirmier;12/03/2026\nMAR\x00TIN;IDE;12/03/2026\n"
    )
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(path, today=TODAY)
    assert "ligne 3 : caractère nul" in str(caught.value)


# --- through the API, as a contributor of a structure would send them ---------------------------


def headcounts(api, organisation, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post_form(
        "/api/awareness/headcounts/import",
        {"organisation": organisation.pk, "sheet": SimpleUploadedFile("effectifs.csv", content)},
    )


@pytest.mark.parametrize(
    ("cell", "said"),
    [
        (b"9" * 5000, "au plus 1000000"),  # int() refused 5,000 digits: a 500
        (b"99999999999999999999", "au plus 1000000"),  # beyond the column: a 500
        (b"1000001", "au plus 1000000"),
    ],
)
def test_an_absurd_headcount_is_refused_in_french(org_tree, make_user, cell, said):
    from careops.awareness.models import StaffHeadcount
    from tests.api.conftest import Api

    api = Api(make_user("contributor", org_tree.ej_b))
    answer = headcounts(api, org_tree.ej_b, b"Profession;Effectif\nInfirmier;" + cell + b"\n")
    assert answer.status_code == 422, answer.content
    assert said in answer.json()["detail"]
    assert not StaffHeadcount.objects.exists()


def test_an_overlong_profession_is_refused_in_french(org_tree, make_user):
    """The column holds 150 characters: PostgreSQL answered a longer profession with a 500."""
    from careops.awareness.models import StaffHeadcount
    from tests.api.conftest import Api

    api = Api(make_user("contributor", org_tree.ej_b))
    answer = headcounts(api, org_tree.ej_b, b"Profession;Effectif\n" + b"P" * 151 + b";3\n")
    assert answer.status_code == 422
    assert "151 caractères" in answer.json()["detail"]
    assert not StaffHeadcount.objects.exists()


def test_a_nul_character_far_in_the_file_is_refused(org_tree, make_user):
    """Only the first 64 KiB were looked at: a NUL further on reached PostgreSQL (a 500)."""
    from careops.awareness.models import StaffHeadcount
    from tests.api.conftest import Api

    api = Api(make_user("contributor", org_tree.ej_b))
    lines = b"".join(b"Profession %d;1\n" % number for number in range(6000))
    answer = headcounts(api, org_tree.ej_b, b"Profession;Effectif\n" + lines + b"Aide\x00;2\n")
    assert answer.status_code == 422
    assert "n'est pas un fichier texte" in answer.json()["detail"]
    assert not StaffHeadcount.objects.exists()


def test_a_large_headcount_file_takes_a_few_queries_not_some_per_row(
    org_tree, make_user, django_assert_max_num_queries
):
    """Each row read every headcount of its structure again (2,000 rows: 40 s; 10 MB: days);
    a re-import still replaces each profession, named by FINESS or by name."""
    from careops.awareness.models import StaffHeadcount
    from tests.api.conftest import Api

    api = Api(make_user("contributor", org_tree.ej_b))
    first = b"".join(b"Profession %d;1\n" % number for number in range(2000))
    assert headcounts(api, org_tree.ej_b, b"Profession;Effectif\n" + first).status_code == 200
    again = b"".join(b"PROFESSION %d;2\n" % number for number in range(0, 2000, 2))
    with django_assert_max_num_queries(40):
        answer = headcounts(api, org_tree.ej_b, b"Profession;Effectif\n" + again)
    assert answer.status_code == 200 and answer.json() == {"rows": 1000}
    assert StaffHeadcount.objects.count() == 2000
    assert StaffHeadcount.objects.filter(headcount=2).count() == 1000
    assert not StaffHeadcount.objects.filter(profession="Profession 0").exists()
    assert StaffHeadcount.objects.filter(profession="PROFESSION 0", headcount=2).exists()


def test_an_imported_control_character_does_not_break_the_xlsx_export(org_tree, make_user, client):
    """A profession with an escape or a vertical tab (accepted by the CSV reader) made openpyxl
    raise IllegalCharacterError: the share export of the whole scope answered 500."""
    from openpyxl import load_workbook

    from tests.api.conftest import Api

    user = make_user("es_rssi", org_tree.ej_b)
    sent = b'Profession;Effectif\nInfir\x1bmier\x0b;3\n\x1b=HYPERLINK("http://evil.test");2\n'
    assert headcounts(Api(user), org_tree.ej_b, sent).status_code == 200
    client.force_login(user)
    answer = client.get(
        "/sensibilisation/parts/export.xlsx",
        {"organisation": org_tree.ej_b.pk, "end": "2026-11-30"},
    )
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    professions = {c.value for c in cells}
    assert "Infirmier" in professions
    assert '\'=HYPERLINK("http://evil.test")' in professions  # cleaned, then neutralised
    assert all(c.data_type != "f" for c in cells)


def gophish_import(api, organisation, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post_form(
        "/api/awareness/phishing-campaigns",
        {"organisation": organisation.pk, "export": SimpleUploadedFile(name, content)},
    )


def test_a_gophish_export_turning_unreadable_after_a_mebibyte_is_refused(org_tree, make_user):
    """The encoding is read from the first mebibyte: a bad byte further on raised
    UnicodeDecodeError out of the GoPhish reader (a 500)."""
    from careops.awareness.models import PhishingCampaign
    from tests.api.conftest import Api
    from tests.api.test_awareness_exercises import gophish

    rows = b"".join(
        b"t%07d,Email Sent,,0,0,2026-05-04T09:00:00Z,false,2026-05-04T10:00:00Z,a%d@chu.test,"
        b"P,N,Infirmier\n" % (number, number)
        for number in range(12000)
    )
    content = gophish("Campagne", ["Email Sent", "Clicked Link"]) + rows + b"z1,Email Sent,,0,0,"
    content += b"2026-05-04T09:00:00Z,false,2026-05-04T10:00:00Z,z@chu.test,P,N,Infirmi\xe8re\n"
    assert len(content) > 1024 * 1024
    api = Api(make_user("contributor", org_tree.ej_b))
    answer = gophish_import(api, org_tree.ej_b, "Campagne - Results.csv", content)
    assert answer.status_code == 422
    assert "caractère illisible en utf-8" in answer.json()["detail"]
    assert not PhishingCampaign.objects.exists()


def test_a_nul_character_in_a_utf16_file_is_refused(org_tree, make_user):
    """A UTF-16 file is not searched for NUL bytes (it is full of them): a NUL character it
    encodes reached PostgreSQL (a 500 on the campaign's positions)."""
    from careops.awareness.models import PhishingCampaign, StaffHeadcount
    from tests.api.conftest import Api
    from tests.api.test_awareness_exercises import gophish

    api = Api(make_user("contributor", org_tree.ej_b))
    text = gophish("Campagne", ["Email Sent", "Clicked Link"]).decode()
    sent = text.replace("Infirmier", "Infir\x00mier").encode("utf-16")
    answer = gophish_import(api, org_tree.ej_b, "Campagne - Results.csv", sent)
    assert answer.status_code == 422
    assert "caractère nul" in answer.json()["detail"]
    assert not PhishingCampaign.objects.exists()
    sheet = "Profession;Effectif\nInfir\x00mier;3\n".encode("utf-16")
    answer = headcounts(api, org_tree.ej_b, sheet)
    assert answer.status_code == 422 and "caractère nul" in answer.json()["detail"]
    assert not StaffHeadcount.objects.exists()


def sheet_xml(rows: list[tuple[int, list[tuple[str, str]]]]) -> bytes:
    """A worksheet's XML: (row number, [(cell reference, text)])."""
    body = "".join(
        f'<row r="{number}">'
        + "".join(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>' for ref, text in cells)
        + "</row>"
        for number, cells in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
        f'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}'
        "</sheetData></worksheet>"
    ).encode()


def crafted_workbook(tmp_path, rows) -> Path:
    """A workbook saved by openpyxl whose first sheet is replaced by ``rows`` (see sheet_xml)."""
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    crafted = tmp_path / "emargement.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml(rows)
            target.writestr(item, data)
    return crafted


HEADER = (1, [("A1", "Nom"), ("B1", "Profession"), ("C1", "Date")])


def test_a_cell_in_the_last_column_does_not_widen_every_row(tmp_path):
    """openpyxl pads a row up to its last cell: one cell in column XFD per row made each row
    16,384 values (a 340 KB sign-in sheet took 14 s to read, a 10 MB one minutes)."""
    rows = [HEADER]
    rows += [
        (n, [(f"A{n}", f"AGENT{n}"), (f"B{n}", "IDE"), (f"C{n}", "12/03/2026"), (f"XFD{n}", "x")])
        for n in range(2, 52)
    ]
    layout, found = tables.read_table(
        crafted_workbook(tmp_path, rows), training.SHEET_COLUMNS, header_within=10
    )
    widths = {len(cells) for _line, cells in found}
    assert widths == {3}
    read = training.read_sheet(crafted_workbook(tmp_path, rows), today=TODAY)
    assert len(read.rows) == 50


def test_a_row_beyond_excel_s_last_is_refused(tmp_path):
    """openpyxl fills a jump in row numbers one empty row at a time: a 4 KB sheet jumping to row
    2,000,000,000 kept a worker busy for minutes; Excel stops at 1,048,576."""
    rows = [HEADER, (2, [("A2", "DUPONT"), ("B2", "IDE"), ("C2", "12/03/2026")])]
    rows.append(
        (1_100_000, [("A1100000", "MARTIN"), ("B1100000", "IDE"), ("C1100000", "12/03/2026")])
    )
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(crafted_workbook(tmp_path, rows), today=TODAY)
    assert "au-delà de la dernière ligne d'Excel (1048576)" in str(caught.value)


def test_a_header_line_of_empty_cells_is_not_normalised_cell_by_cell(tmp_path, monkeypatch):
    """A 10 MB header line of « ; » (10 million empty headers) took 12 s to map."""
    path = tmp_path / "emargement.csv"
    path.write_text("Nom;Profession;Date" + ";" * 100_000 + "\nDUPONT;IDE;12/03/2026\n", "utf-8")
    normalise = tables.normalise_header
    calls = []
    monkeypatch.setattr(tables, "normalise_header", lambda text: calls.append(1) or normalise(text))
    assert len(training.read_sheet(path, today=TODAY).rows) == 1
    assert len(calls) < 100


def test_a_refusal_names_a_few_columns_not_a_megabyte_of_them(tmp_path):
    """« Colonnes trouvées » listed every header: 900,000 of them made a 13 MB message, answered,
    logged and kept in the session; beyond Excel's 16,384 columns the file is refused."""
    path = tmp_path / "liste.csv"
    path.write_text(";".join(f"Colonne{n}" for n in range(1000)) + "\nA;B\n", "utf-8")
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(path, today=TODAY)
    message = str(caught.value)
    assert "Colonne29… et 970 autre(s)" in message and len(message) < 2000
    path.write_text(";".join(f"C{n}" for n in range(20_000)) + "\nA;B\n", "utf-8")
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(path, today=TODAY)
    assert "plus de 16384 colonnes nommées" in str(caught.value)
    assert len(str(caught.value)) < 2000


# --- the other readers of uploaded tables: BIA workbook, remote-access inventory, backup job
# reports, Guacamole history ---------------------------------------------------------------


def patched_workbook(data: bytes, sheet: str, extra_rows: str) -> bytes:
    """``data`` (an xlsx) with ``extra_rows`` (row XML) appended to worksheet ``sheet``'s data
    and its stated dimension removed."""
    import re
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == f"xl/worksheets/{sheet}.xml":
                content = content.replace(b"</sheetData>", extra_rows.encode() + b"</sheetData>")
                content = re.sub(rb"<dimension [^>]*/>", b"", content)
            target.writestr(item, content)
    return out.getvalue()


def inline_row(number: int, cells: dict[str, str]) -> str:
    return (
        f'<row r="{number}">'
        + "".join(
            f'<c r="{column}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
            for column, text in cells.items()
        )
        + "</row>"
    )


BIA_ACTIVITIES = "sheet8"  # « Activités », the eighth sheet of the BIA template


def test_a_bia_row_beyond_excel_s_last_is_refused_in_french():
    """The BIA workbook was read in full mode: a row numbered 2,000,000,000 made openpyxl build
    a million empty rows (7 s) then fail with a ValueError (a 500)."""
    from careops.continuity.engine import workbook

    data = patched_workbook(
        workbook.workbook_bytes(None),
        BIA_ACTIVITIES,
        inline_row(2_000_000_000, {"A": "ACT-1", "B": "Urgences"}),
    )
    with pytest.raises(workbook.WorkbookError) as caught:
        workbook.read_workbook(io.BytesIO(data))
    assert str(caught.value).startswith(
        "Feuille « Activités » : ligne 1048577 au-delà de la dernière ligne d'Excel (1048576)"
    )


def row_widths(monkeypatch, module) -> list[int]:
    """The width of each row ``module`` reads through ``xlsx_rows``, filled as it reads."""
    widths: list[int] = []
    real = module.xlsx_rows

    def spy(*args, **kwargs):
        for line, values in real(*args, **kwargs):
            widths.append(len(values))
            yield line, values

    monkeypatch.setattr(module, "xlsx_rows", spy)
    return widths


def test_a_bia_cell_in_the_last_column_does_not_widen_every_row(monkeypatch):
    """One cell in column XFD per row made each row 16,384 cells (300 rows took 13 s)."""
    from careops.continuity.engine import workbook

    rows = "".join(
        inline_row(n, {"A": f"ACT-{n}", "B": f"Activité {n}", "XFD": "x"}) for n in range(2, 12)
    )
    data = patched_workbook(workbook.workbook_bytes(None), BIA_ACTIVITIES, rows)
    widths = row_widths(monkeypatch, workbook)
    bia, problems = workbook.read_workbook(io.BytesIO(data))
    assert [a.code for a in bia.activities] == [f"ACT-{n}" for n in range(2, 12)]
    assert widths and max(widths) < 100
    assert not any("XFD" in problem.column for problem in problems)


def test_an_inventory_cell_in_the_last_column_does_not_widen_every_row(monkeypatch):
    from careops.remote_access.engine import inventory

    rows = "".join(
        inline_row(n, {"A": f"R{n}", "B": f"Accès {n}", "XFD": "x"}) for n in range(2, 7)
    )
    data = patched_workbook(inventory.write_inventory([]), "sheet1", rows)
    widths = row_widths(monkeypatch, inventory)
    paths, _problems = inventory.read_inventory(data)
    assert [path.ref for path in paths] == [f"R{n}" for n in range(2, 7)]
    assert widths and max(widths) < 100


JOBS = b"system;job;status;finished\n"


@pytest.mark.parametrize(
    "content, said",
    [
        (JOBS + b"SRV\x00;j;ok;2026-01-01T00:00:00\n", "rapport.csv, ligne 2 : caractère nul"),
        (JOBS + b"SRV\xe9;j;ok;2026-01-01\n", "illisible en UTF-8"),
        (JOBS + b"SRV;" + b"a" * 200_000 + b";ok;2026-01-01\n", "ligne 2 : cellule de plus de"),
        (
            JOBS + b'"SRV;j;ok;2026-01-01\nB;j;ok;2026-01-01\n',
            "ligne 2 : guillemet ouvrant sans guillemet fermant",
        ),
    ],
)
def test_a_hostile_backup_job_report_is_refused_in_french(content, said):
    """A NUL (a 500 on PostgreSQL), a byte that is not UTF-8, a cell beyond the csv module's
    limit (500s), a quote never closed (the following jobs read as one value)."""
    from careops.backups.engine.errors import ConfigError
    from careops.backups.engine.jobreports import parse_job_report

    with pytest.raises(ConfigError) as caught:
        parse_job_report(content, "csv", "rapport.csv")
    assert said in str(caught.value)


def test_a_nul_in_a_json_job_report_is_refused():
    from careops.backups.engine.errors import ConfigError
    from careops.backups.engine.jobreports import parse_job_report

    content = b'[{"system": "S\\u0000", "status": "ok", "finished": "2026-01-01T00:00:00"}]'
    with pytest.raises(ConfigError, match="caractère nul"):
        parse_job_report(content.decode("unicode_escape").encode(), "auto", "rapport.json")


GUACAMOLE = b"Username,Start time,Duration,Connection name\n"


@pytest.mark.parametrize(
    "content, said",
    [
        (GUACAMOLE + b"al\x00ice,2026-01-01 10:00:00,60,srv\n", "ligne 2 : caractère nul"),
        (GUACAMOLE + b"alice,2026-01-01 10:00:00,60," + b"s" * 200_000 + b"\n", "cellule de plus"),
        (
            GUACAMOLE + b'alice,2026-01-01 10:00:00,60,"srv\nbob,2026-01-01 11:00:00,60,srv\n',
            "ligne 2 : guillemet ouvrant sans guillemet fermant",
        ),
    ],
)
def test_a_hostile_guacamole_history_is_refused_in_french(content, said):
    """A quote never closed made every later session part of one connection name (bob's
    session vanished from the review); a NUL was kept, a huge cell was a 500."""
    from careops.remote_access.engine import bastion

    with pytest.raises(bastion.BastionLogError) as caught:
        bastion.parse_bytes(content, "history.csv")
    assert str(caught.value).startswith("history.csv : ") and said in str(caught.value)


@pytest.mark.parametrize(
    "header, said",
    [
        (b"id,status," + b"x" * 200_000, "ligne 1 : cellule de plus de"),  # a 500
        (b"id,st\x00atus,reported,email", "ligne 1 : caractère nul"),
    ],
)
def test_a_hostile_gophish_header_is_refused_in_french(org_tree, make_user, header, said):
    from careops.awareness.models import PhishingCampaign
    from tests.api.conftest import Api

    api = Api(make_user("contributor", org_tree.ej_b))
    content = header + b"\n1,Email Sent,false,a@chu.test\n"
    if b"\x00" in header:  # a NUL byte is refused before the reader; a UTF-16 one reaches it
        content = content.decode().encode("utf-16")
    answer = gophish_import(api, org_tree.ej_b, "Campagne - Results.csv", content)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("Campagne - Results.csv, " + said)
    assert not PhishingCampaign.objects.exists()


def test_a_gophish_refusal_names_a_few_columns_not_a_megabyte_of_them(tmp_path):
    """« trouvées » listed every header: 900,000 of them made a 9.8 MB message."""
    from careops.awareness.engine import phishing

    path = tmp_path / "Campagne - Results.csv"
    path.write_text(",".join(f"Colonne{n}" for n in range(1000)) + "\nA,B\n", "utf-8")
    with pytest.raises(tables.TableError) as caught:
        phishing.read_results(path)
    message = str(caught.value)
    assert "colonnes manquantes : status, reported, email" in message
    assert "Colonne29… et 970 autre(s)" in message and len(message) < 2000
