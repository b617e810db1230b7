"""Reading the exports an establishment already has: CSV (any of ; , | tab, UTF-8 with or without
BOM, Windows-1252/Latin-1) and XLSX, with columns recognised by name and errors with line numbers.

Only the standard library's csv module (C-accelerated) and openpyxl's read-only mode are used:
the files are streamed, never loaded whole, so a 500 000-line export costs its parsing time and
little memory.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from careops.archives import ArchiveError, Limits, check_zip
from careops.core.spreadsheet import (
    EXCEL_MAX_COLUMNS,
    SheetError,
    checked_csv_rows,
    xlsx_rows,
)

SAMPLE_BYTES = 1 << 20
DELIMITERS = (";", ",", "|", "\t")
MAX_LISTED = 20  # problems of one kind listed one by one; the rest are counted
# An xlsx is a zip: its declared sizes are bounded before openpyxl inflates anything (a 300 KB
# workbook holding one 300 MB cell took 3 GB of memory and a minute of worker time).
XLSX_LIMITS = Limits(max_total=256 * 1024 * 1024, max_ratio=100, max_files=1000)


class TableError(ValueError):
    """A file that cannot be read as the expected table (message in French)."""


def normalise_header(text: str) -> str:
    """Lower case, no accents, punctuation folded to single spaces: « N° RPPS » → « n rpps »."""
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Column:
    """A logical column: its key, its French label, the headers that name it, whether required."""

    key: str
    label: str
    names: tuple[str, ...]
    required: bool = False


@dataclass
class Layout:
    """Where each logical column sits in a file."""

    path: Path
    headers: list[str]
    index: dict[str, int]
    encoding: str
    delimiter: str

    def describe(self) -> dict[str, str]:
        return {key: self.headers[position] for key, position in self.index.items()}


@dataclass
class Problem:
    """One problem of an input file, located (file, line, column), in French."""

    file: str
    message: str
    line: int | None = None
    column: str = ""
    blocking: bool = True

    def as_text(self) -> str:
        where = self.file + (f", ligne {self.line}" if self.line else "")
        where += f", colonne « {self.column} »" if self.column else ""
        return f"{where} : {self.message}"


@dataclass
class Problems:
    """Problems gathered while reading; one kind beyond ``MAX_LISTED`` is counted, not listed."""

    items: list[Problem] = field(default_factory=list)
    overflow: dict[str, int] = field(default_factory=dict)
    _per_kind: dict[str, int] = field(default_factory=dict)

    def add(self, problem: Problem, kind: str = "") -> None:
        kind = kind or problem.message
        seen = self._per_kind.get(kind, 0)
        self._per_kind[kind] = seen + 1
        if seen < MAX_LISTED:
            self.items.append(problem)
        else:
            self.overflow[kind] = self.overflow.get(kind, 0) + 1

    @property
    def blocking(self) -> bool:
        return any(problem.blocking for problem in self.items)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the first mebibyte decodes as UTF-8, else Windows-1252,
    else Latin-1 (which decodes any byte)."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if len(sample) == SAMPLE_BYTES and exc.start >= len(sample) - 3:
            return "utf-8"  # a character cut by the end of the sample
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def detect_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ";"


def found_columns(headers: list[str], shown: int = 30) -> str:
    """The non-empty headers of a file for a message, the first ``shown`` of them: a header
    line of 900,000 names gave a 13 MB message (answered, logged, kept in the session)."""
    named = [header for header in headers if header]
    text = ", ".join(header[:60] for header in named[:shown]) or "aucune"
    if len(named) > shown:
        text += f"… et {len(named) - shown} autre(s)"
    return text


def map_columns(
    name: str, headers: list[str], columns: list[Column], mapping: dict[str, str] | None
) -> dict[str, int]:
    """Position of each logical column, from the user's mapping (header as written) first, then
    the known names; a missing required column is a TableError naming what was found."""
    position: dict[str, int] = {}  # each normalised header → its first position, in one pass
    named = 0
    for number, header in enumerate(headers):
        if not header.strip():  # 10 million empty headers took 30 s to normalise
            continue
        named += 1
        if named > EXCEL_MAX_COLUMNS:
            raise TableError(
                f"{name} : plus de {EXCEL_MAX_COLUMNS} colonnes nommées (la limite d'Excel) : ce "
                "n'est pas un tableau exporté ; vérifiez le fichier"
            )
        position.setdefault(normalise_header(header), number)
    index: dict[str, int] = {}
    for column in columns:
        wanted = (mapping or {}).get(column.key)
        if wanted:
            target = normalise_header(wanted)
            if target not in position:
                raise TableError(
                    f"{name} : la colonne « {wanted} » choisie pour « {column.label} » est absente "
                    f"(colonnes trouvées : {found_columns(headers)})"
                )
            index[column.key] = position[target]
            continue
        for candidate in column.names:
            if candidate in position:
                index[column.key] = position[candidate]
                break
    missing = [column.label for column in columns if column.required and column.key not in index]
    if missing:
        raise TableError(
            f"{name} : colonne(s) obligatoire(s) introuvable(s) : {', '.join(missing)}. "
            f"Colonnes trouvées : {found_columns(headers)}. "
            "Renommez-les ou indiquez la correspondance des colonnes (« Correspondance des "
            "colonnes » du formulaire, ou --colonnes en ligne de commande)."
        )
    used: dict[int, str] = {}
    for key, position in index.items():
        if position in used:
            raise TableError(
                f"{name} : la colonne « {headers[position]} » est choisie pour deux usages "
                f"({used[position]} et {key})"
            )
        used[position] = key
    return index


def read_table(
    path: Path,
    columns: list[Column],
    mapping: dict[str, str] | None = None,
    header_within: int = 1,
) -> tuple[Layout, Iterator[tuple[int, list[str]]]]:
    """Open a CSV or XLSX export; return its layout and an iterator of (line number, cells).

    ``header_within``: the header is the first of that many leading lines whose names hold
    the required columns (a sign-in sheet has a title and a date above its table); line
    numbers stay those of the file. With none, the first non-blank line's error is raised."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path.name} : fichier introuvable")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK"):
        return _read_xlsx(path, columns, mapping, header_within)
    return _read_csv(path, columns, mapping, header_within)


