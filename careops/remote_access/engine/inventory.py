"""The inventory spreadsheet: one row per access path (read and written with openpyxl).

Sheet « Accès distants », first row = column headers (French labels below; the machine key in
parentheses is accepted too). Lists (factors, accounts, targets, networks) are separated by
commas or semicolons; booleans accept oui/non, vrai/faux, yes/no, 1/0; an empty cell is
"unknown". Every problem is reported with its row and column, in French.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import re
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Any

from careops.archives import ArchiveError, Limits, check_zip
from careops.core.spreadsheet import append_row, safe_cell, used_width, xlsx_rows
from careops.remote_access.engine.model import (
    ACCOUNT_MODELS,
    ACTIVATIONS,
    AUTH_FACTORS,
    DIRECTORIES,
    POPULATIONS,
    TECHNOLOGIES,
    AccessPath,
)

SHEET = "Accès distants"
MAX_UNCOMPRESSED = 64 * 1024 * 1024
XLSX_LIMITS = Limits(max_total=MAX_UNCOMPRESSED, max_ratio=100, max_files=2000)
MAX_ROWS = 5000

# (field, French header, kind) — kind: text, bool, int, float, list, choice:<set>, choices:<set>
COLUMNS: list[tuple[str, str, str]] = [
    ("ref", "Référence", "text"),
    ("name", "Nom", "text"),
    ("population", "Population", "choice:population"),
    ("vendor", "Fournisseur / organisation", "text"),
    ("contract_ref", "Contrat", "text"),
    ("contract_security_clauses", "Clauses de sécurité au contrat", "bool"),
    ("workstation_requirements", "Exigences sur le poste du tiers", "bool"),
    ("justification", "Justification", "text"),
    ("business_owner", "Responsable métier", "text"),
    ("technical_owner", "Responsable technique", "text"),
    ("technology", "Technologie", "choice:technology"),
    ("entry_point", "Point d'entrée", "text"),
    ("internet_exposed", "Exposé sur internet", "bool"),
    ("source_ip_restriction", "Filtrage des adresses sources", "text"),
    ("auth_factors", "Facteurs d'authentification", "choices:auth"),
    ("account_model", "Modèle de comptes", "choice:account"),
    ("accounts", "Comptes", "list"),
    ("directory", "Annuaire", "choice:directory"),
    ("activation", "Activation", "choice:activation"),
    ("max_session_hours", "Durée maximale de session (h)", "float"),
    ("approval_required", "Validation préalable", "bool"),
    ("allowed_windows", "Plages autorisées", "text"),
    ("session_recording", "Enregistrement des sessions", "bool"),
    ("recording_retention_days", "Conservation des enregistrements (j)", "int"),
    ("logs_to_siem", "Journaux centralisés (SIEM)", "bool"),
    ("log_retention_days", "Conservation des journaux (j)", "int"),
    ("protocol_break", "Rupture protocolaire", "bool"),
    ("through_bastion", "Passe par un bastion", "bool"),
    ("managed_devices_only", "Postes maîtrisés uniquement", "bool"),
    ("admin_rights_from_remote", "Droits d'administration à distance", "bool"),
    ("unmanaged_tools", "Outils de prise de main non maîtrisés", "bool"),
    ("targets", "Ressources cibles (BIA)", "list"),
    ("target_networks", "Réseaux cibles", "networks"),
    ("last_access_review", "Dernière revue des accès", "date"),
    ("vpn_connection", "Connexion VPN", "text"),
    ("status", "Statut", "text"),
]
CHOICES = {
    "population": POPULATIONS,
    "technology": TECHNOLOGIES,
    "auth": AUTH_FACTORS,
    "account": ACCOUNT_MODELS,
    "directory": DIRECTORIES,
    "activation": ACTIVATIONS,
}
TRUE = {"oui", "o", "vrai", "yes", "y", "true", "1", "x"}
FALSE = {"non", "n", "faux", "no", "false", "0"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class InventoryError(ValueError):
    """A spreadsheet that cannot be read at all (French message)."""


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"ligne {self.row}" + (f", colonne « {self.column} »" if self.column else "")
        return f"{where} : {self.message}"


def _norm(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


HEADER_INDEX = {}
for _field, _label, _kind in COLUMNS:
    HEADER_INDEX[_norm(_label)] = _field
    HEADER_INDEX[_norm(_field)] = _field
KINDS = {f: k for f, _, k in COLUMNS}
LABELS = {f: label for f, label, _ in COLUMNS}


def _choice_key(value: str, options: dict[str, str]) -> str | None:
    wanted = _norm(value)
    for key, label in options.items():
        if wanted in (_norm(key), _norm(label)):
            return key
    return None


def _parse(field_name: str, raw: Any, row: int, problems: list[Problem]) -> Any:
    kind = KINDS[field_name]
    label = LABELS[field_name]
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if kind in ("list", "networks", "choices:auth"):
            return []
        return "" if kind in ("text", "date") or kind.startswith("choice:") else None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw.startswith("'") and raw[1:].startswith(FORMULA_PREFIXES):
            raw = raw[1:]  # our own export's neutralising quote
    if kind == "text":
        return str(raw)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = _norm(str(raw))
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        problems.append(Problem(row, label, f"« {raw} » n'est ni oui ni non"))
        return None
    if kind in ("int", "float"):
        try:
            number = float(str(raw).replace(",", "."))
        except ValueError:
            problems.append(Problem(row, label, f"« {raw} » n'est pas un nombre"))
            return None
        if number < 0:
            problems.append(Problem(row, label, "la valeur doit être positive"))
            return None
        return int(number) if kind == "int" else number
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date().isoformat()
        if isinstance(raw, dt.date):
            return raw.isoformat()
        text = str(raw)
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        problems.append(Problem(row, label, f"date « {raw} » illisible (AAAA-MM-JJ ou JJ/MM/AAAA)"))
        return ""
    parts = [p.strip() for p in re.split(r"[;,\n]", str(raw)) if p.strip()]
    if kind == "list":
        return parts
    if kind == "networks":
        networks = []
        for part in parts:
            try:
                networks.append(str(ipaddress.ip_network(part, strict=False)))
            except ValueError:
                problems.append(
                    Problem(row, label, f"« {part} » n'est pas un réseau IP (ex. 10.1.2.0/24)")
                )
        return networks
    options = CHOICES[kind.split(":", 1)[1]]
    if kind.startswith("choices:"):
        keys = []
        for part in parts:
            key = _choice_key(part, options)
            if key is None:
                problems.append(Problem(row, label, f"valeur « {part} » inconnue"))
            else:
                keys.append(key)
        return keys
    key = _choice_key(str(raw), options)
    if key is None:
        allowed = ", ".join(options)
        problems.append(Problem(row, label, f"valeur « {raw} » inconnue (attendu : {allowed})"))
        return ""
    return key


def _check_zip(data: bytes) -> None:
    """The workbook's declared sizes through the shared bounded reader (size and ratio)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)):
            pass
    except (zipfile.BadZipFile, OSError) as exc:
        raise InventoryError(
            "fichier illisible comme classeur Excel (.xlsx) : l'import attend le classeur de "
            "l'export Excel (le CSV sert à la lecture seulement)"
        ) from exc
    try:
        check_zip(io.BytesIO(data), XLSX_LIMITS, "Classeur")
    except ArchiveError as exc:
        raise InventoryError(str(exc)) from exc


