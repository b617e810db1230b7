"""HospiConnect indicators computed from the establishment's own exports.

Inputs (each a CSV or XLSX export; see docs/hospiconnect.md for the columns):
- the DPI user export (required): account, name, profession, RPPS/ADELI, active, last login, MFA;
- an RPPS extract (optional): the public Annuaire Santé extraction, pipe-separated, streamed;
- an IdP / directory export of MFA enrolment (optional), joined with the DPI users by account;
- DMP activity (optional): monthly TD3.1 consultations per user, consents and the monthly file
  active.

Output: each indicator with its numerator, denominator, the accounts that fail it (to fix), the
month-by-month trend where the data is monthly, the referential items it proves and their
targets, and the indicator evidence in the dossier format of ``careops evaluate``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path

import yaml

from careops.hospiconnect.engine import identifiers
from careops.hospiconnect.engine.tables import (
    Column,
    Problem,
    Problems,
    TableError,
    cell,
    detect_encoding,
    normalise_header,
    read_table,
)

DATA_FILE = Path(__file__).with_name("hospiconnect.yaml")
REFERENTIAL_DIR = Path(__file__).parents[2] / "catalogue" / "referential"


def referential_file() -> Path:
    """The newest HospiConnect version of the shipped referential (hospiconnect-v1.1.yaml > v1)."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.stem.split("-v", 1)[1].split("."))

    return max(REFERENTIAL_DIR.glob("hospiconnect-v*.yaml"), key=version)


DPI_COLUMNS = [
    Column(
        "account",
        "compte",
        (
            "compte",
            "login",
            "identifiant",
            "identifiant de connexion",
            "utilisateur",
            "nom d utilisateur",
            "account",
            "username",
            "user id",
            "uid",
            "matricule",
        ),
        required=True,
    ),
    Column(
        "name", "nom", ("nom", "nom complet", "nom prenom", "name", "nom d usage", "nom d exercice")
    ),
    Column("first_name", "prénom", ("prenom", "first name", "given name", "prenom d exercice")),
    Column(
        "profession",
        "profession",
        (
            "profession",
            "metier",
            "fonction",
            "libelle profession",
            "code profession",
            "categorie professionnelle",
            "profil",
        ),
        required=True,
    ),
    Column(
        "rpps",
        "RPPS",
        (
            "rpps",
            "n rpps",
            "numero rpps",
            "no rpps",
            "num rpps",
            "rpps adeli",
            "identifiant rpps",
            "identifiant pp",
            "identification nationale pp",
            "idnat",
            "identifiant national",
        ),
        required=True,
    ),
    Column("adeli", "ADELI", ("adeli", "n adeli", "numero adeli")),
    Column(
        "active",
        "actif",
        ("actif", "active", "statut", "etat", "compte actif", "enabled", "statut du compte"),
    ),
    Column(
        "last_login",
        "dernière connexion",
        (
            "derniere connexion",
            "date derniere connexion",
            "date de derniere connexion",
            "last login",
            "lastlogon",
            "last logon",
        ),
    ),
    Column(
        "mfa",
        "moyen d'authentification",
        (
            "mfa",
            "2fa",
            "methode d authentification",
            "moyen d authentification",
            "moyen d identification",
            "authentification",
            "mie",
            "double authentification",
            "methode mfa",
        ),
    ),
    Column(
        "dmp", "habilité DMP", ("habilite dmp", "habilitation dmp", "acces dmp", "droit dmp", "dmp")
    ),
]
MFA_COLUMNS = [
    Column(
        "account",
        "compte",
        (
            "compte",
            "login",
            "identifiant",
            "utilisateur",
            "account",
            "username",
            "samaccountname",
            "user principal name",
            "upn",
            "uid",
        ),
        required=True,
    ),
    Column(
        "mfa",
        "moyen d'authentification",
        (
            "mfa",
            "2fa",
            "methode",
            "methode d authentification",
            "moyen d authentification",
            "moyen",
            "facteur",
            "type de facteur",
            "etat 2fa",
            "statut mfa",
            "enrolement",
            "mie",
        ),
        required=True,
    ),
]
DMP_COLUMNS = [
    Column("month", "mois", ("mois", "periode", "month", "mois de reference"), required=True),
    Column(
        "account",
        "compte",
        ("compte", "login", "identifiant", "utilisateur", "account", "username"),
    ),
    Column(
        "consultations",
        "consultations TD3.1",
        (
            "consultations",
            "consultations dmp",
            "consultations td3 1",
            "td3 1",
            "nb td3 1",
            "nombre de consultations",
            "nb consultations",
        ),
    ),
    Column(
        "consents",
        "consentements",
        ("consentements", "consentements recueillis", "consentement", "nb consentements"),
    ),
    Column(
        "file_active",
        "file active",
        ("file active", "file active mensuelle", "patients file active", "patients"),
    ),
]
RPPS_ID_HEADERS = ("identifiant pp", "identification nationale pp")

