"""Training campaigns: sign-in sheets and LMS exports, staff headcounts, the share of staff trained.

A sign-in sheet (feuille d'émargement) or an LMS export is a CSV (``;`` or ``,``, UTF-8 with or
without BOM, Windows-1252) or an XLSX whose columns are recognised by their French or English
header, whatever the case and accents (« Prénom », « PRENOM », « first name »). A row is one
person at one session: a name (« Nom » and « Prénom », or one « Nom complet » column) or an
e-mail address, a profession, optionally a structure, a date, a presence or completion status.

People are deduplicated: the same e-mail address is the same person; without an address, the
same name and profession (accents, case and spaces aside) is the same person, and is joined to
the one person with an address who has that name and profession. A person counts once, in the
structure and profession of their latest attendance.

The share of staff trained is, per structure and per profession, the people trained in the
period (latest attendance date inside it, both ends included) over the headcount. A parent
(GHT, pool) reads the same computation over all its structures: its totals are the roll-up.

Any malformed row (no name nor address, unreadable address or date, unknown status, date in the
future) refuses the whole file with every such line listed: nothing is half-imported.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from careops.hospiconnect.engine.tables import (
    Column,
    Problem,
    Problems,
    TableError,
    cell,
    found_columns,
    normalise_header,
    read_table,
)

STRUCTURE = Column(
    "structure",
    "structure",
    (
        "structure",
        "etablissement",
        "site",
        "finess",
        "entite",
        "organisation",
        "organization",
        "institution",
    ),  # fmt: skip
)
SHEET_COLUMNS = [
    Column(
        "last_name",
        "nom",
        ("nom", "nom de famille", "nom usuel", "last name", "lastname", "surname"),
    ),
    Column("first_name", "prénom", ("prenom", "first name", "firstname", "given name")),
    Column(
        "full_name",
        "nom complet",
        (
            "nom complet",
            "nom et prenom",
            "nom prenom",
            "prenom nom",
            "participant",
            "stagiaire",
            "apprenant",
            "agent",
            "full name",
            "name",
            "learner",
        ),
    ),
    Column(
        "email",
        "adresse électronique",
        (
            "email",
            "e mail",
            "mail",
            "courriel",
            "adresse mail",
            "adresse e mail",
            "adresse email",
            "adresse electronique",
            "adresse courriel",
            "email address",
        ),
    ),
    Column(
        "profession",
        "profession",
        (
            "profession",
            "metier",
            "fonction",
            "categorie professionnelle",
            "categorie",
            "poste",
            "emploi",
            "qualification",
            "job title",
            "position",
        ),
        required=True,
    ),
    STRUCTURE,
    Column(
        "date",
        "date",
        (
            "date",
            "date de session",
            "date de la session",
            "date de formation",
            "date d achevement",
            "date de fin",
            "date de completion",
            "date de realisation",
            "termine le",
            "completion date",
            "completed on",
        ),
    ),
    Column(
        "status",
        "présence",
        (
            "presence",
            "present",
            "statut",
            "status",
            "emargement",
            "signature",
            "etat",
            "achevement",
            "completion",
            "resultat",
        ),
    ),
    Column("module", "module", ("module", "formation", "cours", "course", "intitule", "theme")),
]

HEADCOUNT_COLUMNS = [
    STRUCTURE,
    Column(
        "profession",
        "profession",
        ("profession", "metier", "fonction", "categorie professionnelle", "categorie", "emploi"),
        required=True,
    ),
    Column(
        "headcount",
        "effectif",
        (
            "effectif",
            "effectifs",
            "effectif physique",
            "nombre",
            "nombre d agents",
            "nombre de salaries",
            "nb agents",
            "headcount",
        ),
        required=True,
    ),
]

PRESENT = {
    "oui", "o", "x", "1", "true", "vrai", "present", "presente", "signe", "signee", "emarge",
    "termine", "terminee", "complete", "completee", "completed", "complete e", "acheve",
    "achevee", "reussi", "reussie", "passed", "valide", "validee", "acquis", "yes", "attended",
}  # fmt: skip
ABSENT = {
    "non", "n", "0", "false", "faux", "absent", "absente", "excuse", "excusee", "en cours",
    "non commence", "non commencee", "not started", "in progress", "incomplete", "echoue",
    "echec", "failed", "non acquis", "no", "non valide", "non termine", "non terminee",
    "non acheve", "non achevee", "non complete", "non completee", "pas commence", "incomplet",
    "not completed", "non present", "non presente", "non reussi", "abs",
}  # fmt: skip
CHECK_MARKS = {"✓", "✔", "☑", "✅", "√", "+"}  # ticked in Excel: present
CROSS_MARKS = {"✗", "✘", "☒", "❌", "☐", "-", "–", "—"}  # crossed out or a dash: absent
EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
ALL = ""  # the structure key when a file names none
PROFESSION_MAX = 150  # the width of the stored profession
MAX_HEADCOUNT = 1_000_000  # persons of one profession in one structure (the page's bound too)


class TrainingError(TableError):
    """A file refused; ``problems`` lists every located problem (French)."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


