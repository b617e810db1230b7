"""The BIA workbook (Excel): write a documented template or a filled BIA, and read one back
with every error located by sheet, row and column. Nothing here needs a database."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from careops.archives import ArchiveError, Limits, check_zip
from careops.continuity.engine.compute import (
    ACTIVITIES,
    DEPENDENCIES,
    ENTITIES,
    NEEDS,
    RATINGS,
    RESOURCES,
)
from careops.continuity.engine.model import (
    ACTIVITY_KINDS,
    HOUR,
    NEED_KINDS,
    PERIMETERS,
    RESOURCE_KINDS,
    Activity,
    Bia,
    Dependency,
    Entity,
    Horizon,
    ImpactType,
    Method,
    Need,
    PriorityClass,
    Problem,
    Resource,
    column_ref,
)
from careops.core.spreadsheet import (
    SheetError,
    append_row,
    unescape_cell,
    used_width,
    xlsx_rows,
)

README = "Lisez-moi"
PARAMETERS = "Paramètres"
HORIZONS = "Horizons"
IMPACT_TYPES = "Types d'impact"
SCALE = "Échelle"
PRIORITIES = "Classes de priorité"
THRESHOLD_KEY = "Seuil d'acceptabilité"
YES, NO = "oui", "non"
HARD, SOFT = "forte", "faible"
CODE = re.compile(r"[\w.\-/]{1,40}")


class WorkbookError(Exception):
    """The workbook cannot be read at all (not an .xlsx file)."""


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text, code, hours, number, bool, choice, list
    required: bool = False
    choices: dict[str, str] | None = None  # code → label
    help: str = ""
    width: int = 18


ENTITY_COLUMNS = (
    Column(
        "FINESS", "code", True, help="Numéro FINESS de l'entité (EJ ou EG), 9 caractères.", width=14
    ),
    Column("Nom", "text", True, width=32),
    Column("Poids d'activité", "number", True, help="Nombre positif (séjours, budget, lits…)."),
    Column("Unité", "text", True, help="Unité du poids, la même pour toutes les entités."),
    Column(
        "Périmètres absents",
        "list",
        choices=PERIMETERS,
        help="Codes des périmètres minimaux qui n'existent pas dans l'entité, séparés par des virgules : "
        + ", ".join(PERIMETERS),
        width=30,
    ),
)
ACTIVITY_COLUMNS = (
    Column("Code", "code", True, help="Identifiant court et unique (ex. URG).", width=12),
    Column("Nom", "text", True, width=32),
    Column("Type", "choice", True, ACTIVITY_KINDS, width=24),
    Column("Entité", "code", help="FINESS de l'entité (feuille Entités).", width=14),
    Column("Responsable", "text", width=28),
    Column("Impact patient majeur", "bool", help="oui / non", width=12),
    Column("RTO (heures)", "hours", help="Délai de reprise visé, en heures ; inférieur à la DMIA."),
    Column("PDMA (heures)", "hours", help="Perte de données maximale admissible, en heures."),
    Column("DMIA forcée (heures)", "hours", help="Laisser vide : la DMIA est calculée."),
    Column("Motif du forçage", "text", help="Obligatoire si la DMIA est forcée.", width=30),
    Column("Niveau de service minimal", "text", width=40),
)
RESOURCE_COLUMNS = (
    Column("Code", "code", True, width=12),
    Column("Nom", "text", True, width=32),
    Column("Type", "choice", True, RESOURCE_KINDS, width=22),
    Column("Responsable", "text", width=24),
    Column(
        "Socle de confiance",
        "bool",
        help="oui : réseau, identité, DNS, virtualisation, sauvegarde.",
    ),
    Column("Durée de restauration (heures)", "hours"),
    Column("RTO mesuré (heures)", "hours", help="Dernier test de restauration, s'il existe."),
    Column("PDMA mesurée (heures)", "hours", help="Âge maximal constaté des sauvegardes."),
    Column("Contrat fournisseur", "text", width=24),
)
DEPENDENCY_COLUMNS = (
    Column("De", "code", True, help="Code d'une activité ou d'une ressource.", width=14),
    Column("Vers", "code", True, help="Code de la ressource nécessaire.", width=14),
    Column("Nature", "choice", choices={"hard": HARD, "soft": SOFT}, width=10),
    Column("Contournement", "bool", help="oui si un mode dégradé existe sans cette ressource."),
    Column("Notes", "text", width=40),
)
NEED_COLUMNS = (
    Column("Activité", "code", True, width=14),
    Column("Nature", "choice", True, NEED_KINDS, width=12),
    Column(
        "Élément", "text", True, help="Formulaires papier, postes de secours, coursiers…", width=36
    ),
    Column("Quantité", "number"),
    Column("Par", "text", help="poste, jour…", width=10),
    Column("Lieu de stockage", "text", width=28),
    Column("Prêt", "bool"),
)
HORIZON_COLUMNS = (Column("Libellé", "text", True), Column("Durée (heures)", "hours", True))
IMPACT_COLUMNS = (Column("Code", "code", True, width=22), Column("Libellé", "text", True, width=40))
SCALE_COLUMNS = (
    Column("Niveau", "number", True, width=10),
    Column("Libellé", "text", True, width=30),
)
PRIORITY_COLUMNS = (
    Column("Classe", "code", True, width=10),
    Column("Libellé", "text", True, width=36),
    Column("DMIA maximale (heures)", "hours", help="Vide pour la dernière classe (sans borne)."),
)
PARAMETER_COLUMNS = (Column("Paramètre", "text", True, width=28), Column("Valeur", "number", True))
RATING_FIXED = (
    Column("Activité", "code", True, width=14),
    Column("Type d'impact", "text", True, help="Libellé ou code du type d'impact.", width=36),
)

SHEETS: dict[str, tuple[Column, ...]] = {
    PARAMETERS: PARAMETER_COLUMNS,
    HORIZONS: HORIZON_COLUMNS,
    IMPACT_TYPES: IMPACT_COLUMNS,
    SCALE: SCALE_COLUMNS,
    PRIORITIES: PRIORITY_COLUMNS,
    ENTITIES: ENTITY_COLUMNS,
    ACTIVITIES: ACTIVITY_COLUMNS,
    RATINGS: RATING_FIXED,
    RESOURCES: RESOURCE_COLUMNS,
    DEPENDENCIES: DEPENDENCY_COLUMNS,
    NEEDS: NEED_COLUMNS,
}

INSTRUCTIONS = [
    "Classeur d'analyse d'impact sur l'activité (BIA) — careops, programme CaRE domaine 2",
    "",
    "Ce classeur se remplit feuille par feuille ; ne renommez ni les feuilles ni les en-têtes de colonnes.",
    "Les durées sont en heures (nombres décimaux acceptés : 0,5 = 30 minutes ; 168 = 7 jours).",
    "",
    "1. Paramètres, Horizons, Types d'impact, Échelle, Classes de priorité : la méthode. Les valeurs "
    "proposées suivent le kit CaRE (horizons 1 h à 30 j, niveaux 0 à 4, seuil d'acceptabilité 3).",
    "2. Entités : les établissements (FINESS EJ ou EG) avec leur poids d'activité et son unité ; "
    "sert au calcul de couverture des 66 % de l'activité combinée.",
    "3. Activités : services de soins, plateaux techniques (pharmacie, imagerie, biologie), processus "
    "administratifs (paie, comptabilité, fournisseurs), fonctions support. Indiquez le RTO visé et la PDMA.",
    "4. Cotations : une ligne par activité et type d'impact, un niveau (0 à 4) par horizon. Un impact ne "
    "peut pas décroître avec le temps.",
    "5. Ressources : applications, infrastructures, sites, fournisseurs, rôles, équipements biomédicaux. "
    "Marquez « Socle de confiance » le réseau, l'annuaire, le DNS, la virtualisation et la sauvegarde.",
    "6. Dépendances : « De » (activité ou ressource) a besoin de « Vers » (ressource). Pas de cycle.",
    "7. Besoins dégradés : au moins un besoin matériel et un besoin humain par activité.",
    "",
    "Calculs : la courbe de criticité est le maximum des types d'impact à chaque horizon ; la DMIA est "
    "le premier horizon où ce niveau atteint le seuil ; la classe de priorité découle de la DMIA ; "
    "chaque ressource hérite du RTO et de la PDMA les plus stricts des activités qui en dépendent, "
    "directement ou non ; l'ordre de reprise commence par le socle de confiance.",
    "Vérification sans base de données : careops bia analyze CLASSEUR.xlsx",
]

HEADER_FILL = PatternFill("solid", fgColor="DDE5F4")


def _hours(seconds: int | None) -> float | None:
    if seconds is None:
        return None
    hours = seconds / HOUR
    return int(hours) if hours == int(hours) else round(hours, 4)


def _yes(value: bool) -> str:
    return YES if value else NO


def _write_sheet(wb: Workbook, title: str, columns, rows: list[list[Any]], extra=()) -> None:
    ws = wb.create_sheet(title)
    headers = [c.header for c in columns] + list(extra)
    append_row(ws, headers)  # extra headers are user-defined (horizon labels)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        append_row(ws, row)
    ws.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
        if column.choices and column.kind == "choice":
            _list_validation(ws, index, list(column.choices.values()), column)
        elif column.kind == "bool":
            _list_validation(ws, index, [YES, NO], column)
        elif column.kind in ("hours", "number"):
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
            dv.error, dv.errorTitle = "Saisissez un nombre positif.", column.header
            _add(ws, dv, index, column)
        elif column.help:
            dv = DataValidation(type="custom", formula1="TRUE")
            _add(ws, dv, index, column)
    for index in range(len(columns) + 1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(index)].width = 9


def _list_validation(ws, index: int, values: list[str], column: Column) -> None:
    dv = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True)
    dv.error, dv.errorTitle = "Choisissez une valeur de la liste.", column.header
    _add(ws, dv, index, column)


def _add(ws, dv: DataValidation, index: int, column: Column) -> None:
    if column.help:
        dv.prompt, dv.promptTitle = column.help[:255], column.header[:32]
        dv.showInputMessage = True
    dv.showErrorMessage = dv.type != "custom"
    ws.add_data_validation(dv)
    letter = get_column_letter(index)
    dv.add(f"{letter}2:{letter}1000")


def write_workbook(bia: Bia | None, target: str | Path | IO[bytes]) -> None:
    """Write ``bia`` (or an empty BIA with the default method: the template) as a workbook."""
    bia = bia or Bia()
    method = bia.method
    wb = Workbook()
    readme = wb.active
    readme.title = README
    for line in INSTRUCTIONS:
        readme.append([line])
    readme["A1"].font = Font(bold=True, size=14)
    readme.column_dimensions["A"].width = 120
    for row in readme.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    _write_sheet(wb, PARAMETERS, PARAMETER_COLUMNS, [[THRESHOLD_KEY, method.threshold]])
    _write_sheet(
        wb, HORIZONS, HORIZON_COLUMNS, [[h.label, _hours(h.seconds)] for h in method.horizons]
    )
    _write_sheet(wb, IMPACT_TYPES, IMPACT_COLUMNS, [[t.code, t.label] for t in method.impact_types])
    _write_sheet(wb, SCALE, SCALE_COLUMNS, [[i, label] for i, label in enumerate(method.levels)])
    _write_sheet(
        wb,
        PRIORITIES,
        PRIORITY_COLUMNS,
        [[p.code, p.label, _hours(p.max_seconds)] for p in method.priority_classes],
    )
    _write_sheet(
        wb,
        ENTITIES,
        ENTITY_COLUMNS,
        [
            [e.finess, e.name, e.weight, e.unit, ", ".join(e.perimeters_absent)]
            for e in bia.entities
        ],
    )
    _write_sheet(
        wb,
        ACTIVITIES,
        ACTIVITY_COLUMNS,
        [
            [
                a.code,
                a.name,
                ACTIVITY_KINDS.get(a.kind, a.kind),
                a.entity,
                a.owner,
                _yes(a.patient_impact_major),
                _hours(a.rto_seconds),
                _hours(a.rpo_seconds),
                _hours(a.dmia_override_seconds),
                a.dmia_override_reason,
                a.mbco,
            ]
            for a in bia.activities
        ],
    )
    labels = [h.label for h in method.horizons]
    _write_sheet(
        wb,
        RATINGS,
        RATING_FIXED,
        [
            [a.code, t.label, *(a.ratings.get(t.code, {}).get(h) for h in labels)]
            for a in bia.activities
            for t in method.impact_types
        ],
        extra=labels,
    )
    ratings = wb[RATINGS]
    levels = ",".join(str(i) for i in range(len(method.levels)))
    dv = DataValidation(type="list", formula1=f'"{levels}"', allow_blank=True)
    dv.error, dv.errorTitle = f"Niveau de 0 à {method.max_level}.", "Cotation"
    dv.showErrorMessage = True
    ratings.add_data_validation(dv)
    if labels:
        first, last = get_column_letter(3), get_column_letter(2 + len(labels))
        dv.add(f"{first}2:{last}2000")
    types = DataValidation(
        type="list", formula1=f"{quote_sheetname(IMPACT_TYPES)}!$B$2:$B$50", allow_blank=True
    )
    ratings.add_data_validation(types)
    types.add("B2:B2000")
    _write_sheet(
        wb,
        RESOURCES,
        RESOURCE_COLUMNS,
        [
            [
                r.code,
                r.name,
                RESOURCE_KINDS.get(r.kind, r.kind),
                r.owner,
                _yes(r.trust_core),
                _hours(r.restore_seconds),
                _hours(r.measured_rto_seconds),
                _hours(r.measured_rpo_seconds),
                r.contract,
            ]
            for r in bia.resources
        ],
    )
    dv = DataValidation(
        type="list", formula1=f"{quote_sheetname(RESOURCES)}!$A$2:$A$500", allow_blank=True
    )
    _write_sheet(
        wb,
        DEPENDENCIES,
        DEPENDENCY_COLUMNS,
        [
            [d.source, d.target, HARD if d.hard else SOFT, _yes(d.workaround), d.notes]
            for d in bia.dependencies
        ],
    )
    wb[DEPENDENCIES].add_data_validation(dv)
    dv.add("B2:B2000")
    _write_sheet(
        wb,
        NEEDS,
        NEED_COLUMNS,
        [
            [
                n.activity,
                NEED_KINDS.get(n.kind, n.kind),
                n.item,
                n.quantity,
                n.per,
                n.location,
                _yes(n.ready),
            ]
            for n in bia.needs
        ],
    )
    activity_codes = f"{quote_sheetname(ACTIVITIES)}!$A$2:$A$500"
    for sheet, col in ((RATINGS, "A"), (NEEDS, "A")):
        dv = DataValidation(type="list", formula1=activity_codes, allow_blank=True)
        wb[sheet].add_data_validation(dv)
        dv.add(f"{col}2:{col}2000")
    wb.save(target)


def workbook_bytes(bia: Bia | None) -> bytes:
    """The workbook as bytes (for downloads)."""
    buffer = io.BytesIO()
    write_workbook(bia, buffer)
    return buffer.getvalue()


# --- reading --------------------------------------------------------------------------------


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


class _Sheet:
    """One sheet's rows as dicts keyed by column header, with located error reporting."""

    def __init__(
        self, ws, columns, problems: list[Problem], extra_ok: Callable[[str], bool] | None = None
    ):
        self.title = ws.title
        self.problems = problems
        self.columns = columns
        header_cells = next(ws.iter_rows(min_row=1, max_row=1), ())
        self.index: dict[str, int] = {}
        self.extra: list[tuple[str, int]] = []
        by_norm = {_norm(c.header): c.header for c in columns}
        for position, cell in enumerate(header_cells):
            if cell.value is None or str(cell.value).strip() == "":
                continue
            name = unescape_cell(str(cell.value).strip())
            letter = get_column_letter(position + 1)
            if _norm(name) in by_norm:
                self.index[by_norm[_norm(name)]] = position
            elif extra_ok and extra_ok(name):
                self.extra.append((name, position))
            else:
                self.error(1, f"{letter} « {name} »", "colonne inconnue")
        for column in columns:
            if column.required and column.header not in self.index:
                self.error(1, column_ref("", column.header), "colonne obligatoire absente")
        self.rows: list[tuple[int, tuple]] = []
        # Data rows only as wide as the header: a cell in column XFD made every row 16,384 cells
        # (300 rows took 13 s); a row beyond Excel's last is refused (SheetError).
        width = used_width(cell.value for cell in header_cells) or 1
        for number, values in xlsx_rows(ws, f"Feuille « {ws.title} »", 2, width):
            if any(v is not None and str(v).strip() != "" for v in values):
                self.rows.append((number, values))

    def error(self, row: int | None, column: str, message: str) -> None:
        self.problems.append(Problem(message, self.title, row, column))

    def ref(self, header: str) -> str:
        position = self.index.get(header)
        return column_ref(get_column_letter(position + 1) if position is not None else "", header)

    def raw(self, values: tuple, header: str) -> Any:
        position = self.index.get(header)
        if position is None or position >= len(values):
            return None
        value = values[position]
        if isinstance(value, str):
            value = unescape_cell(value.strip())
            return value or None
        return value

    def get(self, number: int, values: tuple, column: Column) -> Any:
        value = self.raw(values, column.header)
        if value is None:
            if column.required and column.header in self.index:
                self.error(number, self.ref(column.header), "valeur obligatoire manquante")
            return None
        return self.convert(number, column.header, value, column)

    def convert(self, number: int, header: str, value: Any, column: Column) -> Any:
        where = self.ref(header)
        if column.kind in ("text", "code"):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, dt.datetime | dt.date):
                value = value.isoformat()
            if column.kind == "code" and not CODE.fullmatch(str(value)):
                self.error(
                    number,
                    where,
                    f"code « {value} » invalide (lettres, chiffres, _ . - /, 40 caractères au plus)",
                )
                return None
            return str(value)
        if column.kind in ("hours", "number"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                try:
                    value = float(
                        str(value).replace(",", ".").replace("\u202f", "").replace(" ", "")
                    )
                except ValueError:
                    self.error(number, where, f"nombre attendu, « {value} » trouvé")
                    return None
            if value < 0:
                self.error(number, where, f"nombre positif attendu, {value} trouvé")
                return None
            if column.kind == "hours":
                return round(value * HOUR)
            return value
        if column.kind == "bool":
            text = _norm(value)
            if text in ("oui", "o", "yes", "true", "vrai", "1", "x"):
                return True
            if text in ("non", "n", "no", "false", "faux", "0"):
                return False
            self.error(number, where, f"« oui » ou « non » attendu, « {value} » trouvé")
            return None
        if column.kind == "choice":
            assert column.choices is not None
            text = _norm(value)
            for code, label in column.choices.items():
                if text in (_norm(code), _norm(label)):
                    return code
            allowed = ", ".join(column.choices.values())
            self.error(number, where, f"valeur « {value} » inconnue (attendu : {allowed})")
            return None
        if column.kind == "list":
            assert column.choices is not None
            items = [p.strip() for p in str(value).replace(";", ",").split(",") if p.strip()]
            unknown = [p for p in items if p not in column.choices]
            if unknown:
                self.error(number, where, f"périmètre(s) inconnu(s) : {', '.join(unknown)}")
                return None
            return tuple(items)
        raise AssertionError(column.kind)

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        out = []
        for number, values in self.rows:
            before = len(self.problems)
            record = {c.header: self.get(number, values, c) for c in self.columns}
            record["_ok"] = len(self.problems) == before
            out.append((number, record))
        return out


MAX_UNCOMPRESSED = 64 * 1024 * 1024  # an xlsx is a zip: bounded before openpyxl reads it


def _check_size(source) -> None:
    """Refuse a file that is not a zip or that expands beyond the limits (zip bomb)."""
    try:
        limits = Limits(max_total=MAX_UNCOMPRESSED, max_ratio=100, max_files=2000)
        check_zip(source, limits, "Classeur Excel (.xlsx)")
    except ArchiveError as exc:
        raise WorkbookError(str(exc)) from exc


def read_workbook(source: str | Path | IO[bytes]) -> tuple[Bia, list[Problem]]:
    """Read a BIA workbook. Returns the BIA (as far as it could be read) and the problems found,
    each with its sheet, row and column."""
    _check_size(source)
    try:
        # Read-only: streamed, and no cell object made for every position of a sheet's
        # stated size (a row numbered 2,000,000,000 made openpyxl build a million rows, then a 500)
        wb = load_workbook(source, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise WorkbookError(f"fichier illisible comme classeur Excel (.xlsx) : {exc}") from exc
    try:
        return _read_sheets(wb)
    except SheetError as exc:
        raise WorkbookError(str(exc)) from exc
    except (KeyError, ValueError, AttributeError, TypeError, SyntaxError, OSError) as exc:
        raise WorkbookError(  # a damaged sheet (XML not well-formed…)
            "classeur Excel endommagé ; enregistrez-le de nouveau depuis le tableur"
        ) from exc
    finally:
        wb.close()


def _read_sheets(wb) -> tuple[Bia, list[Problem]]:
    problems: list[Problem] = []
    known = {_norm(n): n for n in [README, *SHEETS]}
    sheets: dict[str, Any] = {}
    for ws in wb.worksheets:
        ws.reset_dimensions()  # never trust the file's stated size: rows beyond it are read too
        name = known.get(_norm(ws.title))
        if name is None:
            problems.append(Problem(f"feuille « {ws.title} » inconnue", ws.title))
        else:
            sheets[name] = ws
    for name in SHEETS:
        if name not in sheets:
            problems.append(Problem(f"feuille « {name} » absente", name))
    if any(p.message.endswith("absente") for p in problems):
        return Bia(), problems

    method = _read_method(sheets, problems)
    labels = [h.label for h in method.horizons]
    label_norms = {_norm(label): label for label in labels}

    bia = Bia(method=method)
    for number, r in _Sheet(sheets[ENTITIES], ENTITY_COLUMNS, problems).records():
        if r["FINESS"] and r["Nom"]:
            bia.entities.append(
                Entity(
                    r["FINESS"],
                    r["Nom"],
                    r["Poids d'activité"] or 0.0,
                    r["Unité"] or "",
                    r["Périmètres absents"] or (),
                    row=number,
                )
            )
    for number, r in _Sheet(sheets[ACTIVITIES], ACTIVITY_COLUMNS, problems).records():
        if r["Code"] and r["Nom"]:
            bia.activities.append(
                Activity(
                    code=r["Code"],
                    name=r["Nom"],
                    kind=r["Type"] or "support",
                    entity=r["Entité"] or "",
                    owner=r["Responsable"] or "",
                    patient_impact_major=bool(r["Impact patient majeur"]),
                    rto_seconds=r["RTO (heures)"],
                    rpo_seconds=r["PDMA (heures)"],
                    dmia_override_seconds=r["DMIA forcée (heures)"],
                    dmia_override_reason=r["Motif du forçage"] or "",
                    mbco=r["Niveau de service minimal"] or "",
                    row=number,
                )
            )
    activities = {a.code: a for a in bia.activities}
    impact_by = {}
    for t in method.impact_types:
        impact_by[_norm(t.code)] = t.code
        impact_by[_norm(t.label)] = t.code
    sheet = _Sheet(
        sheets[RATINGS], RATING_FIXED, problems, extra_ok=lambda h: _norm(h) in label_norms
    )
    present = {label_norms[_norm(name)] for name, _ in sheet.extra}
    for label in labels:
        if label not in present:
            sheet.error(1, f"« {label} »", "colonne d'horizon absente (feuille Horizons)")
    level_column = Column("niveau", "number")
    seen_pairs: dict[tuple[str, str], int] = {}
    for number, values in sheet.rows:
        code = sheet.get(number, values, RATING_FIXED[0])
        impact_text = sheet.get(number, values, RATING_FIXED[1])
        if code is None or impact_text is None:
            continue
        if code not in activities:
            sheet.error(
                number, sheet.ref("Activité"), f"activité « {code} » inconnue (feuille Activités)"
            )
            continue
        impact = impact_by.get(_norm(impact_text))
        if impact is None:
            sheet.error(
                number, sheet.ref("Type d'impact"), f"type d'impact « {impact_text} » inconnu"
            )
            continue
        if (code, impact) in seen_pairs:
            sheet.error(
                number,
                sheet.ref("Type d'impact"),
                f"cotation déjà saisie ligne {seen_pairs[(code, impact)]} pour {code} / {impact}",
            )
            continue
        seen_pairs[(code, impact)] = number
        activities[code].rating_rows[impact] = number
        per_horizon = activities[code].ratings.setdefault(impact, {})
        for name, position in sheet.extra:
            raw = values[position] if position < len(values) else None
            if raw is None or str(raw).strip() == "":
                continue
            letter = f"{get_column_letter(position + 1)} « {name} »"
            value = sheet.convert(number, name, raw, level_column)
            if value is None:
                continue
            if value != int(value) or not 0 <= value <= method.max_level:
                sheet.error(
                    number,
                    letter,
                    f"niveau entier de 0 à {method.max_level} attendu, « {raw} » trouvé",
                )
                continue
            per_horizon[label_norms[_norm(name)]] = int(value)
    for number, r in _Sheet(sheets[RESOURCES], RESOURCE_COLUMNS, problems).records():
        if r["Code"] and r["Nom"]:
            bia.resources.append(
                Resource(
                    code=r["Code"],
                    name=r["Nom"],
                    kind=r["Type"] or "application",
                    owner=r["Responsable"] or "",
                    trust_core=bool(r["Socle de confiance"]),
                    restore_seconds=r["Durée de restauration (heures)"],
                    measured_rto_seconds=r["RTO mesuré (heures)"],
                    measured_rpo_seconds=r["PDMA mesurée (heures)"],
                    contract=r["Contrat fournisseur"] or "",
                    row=number,
                )
            )
    for number, r in _Sheet(sheets[DEPENDENCIES], DEPENDENCY_COLUMNS, problems).records():
        if r["De"] and r["Vers"]:
            bia.dependencies.append(
                Dependency(
                    r["De"],
                    r["Vers"],
                    r["Nature"] != "soft",
                    bool(r["Contournement"]),
                    r["Notes"] or "",
                    row=number,
                )
            )
    for number, r in _Sheet(sheets[NEEDS], NEED_COLUMNS, problems).records():
        if r["Activité"] and r["Nature"] and r["Élément"]:
            bia.needs.append(
                Need(
                    r["Activité"],
                    r["Nature"],
                    r["Élément"],
                    r["Quantité"],
                    r["Par"] or "",
                    r["Lieu de stockage"] or "",
                    bool(r["Prêt"]),
                    row=number,
                )
            )
    bia.columns = {
        name: _letters(sheets[name], [c.header for c in SHEETS[name]] + list(labels))
        if name == RATINGS
        else _letters(sheets[name], [c.header for c in SHEETS[name]])
        for name in SHEETS
    }
    return bia, problems


def _letters(ws, headers: list[str]) -> dict[str, str]:
    """Header → column letter, as the sheet actually lays its columns out."""
    by_norm = {_norm(header): header for header in headers}
    found: dict[str, str] = {}
    for position, cell in enumerate(next(ws.iter_rows(min_row=1, max_row=1), ())):
        header = by_norm.get(_norm(cell.value))
        if header is not None and header not in found:
            found[header] = get_column_letter(position + 1)
    return found


def template_letters(method: Method) -> dict[str, dict[str, str]]:
    """Header → column letter in the workbook ``write_workbook`` produces (horizons follow
    the fixed columns of « Cotations »)."""
    letters = {
        name: {c.header: get_column_letter(i) for i, c in enumerate(columns, start=1)}
        for name, columns in SHEETS.items()
    }
    for index, horizon in enumerate(method.horizons, start=len(RATING_FIXED) + 1):
        letters[RATINGS][horizon.label] = get_column_letter(index)
    return letters


def _read_method(sheets, problems: list[Problem]) -> Method:
    default = Method()
    threshold = default.threshold
    parameters = _Sheet(sheets[PARAMETERS], PARAMETER_COLUMNS, problems)
    threshold_row = None
    for number, r in parameters.records():
        if _norm(r["Paramètre"]) == _norm(THRESHOLD_KEY) and r["Valeur"] is not None:
            threshold, threshold_row = int(r["Valeur"]), number
        elif r["Paramètre"]:
            parameters.error(
                number, parameters.ref("Paramètre"), f"paramètre « {r['Paramètre']} » inconnu"
            )
    horizons = []
    sheet = _Sheet(sheets[HORIZONS], HORIZON_COLUMNS, problems)
    for number, r in sheet.records():
        if r["Libellé"] and r["Durée (heures)"] is not None:
            if horizons and r["Durée (heures)"] <= horizons[-1].seconds:
                sheet.error(
                    number, sheet.ref("Durée (heures)"), "les horizons doivent être croissants"
                )
                continue
            horizons.append(Horizon(r["Libellé"], r["Durée (heures)"]))
    if not horizons:
        problems.append(Problem("aucun horizon défini", HORIZONS))
    impacts = [
        ImpactType(r["Code"], r["Libellé"])
        for _, r in _Sheet(sheets[IMPACT_TYPES], IMPACT_COLUMNS, problems).records()
        if r["Code"] and r["Libellé"]
    ]
    if not impacts:
        problems.append(Problem("aucun type d'impact défini", IMPACT_TYPES))
    levels = [
        (int(r["Niveau"]), r["Libellé"])
        for _, r in _Sheet(sheets[SCALE], SCALE_COLUMNS, problems).records()
        if r["Niveau"] is not None and r["Libellé"]
    ]
    levels.sort()
    if [n for n, _ in levels] != list(range(len(levels))) or len(levels) < 2:
        problems.append(Problem("l'échelle doit numéroter les niveaux 0, 1, 2… sans trou", SCALE))
        levels = list(enumerate(default.levels))
    if not 0 < threshold <= len(levels) - 1:
        parameters.error(
            threshold_row, parameters.ref("Valeur"), f"seuil {threshold} hors de l'échelle"
        )
        threshold = default.threshold
    classes = []
    sheet = _Sheet(sheets[PRIORITIES], PRIORITY_COLUMNS, problems)
    for number, r in sheet.records():
        if r["Classe"] and r["Libellé"]:
            if classes and classes[-1].max_seconds is None:
                sheet.error(
                    number,
                    sheet.ref("DMIA maximale (heures)"),
                    "seule la dernière classe peut être sans borne",
                )
            classes.append(PriorityClass(r["Classe"], r["Libellé"], r["DMIA maximale (heures)"]))
    if not classes:
        problems.append(Problem("aucune classe de priorité définie", PRIORITIES))
    return Method(
        horizons=tuple(horizons) or default.horizons,
        impact_types=tuple(impacts) or default.impact_types,
        levels=tuple(label for _, label in levels),
        threshold=threshold,
        priority_classes=tuple(classes) or default.priority_classes,
    )