_TRUE = {"oui", "o", "yes", "y", "true", "vrai", "1", "actif", "active", "a", "enabled", "x"}
_FALSE = {
    "non",
    "n",
    "no",
    "false",
    "faux",
    "0",
    "inactif",
    "inactive",
    "i",
    "disabled",
    "desactive",
    "supprime",
    "clos",
}


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present, always safe


def _load_yaml(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (safe loader)


@cache
def data() -> dict:
    return _load_yaml(DATA_FILE)


@cache
def referential_targets() -> dict[str, tuple[str, float, int]]:
    """item id → (evidence kind, target, year) of every indicator criterion of the referential."""
    document = _load_yaml(referential_file())
    targets = {}
    for item in document.get("items", []):
        for criterion in item.get("criteria", []) or []:
            if criterion.get("type") == "indicator":
                year = int(str(item["id"]).split(".")[1])
                targets[item["id"]] = (criterion["evidence_kind"], float(criterion["target"]), year)
    return targets


@cache
def _names(table: str) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Folded names and codes of a data table (``professions`` or ``mfa_methods``) → key, and
    the names longest first for prefix matching."""
    index = {}
    for key, spec in data()[table].items():
        for name in spec.get("names", []):
            index[normalise_header(str(name))] = key
        for code in spec.get("codes", []):
            index[str(code)] = key
    longest = tuple(
        sorted(((n, k) for n, k in index.items() if len(n) > 3), key=lambda p: -len(p[0]))
    )
    return index, longest


@cache
def lookup(table: str, raw: str) -> str | None:
    """Key of data table ``table`` that names ``raw`` (folded); a longer label that starts or
    ends with a known name (« médecin anesthésiste ») matches that name."""
    folded = normalise_header(raw)
    if not folded:
        return None
    index, longest = _names(table)
    if folded in index:
        return index[folded]
    for name, key in longest:
        if folded.startswith(name + " ") or folded.endswith(" " + name):
            return key
    return None


def professions() -> dict:
    return data()["professions"]


def mfa_methods() -> dict:
    return data()["mfa_methods"]


@dataclass
class DpiUser:
    account: str
    name: str
    profession_raw: str
    profession: str | None
    rpps: str
    rpps_problem: str | None
    active: bool
    last_login: str
    mfa_raw: str
    mfa: str | None
    dmp_authorised: bool | None
    line: int
    source_mfa: str = "dpi"
    extract_profession: str | None = None


@dataclass
class Failing:
    account: str
    name: str
    reason: str


@dataclass
class Indicator:
    id: str
    label: str
    evidence_kind: str
    numerator: int | None
    denominator: int | None
    ratio: float | None
    items: list[dict]
    failing: list[Failing] = field(default_factory=list)
    failing_count: int = 0
    trend: list[dict] = field(default_factory=list)
    month: str | None = None
    reason: str = ""
    to_confirm: str = ""


@dataclass
class Report:
    as_of: str
    month: str | None
    inputs: dict
    counts: dict
    indicators: list[Indicator]
    problems: list[Problem]
    overflow: dict[str, int]
    evidence: list[dict]
    users: list[DpiUser] = field(default_factory=list, repr=False)

    @property
    def blocking(self) -> bool:
        return any(problem.blocking for problem in self.problems)

    def as_json(self) -> dict:
        data = asdict(self)
        del data["users"]
        return data | {"blocking": self.blocking}


def _bool(raw: str) -> bool | None:
    folded = normalise_header(raw)
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return None


def _month(raw: str) -> str | None:
    raw = raw.strip()
    for pattern, order in (
        (r"(\d{4})[-/](\d{1,2})(?:[-/]\d{1,2})?", "ym"),
        (r"(?:\d{1,2}/)?(\d{1,2})/(\d{4})", "my"),
    ):
        match = re.fullmatch(pattern, raw)
        if match:
            first, second = match.groups()
            year, month = (first, second) if order == "ym" else (second, first)
            if 1 <= int(month) <= 12:
                return f"{int(year):04d}-{int(month):02d}"
    return None


MAX_COUNT = 10**9  # a monthly count above this is a typing or export error


def _int(raw: str) -> int | None:
    text = raw.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not text:
        return 0
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(value) if 0 <= value <= MAX_COUNT and value.is_integer() else None


def read_dpi(path: Path, mapping: dict | None, problems: Problems) -> tuple[list[DpiUser], dict]:
    layout, rows = read_table(path, DPI_COLUMNS, mapping)
    users: list[DpiUser] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        account = cell(cells, layout, "account")
        if not account:
            problems.add(
                Problem(path.name, "compte vide", line, layout.headers[layout.index["account"]]),
                "compte vide",
            )
            continue
        key = account.lower()
        if key in seen:
            problems.add(
                Problem(
                    path.name,
                    f"compte « {account} » en double (déjà ligne {seen[key]})",
                    line,
                    layout.headers[layout.index["account"]],
                ),
                "doublon",
            )
            continue
        seen[key] = line
        profession_raw = cell(cells, layout, "profession")
        profession = lookup("professions", profession_raw)
        if profession is None and profession_raw:
            problems.add(
                Problem(
                    path.name,
                    f"profession « {profession_raw} » non reconnue (comptée comme non réglementée)",
                    line,
                    layout.headers[layout.index["profession"]],
                    blocking=False,
                ),
                "profession inconnue",
            )
        rpps_raw = cell(cells, layout, "rpps")
        active_raw = cell(cells, layout, "active")
        active = True if "active" not in layout.index or not active_raw else _bool(active_raw)
        if active is None:
            problems.add(
                Problem(
                    path.name,
                    f"statut « {active_raw} » non reconnu (compte considéré actif)",
                    line,
                    layout.headers[layout.index["active"]],
                    blocking=False,
                ),
                "statut inconnu",
            )
            active = True
        mfa_raw = cell(cells, layout, "mfa")
        dmp_raw = cell(cells, layout, "dmp")
        users.append(
            DpiUser(
                account=account,
                name=" ".join(
                    part
                    for part in (cell(cells, layout, "name"), cell(cells, layout, "first_name"))
                    if part
                ),
                profession_raw=profession_raw,
                profession=profession,
                rpps=identifiers.normalise_rpps(rpps_raw),
                rpps_problem=identifiers.rpps_problem(rpps_raw),
                active=active,
                last_login=cell(cells, layout, "last_login"),
                mfa_raw=mfa_raw,
                mfa=lookup("mfa_methods", mfa_raw) if mfa_raw else None,
                dmp_authorised=_bool(dmp_raw) if "dmp" in layout.index else None,
                line=line,
            )
        )
    if not users and not problems.blocking:
        problems.add(Problem(path.name, "aucun compte dans l'export du DPI"))
    return users, layout.describe()


def read_mfa(path: Path, mapping: dict | None, users: list[DpiUser], problems: Problems) -> dict:
    layout, rows = read_table(path, MFA_COLUMNS, mapping)
    by_account = {user.account.lower(): user for user in users}
    unknown_accounts = 0
    seen: dict[str, int] = {}
    for line, cells in rows:
        account = cell(cells, layout, "account").lower()
        if "\\" in account:
            account = account.rsplit("\\", 1)[1]
        if account in seen:
            problems.add(
                Problem(
                    path.name, f"compte « {account} » en double (déjà ligne {seen[account]})", line
                ),
                "doublon mfa",
            )
            continue
        seen[account] = line
        user = by_account.get(account) or by_account.get(account.split("@", 1)[0])
        if user is None:
            unknown_accounts += 1
            continue
        raw = cell(cells, layout, "mfa")
        user.mfa_raw, user.mfa, user.source_mfa = raw, lookup("mfa_methods", raw), path.name
        if raw and user.mfa is None:
            problems.add(
                Problem(
                    path.name,
                    f"moyen d'authentification « {raw} » non reconnu (compté sans MIE 2FA)",
                    line,
                    blocking=False,
                ),
                "moyen inconnu",
            )
    return {"columns": layout.describe(), "accounts_not_in_dpi": unknown_accounts}


@dataclass(frozen=True)
class ExtractLayout:
    encoding: str
    id_column: int
    code_column: int
    label_column: int
    national: bool

    @property
    def width(self) -> int:
        return max(self.id_column, self.code_column, self.label_column) + 1


def extract_layout(path: Path) -> ExtractLayout:
    """Columns of an Annuaire Santé extraction, or a TableError saying it is not one."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path.name} : fichier introuvable")
    encoding = detect_encoding(path)
    if encoding.startswith("utf-16"):
        raise TableError(
            f"{path.name} : extraction en UTF-16 non prise en charge (UTF-8 ou Windows-1252 attendu)"
        )
    with path.open(encoding=encoding, newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("|")
    folded = [normalise_header(name) for name in header]
    id_column = next((folded.index(name) for name in RPPS_ID_HEADERS if name in folded), None)
    if id_column is None or "code profession" not in folded:
        raise TableError(
            f"{path.name} : ce n'est pas une extraction RPPS de l'Annuaire Santé (colonnes "
            "« Identifiant PP » et « Code profession » attendues, séparateur « | »)"
        )
    code_column = folded.index("code profession")
    label_column = (
        folded.index("libelle profession") if "libelle profession" in folded else code_column
    )
    national = folded[id_column] == "identification nationale pp"
    return ExtractLayout(encoding, id_column, code_column, label_column, national)


def iter_extract(path: Path, wanted: set[bytes] | None = None, progress=None):
    """(RPPS, profession code, profession label) of each line of the extraction, streamed; only
    the lines of ``wanted`` identifiers when given. The lines are split as bytes: identifiers are
    ASCII in UTF-8 and Windows-1252 alike, so only the lines kept are decoded. ``progress`` is
    called with the fraction of the file read, every 64 MiB."""
    layout = extract_layout(path)
    width, encoding = layout.width, layout.encoding
    id_column, code_column, label_column = layout.id_column, layout.code_column, layout.label_column
    size = max(1, Path(path).stat().st_size)
    step, next_report, done = 64 << 20, 64 << 20, 0
    with Path(path).open("rb") as raw:
        done += len(raw.readline())
        for line in raw:
            if progress is not None:
                done += len(line)
                if done >= next_report:
                    progress(done / size)
                    next_report += step
            parts = line.split(b"|", width)
            if len(parts) < width:
                continue
            identifier = parts[id_column]
            if layout.national and len(identifier) == 12:
                identifier = identifier[1:]
            if wanted is not None and identifier not in wanted:
                continue
            if len(identifier) != 11 or not identifier.isdigit():
                continue  # ADELI-only lines carry no RPPS
            yield (
                identifier.decode("ascii"),
                parts[code_column].decode(encoding, "replace").strip(),
                parts[label_column].decode(encoding, "replace").strip(),
            )


def read_rpps_extract(path: Path, wanted: set[str]) -> tuple[dict[str, tuple[str, str]], dict]:
    """The profession of the wanted RPPS numbers, read from the extraction file in one pass."""
    layout = extract_layout(path)
    found: dict[str, tuple[str, str]] = {}
    if wanted:
        wanted_bytes = {identifier.encode("ascii") for identifier in wanted}
        for identifier, code, label in iter_extract(path, wanted_bytes):
            found.setdefault(identifier, (code, label))
    return found, {"encoding": layout.encoding, "found": len(found)}


def read_ad(path: Path, users: list[DpiUser], problems: Problems) -> dict:
    """An AD collection (``careops ad collect``): accounts whose logon requires a smart card
    (userAccountControl SMARTCARD_REQUIRED) hold a smart-card MIE, unless the exports already
    name an accepted two-factor means for them."""
    from careops.directory.engine.dump import DumpError, load_dump
    from careops.directory.engine.model import UAC_SMARTCARD_REQUIRED, Entry

    try:
        dump = load_dump(path)
    except DumpError as exc:
        raise TableError(f"{Path(path).name} : {exc}") from exc
    by_account = {user.account.lower(): user for user in users}
    methods = mfa_methods()
    smart_cards = matched = 0
    for obj in dump.objects:
        entry = Entry(obj["dn"], obj["a"], obj.get("sd"))
        if "user" not in entry.classes or not entry.uac & UAC_SMARTCARD_REQUIRED:
            continue
        smart_cards += 1
        user = by_account.get((entry.get("samaccountname") or "").lower())
        if user is None or (user.mfa and methods[user.mfa]["accepted"]):
            continue
        matched += 1
        user.mfa_raw, user.mfa, user.source_mfa = "carte à puce (AD)", "smart_card", Path(path).name
    return {"domain": dump.domain, "smart_card_accounts": smart_cards, "applied": matched}


def read_dmp(path: Path, mapping: dict | None, problems: Problems):
    layout, rows = read_table(path, DMP_COLUMNS, mapping)
    consultations: dict[str, dict[str, int]] = defaultdict(dict)
    consents: dict[str, int] = defaultdict(int)
    file_active: dict[str, int] = {}
    for line, cells in rows:
        raw_month = cell(cells, layout, "month")
        month = _month(raw_month)
        if month is None:
            problems.add(
                Problem(
                    path.name,
                    f"mois « {raw_month} » illisible (AAAA-MM ou MM/AAAA attendu)",
                    line,
                    layout.headers[layout.index["month"]],
                ),
                "mois illisible",
            )
            continue
        values = {}
        for key in ("consultations", "consents", "file_active"):
            raw = cell(cells, layout, key)
            value = _int(raw)
            if value is None:
                problems.add(
                    Problem(
                        path.name,
                        f"nombre « {raw} » illisible ou hors limites (entier de 0 à 1 000 000 000)",
                        line,
                        layout.headers[layout.index[key]],
                    ),
                    "nombre illisible",
                )
                value = 0
            values[key] = value
        account = cell(cells, layout, "account").lower()
        if account:
            consultations[month][account] = (
                consultations[month].get(account, 0) + values["consultations"]
            )
        elif values["file_active"]:
            if month in file_active:
                problems.add(
                    Problem(path.name, f"file active du mois {month} donnée deux fois", line),
                    "file active double",
                )
            file_active[month] = values["file_active"]
        consents[month] += values["consents"]
    for month, total in sorted(consents.items()):
        if month in file_active and total > file_active[month]:
            problems.add(
                Problem(
                    path.name,
                    f"mois {month} : {total} consentements pour une file active de "
                    f"{file_active[month]} patients (plus de 100 %)",
                ),
                "consentements au-delà de la file active",
            )
    return consultations, consents, file_active, layout.describe()


def _ratio(numerator: int, denominator: int) -> float | None:
    return float(Fraction(numerator, denominator)) if denominator else None


def _items(definition: dict, ratio: float | None, year: int) -> list[dict]:
    targets = referential_targets()
    items = []
    for item_id in definition["items"]:
        kind, target, item_year = targets.get(item_id, (definition["evidence_kind"], None, None))
        items.append(
            {
                "id": item_id,
                "year": item_year,
                "target": target,
                "met": None if ratio is None or target is None else ratio >= target,
                "current_year": item_year == year,
            }
        )
    return items


def _shift(month: str, delta: int) -> str:
    year, number = int(month[:4]), int(month[5:])
    total = year * 12 + number - 1 + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def compute(
    dpi: Path,
    *,
    rpps_extract: Path | None = None,
    rpps_directory=None,
    mfa: Path | None = None,
    ad: Path | None = None,
    dmp: Path | None = None,
    as_of: dt.date,
    mappings: dict[str, dict] | None = None,
    failing_limit: int | None = None,
) -> Report:
    """Read the exports and compute every indicator at ``as_of`` (raises TableError on an
    unreadable file; gathers row problems in the report). ``rpps_directory``, instead of an
    extraction file: a callable taking the wanted RPPS numbers and returning {RPPS: (code, label)}
    for those it knows (the platform's imported directory)."""
    mappings = mappings or {}
    problems = Problems()
    inputs: dict = {}
    users, inputs["dpi"] = read_dpi(Path(dpi), mappings.get("dpi"), problems)
    if mfa:
        inputs["mfa"] = read_mfa(Path(mfa), mappings.get("mfa"), users, problems)
    if ad:
        inputs["ad"] = read_ad(Path(ad), users, problems)
    extract = None
    if rpps_extract or rpps_directory:
        wanted = {user.rpps for user in users if user.active and not user.rpps_problem}
        if rpps_extract:
            extract, inputs["rpps"] = read_rpps_extract(Path(rpps_extract), wanted)
        else:  # an imported directory: a callable from the wanted numbers to what it knows
            extract = rpps_directory(wanted)
            inputs["rpps"] = {"source": "annuaire importé", "found": len(extract)}
        for user in users:
            if user.rpps in extract:
                code, label = extract[user.rpps]
                user.extract_profession = lookup("professions", code) or lookup(
                    "professions", label
                )
                if user.extract_profession and user.extract_profession != user.profession:
                    problems.add(
                        Problem(
                            Path(dpi).name,
                            f"compte « {user.account} » : profession « {user.profession_raw or '—'} » dans le DPI, « {label} » dans l'extraction RPPS (l'extraction fait foi)",
                            user.line,
                            blocking=False,
                        ),
                        "profession divergente",
                    )
                    user.profession = user.extract_profession
    consultations, consents, file_active = {}, {}, {}
    if dmp:
        consultations, consents, file_active, inputs["dmp"] = read_dmp(
            Path(dmp), mappings.get("dmp"), problems
        )

    table = professions()
    settings = data()
    active = [user for user in users if user.active]
    regulated = [user for user in active if user.profession and table[user.profession]["regulated"]]
    doctors_nurses = [user for user in active if user.profession in settings["doctors_and_nurses"]]
    has_dmp_flag = any(user.dmp_authorised is not None for user in users)
    authorised = (
        [user for user in active if user.dmp_authorised] if has_dmp_flag else doctors_nurses
    )
    methods = mfa_methods()

    def rpps_reason(user: DpiUser) -> str | None:
        if user.rpps_problem:
            return user.rpps_problem
        if extract is not None and user.rpps not in extract:
            return f"RPPS {user.rpps} absent de l'extraction RPPS fournie"
        return None

    def mfa_reason(user: DpiUser) -> str | None:
        if user.mfa and methods[user.mfa]["accepted"]:
            return None
        if not user.mfa_raw:
            return "aucun moyen d'authentification renseigné"
        label = methods[user.mfa]["label"] if user.mfa else user.mfa_raw
        return f"pas de MIE 2FA (moyen : {label})"

    months = sorted(set(consultations) | set(file_active) | set(consents))
    target_month = as_of.strftime("%Y-%m")
    eligible = [month for month in months if month <= target_month]
    month = eligible[-1] if eligible else None

    def population(definition, members, reason_of):
        failing = [
            Failing(user.account, user.name, reason)
            for user in members
            if (reason := reason_of(user))
        ]
        numerator, denominator = len(members) - len(failing), len(members)
        ratio = _ratio(numerator, denominator)
        return Indicator(
            id=definition["id"],
            label=definition["label"],
            evidence_kind=definition["evidence_kind"],
            numerator=numerator,
            denominator=denominator,
            ratio=ratio,
            items=_items(definition, ratio, as_of.year),
            failing=failing[:failing_limit] if failing_limit is not None else failing,
            failing_count=len(failing),
            reason="" if denominator else "population vide dans l'export du DPI",
            to_confirm=definition.get("to_confirm", ""),
        )

    def viewing_in(members, in_months):
        def reason(user):
            key = user.account.lower()
            if any(consultations.get(m, {}).get(key, 0) > 0 for m in in_months):
                return None
            span = in_months[0] if len(in_months) == 1 else f"{in_months[0]} à {in_months[-1]}"
            return f"aucune consultation TD3.1 ({span})"

        return reason

    indicators: list[Indicator] = []
    for definition in settings["indicators"]:
        kind = definition["id"]
        if kind == "rpps_regulated":
            indicators.append(population(definition, regulated, rpps_reason))
        elif kind == "rpps_all":
            indicators.append(population(definition, active, rpps_reason))
        elif kind == "mfa_doctors_nurses":
            indicators.append(population(definition, doctors_nurses, mfa_reason))
        elif kind == "mfa_all":
            indicators.append(population(definition, active, mfa_reason))
        elif kind in {"dmp_viewing", "dmp_access", "dmp_consent"}:
            if month is None:
                indicators.append(
                    Indicator(
                        definition["id"],
                        definition["label"],
                        definition["evidence_kind"],
                        None,
                        None,
                        None,
                        _items(definition, None, as_of.year),
                        reason="aucune activité DMP fournie"
                        if not dmp
                        else f"aucun mois d'activité DMP jusqu'au {target_month}",
                        to_confirm=definition.get("to_confirm", ""),
                    )
                )
                continue
            if kind == "dmp_consent":
                trend = [
                    {
                        "month": m,
                        "numerator": consents.get(m, 0),
                        "denominator": file_active[m],
                        "ratio": _ratio(consents.get(m, 0), file_active[m]),
                    }
                    for m in months
                    if m in file_active and m <= target_month
                ]
                numerator = consents.get(month, 0)
                denominator = file_active.get(month)
                ratio = _ratio(numerator, denominator) if denominator else None
                indicators.append(
                    Indicator(
                        definition["id"],
                        definition["label"],
                        definition["evidence_kind"],
                        numerator if denominator else None,
                        denominator,
                        ratio,
                        _items(definition, ratio, as_of.year),
                        trend=trend,
                        month=month,
                        reason=""
                        if denominator
                        else f"file active du mois {month} absente de l'export DMP",
                        to_confirm=definition.get("to_confirm", ""),
                    )
                )
                continue
            window = (
                [month]
                if kind == "dmp_viewing"
                else [_shift(month, delta) for delta in range(-11, 1)]
            )
            indicator = population(definition, authorised, viewing_in(authorised, window))
            indicator.month = month
            if kind == "dmp_viewing":
                for m in (m for m in months if m <= target_month and m in consultations):
                    seen = sum(
                        1
                        for user in authorised
                        if consultations[m].get(user.account.lower(), 0) > 0
                    )
                    indicator.trend.append(
                        {
                            "month": m,
                            "numerator": seen,
                            "denominator": len(authorised),
                            "ratio": _ratio(seen, len(authorised)),
                        }
                    )
            indicators.append(indicator)

    evidence = []
    targets = referential_targets()
    if problems.blocking:
        indicators_usable = []  # a blocking problem: nothing is filed as evidence
    else:
        indicators_usable = indicators
    for indicator in indicators_usable:
        current = [
            item["id"] for item in indicator.items if item["current_year"] and item["id"] in targets
        ]
        if indicator.ratio is None or not current:
            continue
        evidence.append(
            {
                "id": f"{indicator.id}-{as_of.isoformat()}",
                "kind": indicator.evidence_kind,
                "title": f"{indicator.label} au {as_of.strftime('%d/%m/%Y')}",
                "date": as_of.isoformat(),
                "objectives": current,
                "attributes": {
                    "numerator": indicator.numerator,
                    "denominator": indicator.denominator,
                },
            }
        )

    counts = {
        "dpi_accounts": len(users),
        "active_accounts": len(active),
        "regulated": len(regulated),
        "doctors_and_nurses": len(doctors_nurses),
        "dmp_authorised": len(authorised),
        "dmp_authorised_from": "colonne habilité DMP"
        if has_dmp_flag
        else "médecins et infirmiers actifs",
    }
    return Report(
        as_of=as_of.isoformat(),
        month=month,
        inputs=inputs,
        counts=counts,
        indicators=indicators,
        problems=problems.items,
        overflow=problems.overflow,
        evidence=evidence,
        users=users,
    )