def fold(text: str) -> str:
    """Case, accents, punctuation and blanks aside: « Aide-Soignant » → « aide soignant »."""
    return normalise_header(text)


MONTHS = {
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4,
    "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9,
    "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}  # fmt: skip
# « 3 novembre 2026 », « mardi 3 novembre 2026, 14:05 » (Moodle), « 1er déc. 2026 à 9h »
LONG_DATE = re.compile(r"^(?:[a-z]+ )?(\d{1,2})(?: ?er)? ([a-z]+) (\d{4})(?: .*)?$")


def parse_date(text: str) -> dt.date | None:
    """ISO (« 2026-03-02 », also with a time), French (« 02/03/2026 », « 02/03/26 », « 3 novembre
    2026 », « mardi 3 novembre 2026, 14:05 » as Moodle writes it) or None."""
    text = text.strip()
    if not text:
        return None
    head = text.split("T")[0].split(" ")[0].rstrip(",")  # « 03/11/26, 14:05 » (Moodle)
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(head, pattern).date()
        except ValueError:
            continue
    found = LONG_DATE.match(fold(text))
    if found and found.group(2) in MONTHS:
        try:
            return dt.date(int(found.group(3)), MONTHS[found.group(2)], int(found.group(1)))
        except ValueError:
            return None
    return None


# Professions as people write them on a sheet or a headcount file: abbreviations and the
# feminine or plural forms of one profession are the same profession (« IDE », « Infirmière »,
# « Infirmier(e) » and « Infirmiers » are « Infirmier »).
PROFESSION_ABBREVIATIONS = {
    "ide": "infirmier", "i d e": "infirmier", "infirmier diplome d etat": "infirmier",
    "as": "aide soignant", "a s": "aide soignant", "ash": "agent de service hospitalier",
    "a s h": "agent de service hospitalier", "asg": "assistant de soin en gerontologie",
    "amp": "aide medico psychologique", "aes": "accompagnant educatif et social",
}  # fmt: skip
FEMININE_ENDINGS = (
    ("iere", "ier"), ("ienne", "ien"), ("trice", "teur"), ("euse", "eur"), ("ante", "ant"),
    ("ente", "ent"), ("ere", "er"), ("ive", "if"), ("ale", "al"), ("ee", "e"),
)  # fmt: skip
INCLUSIVE_SUFFIXES = {"e", "s", "es", "ere", "ne", "ienne", "trice", "euse"}  # « Infirmier(ère) »


def _masculine_singular(word: str) -> str:
    if word == "des":
        return "de"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for ending, replacement in FEMININE_ENDINGS:
        if len(word) > len(ending) + 1 and word.endswith(ending):
            return word[: -len(ending)] + replacement
    return word


def profession_key(text: str) -> str:
    """The key that matches a profession however it is written: « Aide-soignante »,
    « aide soignant », « AS » → « aide soignant »."""
    folded = fold(text)
    folded = PROFESSION_ABBREVIATIONS.get(folded, folded)
    words = [w for w in folded.split() if w not in INCLUSIVE_SUFFIXES]
    key = " ".join(_masculine_singular(w) for w in words) or folded
    return PROFESSION_ABBREVIATIONS.get(key, key)


@dataclass
class Attendance:
    """One row of a sign-in sheet: a person at a session (``present`` False: listed, not counted)."""

    line: int
    last_name: str
    first_name: str
    email: str
    profession: str
    structure: str
    date: dt.date
    present: bool
    module: str = ""

    @property
    def name_key(self) -> str:
        return fold(f"{self.last_name} {self.first_name}") + "|" + profession_key(self.profession)


@dataclass
class Person:
    """One person after deduplication, with their latest attendance."""

    key: str
    last_name: str
    first_name: str
    email: str
    profession: str
    structure: str
    date: dt.date
    lines: list[int] = field(default_factory=list)


@dataclass
class Sheet:
    """A sign-in sheet read whole: its rows, the people it trains and what was merged."""

    file: str
    columns: dict[str, str]
    rows: list[Attendance]
    people: list[Person]
    absent: int
    merged: list[list[int]]  # lines found to be the same person

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "columns": self.columns,
            "rows": len(self.rows),
            "present": len(self.rows) - self.absent,
            "absent": self.absent,
            "people": len(self.people),
            "merged": self.merged,
        }