def read_inventory(
    source: str | Path | IO[bytes] | bytes,
) -> tuple[list[AccessPath], list[Problem]]:
    """Read an inventory workbook: the paths it holds and the problems found (row, column).

    A row with a problem is still returned when its reference and name are present, so the
    caller can decide; ``InventoryError`` when the file is not a readable workbook at all."""
    from openpyxl import load_workbook

    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | Path):
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError as exc:
            raise InventoryError(f"inventaire introuvable : {source}") from exc
        except IsADirectoryError as exc:
            raise InventoryError(f"inventaire illisible : {source} est un dossier") from exc
        except PermissionError as exc:
            raise InventoryError(f"inventaire illisible : lecture refusée ({source})") from exc
        except OSError as exc:
            raise InventoryError(f"inventaire illisible : {exc.strerror or exc}") from exc
    else:
        data = source.read()
    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise InventoryError(
            "fichier illisible comme classeur Excel (.xlsx) : enregistrez-le de nouveau depuis le "
            "tableur"
        ) from exc
    sheet = next((ws for ws in workbook.worksheets if _norm(ws.title) == _norm(SHEET)), None)
    if sheet is None:
        sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # never trust the file's stated size: rows beyond it are read too
    header = next(sheet.iter_rows(max_row=1, values_only=True), None)
    if not header:
        raise InventoryError("classeur vide : la première ligne doit porter les en-têtes")
    # data rows only as wide as the header (a cell in column XFD made each row 16,384 values)
    rows = xlsx_rows(sheet, "Classeur", 2, used_width(header) or 1)
    columns: list[str | None] = [HEADER_INDEX.get(_norm(h)) if h else None for h in header]
    problems: list[Problem] = []
    for wanted in ("ref", "name"):
        if wanted not in columns:
            raise InventoryError(f"colonne « {LABELS[wanted]} » absente de la première ligne")
    paths: list[AccessPath] = []
    seen: set[str] = set()
    for number, values in rows:
        if number > MAX_ROWS + 1:
            problems.append(
                Problem(number, "", f"plus de {MAX_ROWS} lignes : la suite est ignorée")
            )
            break
        if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        record: dict[str, Any] = {}
        for column, raw in zip(columns, values, strict=False):
            if column:
                record[column] = _parse(column, raw, number, problems)
        if not record.get("ref") or not record.get("name"):
            problems.append(Problem(number, "", "la référence et le nom sont obligatoires"))
            continue
        if record["ref"] in seen:
            problems.append(
                Problem(number, LABELS["ref"], f"référence « {record['ref']} » en double")
            )
            continue
        seen.add(record["ref"])
        known = {f.name for f in fields(AccessPath)}
        paths.append(
            AccessPath(**{k: v for k, v in record.items() if k in known and v is not None})
        )
    workbook.close()
    return paths, problems


def cell_value(path: AccessPath, field_name: str) -> Any:
    """The spreadsheet value of one field (lists joined, booleans as oui/non)."""
    value = getattr(path, field_name)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(value)
    return value


def write_inventory(
    paths: list[AccessPath], extra: dict[str, dict[str, Any]] | None = None
) -> bytes:
    """The inventory as an XLSX workbook (same columns as the import), formula-safe.

    ``extra`` maps a path reference to additional columns (score, band…) appended after the
    importable ones."""
    from openpyxl import Workbook

    extra = extra or {}
    extra_headers: list[str] = []
    for values in extra.values():
        for key in values:
            if key not in extra_headers:
                extra_headers.append(key)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    append_row(sheet, [label for _, label, _ in COLUMNS] + extra_headers)
    for path in paths:
        row = [cell_value(path, f) for f, _, _ in COLUMNS]
        row += [extra.get(path.ref, {}).get(h) for h in extra_headers]
        append_row(sheet, row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_rows(paths: list[AccessPath]) -> list[list[Any]]:
    """Header plus one formula-safe row per path, for a CSV export."""
    rows = [[label for _, label, _ in COLUMNS]]
    rows += [[safe_cell(cell_value(p, f)) for f, _, _ in COLUMNS] for p in paths]
    return rows