def _find_header(name, candidates, columns, mapping):
    """The first (line, cells) of ``candidates`` (read lazily: nothing past the header is
    consumed) whose cells map the columns: (line, cells, index); else the error of the first
    non-blank one."""
    first_error = None
    for line, cells in candidates:
        if not any(c.strip() for c in cells):
            continue
        try:
            return line, cells, map_columns(name, cells, columns, mapping)
        except TableError as exc:
            first_error = first_error or exc
    if first_error is None:
        raise TableError(f"{name} : fichier vide (aucune ligne d'en-tête)")
    raise first_error


def _read_csv(path, columns, mapping, header_within=1):
    encoding = detect_encoding(path)
    handle = path.open(encoding=encoding, newline="")
    delimiters: dict[int, str] = {}

    def leading():
        for number in range(1, max(header_within, 1) + 1):
            text = handle.readline()
            if not text:
                return
            if number == 1 and not text.strip() and header_within <= 1:
                raise TableError(f"{path.name} : fichier vide (aucune ligne d'en-tête)")
            delimiters[number] = detect_delimiter(text)
            yield number, next(csv.reader([text], delimiter=delimiters[number]), [])

    try:
        header_at, headers, index = _find_header(path.name, leading(), columns, mapping)
    except UnicodeDecodeError as exc:
        handle.close()
        raise TableError(f"{path.name} : en-tête illisible ({exc.reason})") from exc
    except TableError:
        handle.close()
        raise
    delimiter = delimiters[header_at]
    layout = Layout(path, headers, index, encoding, delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        with handle:
            reader = csv.reader(handle, delimiter=delimiter)
            line = header_at
            try:
                for line, cells in checked_csv_rows(reader, path.name, header_at + 1):
                    if any(value.strip() for value in cells):  # « ;;;; » is a blank line
                        yield line, cells
            except SheetError as exc:
                raise TableError(str(exc)) from exc
            except UnicodeDecodeError as exc:
                raise TableError(
                    f"{path.name}, vers la ligne {line + 1} : caractère illisible en {encoding} "
                    "(le fichier mélange deux encodages ; enregistrez-le en UTF-8)"
                ) from exc

    return layout, rows()


MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def _vertical_merges(path: Path, member: str) -> dict[int, list[tuple[int, int]]]:
    """Column (0-based) → [(first row, last row)] of the cells merged down one column in the
    sheet's XML (read-only openpyxl does not expose them): Excel shows the first cell's value on
    every row of such a range. The XML is scanned in chunks, never loaded whole."""
    from zipfile import ZipFile

    from openpyxl.utils.cell import column_index_from_string

    found: dict[int, list[tuple[int, int]]] = {}
    tail = b""
    with ZipFile(path) as archive, archive.open(member) as handle:
        while chunk := handle.read(1 << 20):
            data = tail + chunk
            for match in MERGE_CELL.finditer(data):
                first_col, first_row, last_col, last_row = match.groups()
                if first_col == last_col and int(last_row) > int(first_row):
                    column = column_index_from_string(first_col.decode()) - 1
                    found.setdefault(column, []).append((int(first_row), int(last_row)))
            tail = data[-200:]
    return {
        column: sorted(set(ranges)) for column, ranges in found.items()
    }  # a match seen twice across two chunks counts once


# What openpyxl raises on a workbook it cannot read (ElementTree's ParseError is a SyntaxError).
UNREADABLE_XLSX = (KeyError, ValueError, AttributeError, TypeError, SyntaxError, OSError)


def _read_xlsx(path, columns, mapping, header_within=1):
    from zipfile import BadZipFile, is_zipfile

    import openpyxl

    if is_zipfile(path):  # a broken zip gets openpyxl's « not a valid XLSX » message below
        try:
            check_zip(path, XLSX_LIMITS, path.name)
        except ArchiveError as exc:
            raise TableError(str(exc)) from exc
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError, AttributeError, TypeError) as exc:
        # openpyxl fails in many ways on what it cannot read (AttributeError on a chart sheet)
        raise TableError(
            f"{path.name} : classeur Excel illisible (ce n'est pas un fichier XLSX valide ; "
            "enregistrez-le de nouveau depuis le tableur, ou exportez-le en CSV)"
        ) from exc
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # never trust the file's stated size: some writers leave it stale
    iterator = sheet.iter_rows(values_only=True)

    def leading():
        for number in range(1, max(header_within, 1) + 1):
            values = next(iterator, None)
            if values is None:
                return
            yield number, [_cell(value) for value in values]

    try:
        header_at, headers, index = _find_header(path.name, leading(), columns, mapping)
    except UNREADABLE_XLSX as exc:
        workbook.close()
        raise TableError(f"{path.name} : classeur Excel illisible dès la ligne d'en-tête") from exc
    except TableError as exc:
        workbook.close()
        if "fichier vide" in str(exc):
            raise TableError(
                f"{path.name} : première feuille vide (aucune ligne d'en-tête)"
            ) from exc
        raise
    layout = Layout(path, headers, index, "xlsx", "")
    try:
        merges = _vertical_merges(path, sheet._worksheet_path)
    except (KeyError, OSError, ValueError, AttributeError):
        merges = {}

    # Merged ranges by their first row: each row looks only at the ranges that start on it and
    # at those still open (it went through every range of the sheet: thousands of merged cells
    # over thousands of rows took minutes, a 10 MB workbook hours).
    starting: dict[int, list[tuple[int, int]]] = {}
    for column, ranges in merges.items():
        for first, last in ranges:
            starting.setdefault(first, []).append((column, last))

    # The data rows read only as wide as the last column careops reads: openpyxl pads each row
    # up to its last cell, and one cell in column XFD per row made every row 16,384 values
    # (a 340 KB workbook took 14 s, a 10 MB one minutes).
    width = max(index.values(), default=0) + 1
    data = xlsx_rows(sheet, path.name, header_at + 1, width)

    def rows():
        line = header_at
        carried: dict[int, tuple[int, str]] = {}  # column → (last row, value) of its open range
        try:
            for line, values in data:
                cells = [_cell(value) for value in values]
                if not any(cells):
                    continue  # a blank row stays blank, even inside a merged range
                for column, (last, value) in list(carried.items()):
                    if last < line:
                        del carried[column]
                    else:
                        cells += [""] * (column + 1 - len(cells))
                        cells[column] = cells[column] or value
                for column, last in starting.get(line, ()):
                    if column < len(cells):
                        carried[column] = (last, cells[column])
                    else:
                        carried.pop(column, None)
                yield line, cells
        except SheetError as exc:
            raise TableError(str(exc)) from exc
        except UNREADABLE_XLSX as exc:  # a damaged sheet (XML not well-formed…)
            raise TableError(
                f"{path.name}, vers la ligne {line + 1} : classeur Excel endommagé ; "
                "enregistrez-le de nouveau depuis le tableur, ou exportez-le en CSV"
            ) from exc
        finally:
            workbook.close()

    return layout, rows()


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell(cells: list[str], layout: Layout, key: str) -> str:
    """The trimmed value of logical column ``key`` in a row ('' when absent)."""
    position = layout.index.get(key)
    if position is None or position >= len(cells):
        return ""
    return cells[position].strip()