def _split_full_name(text: str) -> tuple[str, str]:
    """« DUPONT Marie » or « Marie Dupont »: the last name is the upper-case part when there is
    one, else the last word."""
    words = text.split()
    upper = [w for w in words if w.isupper() and len(w) > 1]
    if upper and len(upper) < len(words):
        return " ".join(upper), " ".join(w for w in words if w not in upper)
    if len(words) > 1:
        return words[-1], " ".join(words[:-1])
    return text, ""


# A sign-in sheet has a title, a date or a trainer above its table: its header is looked for in
# the first lines of the file.
HEADER_WITHIN = 10
MAPPING_HINT = (
    "Renommez-les ou indiquez la correspondance des colonnes (« Correspondance des "
    "colonnes » du formulaire, ou --colonnes en ligne de commande)."
)


def _header_hint(message: str) -> str:
    """The shared reader's advice names a column-mapping field that the awareness imports do not
    have: say what works here instead."""
    return message.replace(
        MAPPING_HINT,
        f"Renommez les colonnes dans le fichier (la ligne d'en-tête est cherchée dans ses "
        f"{HEADER_WITHIN} premières lignes).",
    )


def read_sheet(
    path: Path,
    default_date: dt.date | None = None,
    today: dt.date | None = None,
    file_name: str | None = None,
    mapping: dict[str, str] | None = None,
) -> Sheet:
    """Read a sign-in sheet or LMS export whole; TrainingError listing every bad line."""
    path = Path(path)
    shown = file_name or path.name
    today = today or dt.date.today()
    try:
        layout, rows = read_table(path, SHEET_COLUMNS, mapping, HEADER_WITHIN)
    except TrainingError:
        raise
    except TableError as exc:
        raise TrainingError(_header_hint(str(exc).replace(path.name, shown, 1))) from exc
    if not {"last_name", "full_name", "email"} & set(layout.index):
        raise TrainingError(
            f"{shown} : aucune colonne pour identifier les personnes (« Nom » et « Prénom », "
            f"« Nom complet » ou « Adresse électronique »). Colonnes trouvées : "
            f"{found_columns(layout.headers)}"
        )
    if "date" not in layout.index and default_date is None:
        raise TrainingError(f"{shown} : pas de colonne « Date » : indiquez la date de la séance.")
    problems = Problems()
    found: list[Attendance] = []
    unmarked = 0  # rows whose presence cell is empty
    try:
        for line, cells in rows:
            row = _row(shown, line, cells, layout, default_date, today, problems)
            if row is not None:
                found.append(row)
                unmarked += "status" in layout.index and not cell(cells, layout, "status")
    except TableError as exc:
        raise TrainingError(str(exc).replace(path.name, shown, 1)) from exc
    if problems.items:
        raise TrainingError(_summary(shown, problems), problems.items)
    if not found:
        raise TrainingError(f"{shown} : aucune ligne de participant")
    if unmarked == len(found):
        column = layout.headers[layout.index["status"]]
        raise TrainingError(
            f"{shown} : la colonne « {column} » est vide sur toutes les lignes : personne ne "
            "serait compté présent. Si les signatures sont sur le papier, marquez chaque présent "
            "d'un X (ou « oui ») dans cette colonne ; si toutes les personnes listées étaient "
            "présentes, supprimez la colonne. Rien n'est importé."
        )
    people, merged = dedupe(found)
    return Sheet(
        shown,
        {key: layout.headers[i] for key, i in layout.index.items()},
        found,
        people,
        sum(1 for r in found if not r.present),
        merged,
    )


def _summary(shown: str, problems: Problems) -> str:
    lines = [f"{shown} : fichier refusé, rien n'est importé ({len(problems.items)} problème(s))"]
    lines += [f"- {p.as_text()}" for p in problems.items]
    for kind, count in problems.overflow.items():
        lines.append(f"- et {count} autre(s) ligne(s) : {kind}")
    return "\n".join(lines)


def _row(shown, line, cells, layout, default_date, today, problems) -> Attendance | None:
    def problem(message: str, column: str = "", kind: str = "") -> None:
        problems.add(Problem(shown, message, line, column), kind or message)

    last, first = cell(cells, layout, "last_name"), cell(cells, layout, "first_name")
    full = cell(cells, layout, "full_name")
    if not last and full:
        last, first = _split_full_name(full)
    email = cell(cells, layout, "email").lower()
    profession = " ".join(cell(cells, layout, "profession").split())
    if not (last or email):
        problem("ni nom ni adresse électronique : la personne n'est pas identifiable")
        return None
    if email and not EMAIL.match(email):
        problem(
            f"adresse électronique illisible « {email} »",
            layout.headers[layout.index["email"]],
            "adresse illisible",
        )
        return None
    if not profession:
        problem("profession vide", layout.headers[layout.index["profession"]], "profession vide")
        return None
    present = True
    if "status" in layout.index:
        raw_status = cell(cells, layout, "status")
        status = fold(raw_status)
        if status in PRESENT or (not status and raw_status.strip() in CHECK_MARKS):
            present = True
        elif status in ABSENT or not raw_status.strip() or raw_status.strip() in CROSS_MARKS:
            present = False
        else:
            problem(
                f"présence illisible « {cell(cells, layout, 'status')} » (attendu : oui, présent, "
                "terminé… ou non, absent, en cours…)",
                layout.headers[layout.index["status"]],
                "présence illisible",
            )
            return None
    raw_date = cell(cells, layout, "date")
    date = parse_date(raw_date) if raw_date else default_date
    if date is None and not raw_date and not present:
        date = today  # an LMS gives no completion date to whom has not finished: not counted
    if date is None:
        problem(
            f"date illisible « {raw_date} » (attendu jj/mm/aaaa, aaaa-mm-jj ou 3 novembre 2026)"
            if raw_date
            else "date vide",
            layout.headers[layout.index["date"]] if "date" in layout.index else "",
            "date illisible",
        )
        return None
    if date > today:
        problem(f"date future « {raw_date or date.isoformat()} »", kind="date future")
        return None
    return Attendance(
        line,
        last,
        first,
        email,
        profession,
        cell(cells, layout, "structure"),
        date,
        present,
        cell(cells, layout, "module"),
    )


def dedupe(rows: Iterable[Attendance]) -> tuple[list[Person], list[list[int]]]:
    """People trained (present rows only), one per e-mail address or per name and profession;
    each keeps their latest attendance. Returns the people and the lines merged together."""
    present = [r for r in rows if r.present]
    email_of_name: dict[str, set[str]] = defaultdict(set)
    for row in present:
        if row.email and row.last_name:
            email_of_name[row.name_key].add(row.email)
    groups: dict[str, list[Attendance]] = defaultdict(list)
    for row in present:
        if row.email:
            key = f"email:{row.email}"
        elif len(email_of_name.get(row.name_key, ())) == 1:
            key = f"email:{next(iter(email_of_name[row.name_key]))}"
        else:
            key = f"nom:{row.name_key}"
        groups[key].append(row)
    people = []
    merged = []
    for key, group in groups.items():
        latest = max(group, key=lambda r: (r.date, r.line))
        named = next((r for r in reversed(group) if r.last_name), latest)
        email = next((r.email for r in group if r.email), "")
        people.append(
            Person(
                key,
                named.last_name,
                named.first_name,
                email,
                latest.profession,
                latest.structure,
                latest.date,
                sorted(r.line for r in group),
            )
        )
        if len(group) > 1:
            merged.append(sorted(r.line for r in group))
    people.sort(key=lambda p: (fold(p.last_name), fold(p.first_name), p.key))
    return people, sorted(merged)


@dataclass(frozen=True)
class Headcount:
    structure: str
    profession: str
    count: int
    line: int = 0


def read_headcount(path: Path, file_name: str | None = None) -> list[Headcount]:
    """A staff headcount file: structure (optional), profession, headcount (persons, an integer)."""
    path = Path(path)
    shown = file_name or path.name
    try:
        layout, rows = read_table(path, HEADCOUNT_COLUMNS, header_within=HEADER_WITHIN)
        problems = Problems()
        found: dict[tuple[str, str], Headcount] = {}
        for line, cells in rows:
            structure = cell(cells, layout, "structure")
            profession = " ".join(cell(cells, layout, "profession").split())
            raw = cell(cells, layout, "headcount").replace(" ", "").replace("\u202f", "")
            whole = re.fullmatch(r"0*(\d+)(?:[.,]0+)?", raw or "")
            # a whole number of a sane length (int() of 5,000 digits raised a 500)
            count = int(whole.group(1)) if whole and len(whole.group(1)) <= 9 else None
            if not profession:
                problems.add(Problem(shown, "profession vide", line), "profession vide")
                continue
            if len(profession) > PROFESSION_MAX:
                problems.add(
                    Problem(
                        shown,
                        f"profession de {len(profession)} caractères « {profession[:40]}… » (au "
                        f"plus {PROFESSION_MAX})",
                        line,
                    ),
                    "profession trop longue",
                )
                continue
            if count is None and not whole:
                problems.add(
                    Problem(
                        shown,
                        f"effectif illisible « {raw[:40]} » (un nombre entier de personnes)",
                        line,
                    ),
                    "effectif illisible",
                )
                continue
            if count is None or count > MAX_HEADCOUNT:
                problems.add(
                    Problem(
                        shown,
                        f"effectif de {raw[:40]} personnes : au plus {MAX_HEADCOUNT} par structure "
                        "et profession",
                        line,
                    ),
                    "effectif trop grand",
                )
                continue
            key = (fold(structure), profession_key(profession))
            if key in found:
                same = found[key].profession
                also = f" (« {same} », même profession)" if same != profession else ""
                problems.add(
                    Problem(
                        shown,
                        f"« {structure or 'ensemble'} / {profession} » déjà donné ligne "
                        f"{found[key].line}{also}",
                        line,
                    ),
                    "doublon",
                )
                continue
            found[key] = Headcount(structure, profession, count, line)
    except TrainingError:
        raise
    except TableError as exc:
        raise TrainingError(_header_hint(str(exc).replace(path.name, shown, 1))) from exc
    if problems.items:
        raise TrainingError(_summary(shown, problems), problems.items)
    if not found:
        raise TrainingError(f"{shown} : aucun effectif")
    return list(found.values())


# --- shares --------------------------------------------------------------------------------------


@dataclass
class Share:
    """Trained people over headcount (``share`` None without a headcount)."""

    label: str
    trained: int = 0
    headcount: int = 0

    @property
    def share(self) -> float | None:
        return self.trained / self.headcount if self.headcount else None

    def as_json(self) -> dict:
        return asdict(self) | {"share": self.share}


@dataclass
class StructureShares:
    key: str
    label: str
    total: Share
    professions: list[Share]

    def as_json(self) -> dict:
        return {
            "structure": self.label,
            "key": self.key,
            **self.total.as_json(),
            "professions": [p.as_json() for p in self.professions],
        }


@dataclass
class Report:
    """Shares per structure and profession over a period; ``total`` is the roll-up."""

    start: dt.date
    end: dt.date
    structures: list[StructureShares]
    professions: list[Share]
    total: Share
    warnings: list[str]

    def as_json(self) -> dict:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "total": self.total.as_json(),
            "structures": [s.as_json() for s in self.structures],
            "professions": [p.as_json() for p in self.professions],
            "warnings": self.warnings,
        }

    @classmethod
    def from_json(cls, data: dict) -> Report:
        """The report ``as_json`` wrote (a closed campaign's frozen share). Structures frozen
        before their key was written have an empty key."""

        def share(item: dict) -> Share:
            return Share(str(item.get("label", "")), int(item["trained"]), int(item["headcount"]))

        return cls(
            dt.date.fromisoformat(data["period"]["start"]),
            dt.date.fromisoformat(data["period"]["end"]),
            [
                StructureShares(
                    str(s.get("key", "")),
                    s["structure"],
                    share({"label": s["structure"]} | s),
                    [share(p) for p in s.get("professions", [])],
                )
                for s in data.get("structures", [])
            ],
            [share(p) for p in data.get("professions", [])],
            share(data["total"]),
            list(data.get("warnings", [])),
        )


def period_ending(end: dt.date, months: int = 12) -> dt.date:
    """The first day of a period of ``months`` months ending on ``end`` (both included):
    12 months ending 15/03/2027 start on 16/03/2026."""
    year, month = divmod(end.year * 12 + end.month - 1 - months, 12)
    month += 1
    day = min(end.day, _days_in(year, month))
    return dt.date(year, month, day) + dt.timedelta(days=1)


def _days_in(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day


def shares(
    people: Iterable[Person],
    headcounts: Iterable[Headcount],
    start: dt.date,
    end: dt.date,
    structure_labels: dict[str, str] | None = None,
) -> Report:
    """Share of staff trained per structure, per profession and in all (the roll-up).

    Structures are matched case-, accent- and blank-insensitively, professions by
    ``profession_key`` (« IDE » and « Infirmière » are « Infirmier »); when either side names no
    structure, everything is counted together."""
    people = [p for p in people if start <= p.date <= end]
    headcounts = list(headcounts)
    warnings: list[str] = []
    with_structure = any(h.structure for h in headcounts) and any(p.structure for p in people)
    if not headcounts:
        warnings.append(
            "aucun effectif déclaré : saisissez ou importez les effectifs pour calculer la part "
            "du personnel formé"
        )
    elif not with_structure and (
        any(h.structure for h in headcounts) or any(p.structure for p in people)
    ):
        warnings.append(
            "un seul des deux fichiers nomme les structures : parts calculées pour l'ensemble"
        )
    labels = dict(structure_labels or {})
    if not with_structure:  # everything counted together: never one structure's key as label
        labels[ALL] = "Ensemble"

    def skey(text: str) -> str:
        return fold(text) if with_structure else ALL

    profession_label: dict[str, str] = {}
    for h in headcounts:
        profession_label.setdefault(profession_key(h.profession), h.profession)
        labels.setdefault(skey(h.structure), h.structure or "Ensemble")
    cells: dict[tuple[str, str], Share] = {}
    for h in headcounts:
        key = (skey(h.structure), profession_key(h.profession))
        cells.setdefault(key, Share(profession_label[key[1]])).headcount += h.count
    unmatched: dict[str, int] = defaultdict(int)
    for person in people:
        key = (skey(person.structure), profession_key(person.profession))
        profession_label.setdefault(key[1], person.profession)
        labels.setdefault(key[0], person.structure or "Ensemble")
        if key not in cells:
            unmatched[f"{labels[key[0]]} / {person.profession}"] += 1
        cells.setdefault(key, Share(profession_label[key[1]])).trained += 1
    for where, count in sorted(unmatched.items()) if headcounts else ():
        warnings.append(f"{count} personne(s) formée(s) sans effectif déclaré : {where}")
    structures: list[StructureShares] = []
    for structure in sorted({k[0] for k in cells}, key=lambda s: fold(labels[s])):
        rows = sorted(
            (share for (s, _), share in cells.items() if s == structure),
            key=lambda x: fold(x.label),
        )
        total = Share(
            labels[structure], sum(r.trained for r in rows), sum(r.headcount for r in rows)
        )
        structures.append(StructureShares(structure, labels[structure], total, rows))
    by_profession: dict[str, Share] = {}
    for (_, profession), share in cells.items():
        entry = by_profession.setdefault(profession, Share(profession_label[profession]))
        entry.trained += share.trained
        entry.headcount += share.headcount
    for share in cells.values():
        if share.headcount and share.trained > share.headcount:
            warnings.append(
                f"{share.label} : {share.trained} personnes formées pour un effectif de "
                f"{share.headcount} (effectif à mettre à jour ?)"
            )
    total = Share(
        "Ensemble",
        sum(s.total.trained for s in structures),
        sum(s.total.headcount for s in structures),
    )
    return Report(
        start,
        end,
        structures,
        sorted(by_profession.values(), key=lambda x: fold(x.label)),
        total,
        warnings,
    )


def percent(value: float | None) -> str:
    """« 41,7 % », « 100 % », « — »."""
    if value is None:
        return "—"
    return f"{value * 100:.1f} %".replace(".", ",").replace(",0 %", " %")
