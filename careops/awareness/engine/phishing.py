"""Phishing exercises: the results export of GoPhish, read as GoPhish writes it.

GoPhish's « Export CSV → Results » writes one row per target with the fields of its Result
object: ``id, status, ip, latitude, longitude, send_date, reported, modified_date, email,
first_name, last_name, position`` (Papa.unparse with formula escaping: a cell starting with
``= + - @`` gets a leading apostrophe). ``status`` is the furthest step the target reached
(« Email Sent », « Email Opened », « Clicked Link », « Submitted Data »; « Error »,
« Scheduled », « Sending », « Retrying » for mail not delivered); ``reported`` is true when the
target reported the e-mail. The file name is « <campaign> - Results.csv ».

Rates are over the targets the e-mail reached: opened, clicked, submitted (each includes the
further steps) and reported; per campaign, and per ``position`` (the profession, when the
target groups carry it; its spellings grouped as the training shares group them: « IDE » and
« Infirmière » are one position, named as first written).

Only counts leave this module: no address, name, IP or position of a single target, and never
what a target typed (GoPhish keeps that in the « Events » export's ``details``, which is refused).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from careops.awareness.engine.training import profession_key
from careops.core.spreadsheet import csv_problem
from careops.hospiconnect.engine.tables import (
    TableError,
    detect_delimiter,
    detect_encoding,
    found_columns,
)

REQUIRED = ("status", "reported", "email")
STEPS = ("Email Sent", "Email Opened", "Clicked Link", "Submitted Data")
NOT_DELIVERED = {"Error", "Error Sending Email", "Scheduled", "Sending", "Retrying", "Queued"}


@dataclass
class Rates:
    targets: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    submitted: int = 0
    reported: int = 0

    def add(self, step: int, reported: bool, delivered: bool) -> None:
        self.targets += 1
        if not delivered:
            return
        self.delivered += 1
        self.opened += step >= 1
        self.clicked += step >= 2
        self.submitted += step >= 3
        self.reported += reported

    def rate(self, name: str) -> float | None:
        return getattr(self, name) / self.delivered if self.delivered else None

    def as_json(self) -> dict:
        data = asdict(self)
        for name in ("opened", "clicked", "submitted", "reported"):
            data[f"{name}_rate"] = self.rate(name)
        return data


@dataclass
class Campaign:
    name: str
    started: str | None
    totals: Rates
    by_position: dict[str, Rates] = field(default_factory=dict)
    unknown_statuses: dict[str, int] = field(default_factory=dict)
    undelivered: dict[str, int] = field(default_factory=dict)  # « Error », « Scheduled »…
    # sha256 of the sorted result ids (GoPhish's ``id``: one random id per target, fixed when
    # the campaign is launched): the same campaign exported again has the same one; "" when a
    # row has no id (a file edited by hand), so the campaign cannot be recognised by it.
    targets_fingerprint: str = ""
    file: str = ""
    last_change: str = ""  # the latest ``modified_date``, sortable (« 2026-03-17T10:00:40 »)
    replaces: list[str] = field(default_factory=list)  # earlier exports of the same campaign

    def nothing_delivered(self) -> str:
        """ "" when some e-mail reached its target; else why there is no rate (French)."""
        if self.totals.delivered:
            return ""
        statuses = {**self.undelivered, **self.unknown_statuses}
        counts = ", ".join(f"« {k} » {v}" for k, v in sorted(statuses.items()))
        return (
            f"aucun courriel n'a été remis ({self.totals.targets} cible(s) : {counts}) : la "
            "campagne n'est pas encore envoyée ou l'envoi a échoué (serveur d'envoi, adresses) ; "
            "il n'y a aucun taux à calculer"
        )

    def as_json(self) -> dict:
        data = {
            "name": self.name,
            "started": self.started,
            "totals": self.totals.as_json(),
            "by_position": {k: v.as_json() for k, v in sorted(self.by_position.items())},
            "unknown_statuses": self.unknown_statuses,
        }
        if self.replaces:
            data["replaces"] = self.replaces
        return data


def _unescape(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in ("=", "+", "-", "@") else value


TRUE = {"true", "vrai", "1", "oui", "yes"}  # GoPhish writes true/false; French Excel VRAI/FAUX
FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


PARIS = ZoneInfo("Europe/Paris")


def _sent_day(sent: str) -> str | None:
    """The day of a send date in Paris, ISO: GoPhish's RFC 3339 (in UTC, « …Z », as GoPhish
    stores it: a campaign sent at 00:30 in Paris is dated the day before in UTC), or the
    dd/mm/yyyy hh:mm that Excel writes when the export is saved again."""
    if not sent or sent.startswith("0001"):
        return None
    found = FRENCH_DATE.match(sent)
    if found:
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    try:
        moment = dt.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", sent))
    except ValueError:
        return sent[:10]
    if moment.tzinfo is not None:
        moment = moment.astimezone(PARIS)
    return moment.date().isoformat()


DOWNLOAD_COPY = re.compile(r"\s*\(\d{1,3}\)$")  # « … - Results (1).csv » saved twice


def _change_key(modified: str) -> str:
    """A ``modified_date`` as a sortable « YYYY-MM-DDTHH:MM:SS » (RFC 3339, or the
    « dd/mm/yyyy hh:mm » Excel writes); "" when unreadable."""
    found = FRENCH_DATE.match(modified)
    if found:
        day, month, year = found.groups()
        rest = modified[found.end() :].strip()
        return f"{year}-{int(month):02d}-{int(day):02d}T{rest}"
    return modified[:19] if modified[:4].isdigit() and not modified.startswith("0001") else ""


def is_older(change: str, than: str) -> bool:
    """Whether the latest activity ``change`` is before ``than`` (sortable keys, "" unknown),
    compared at the precision both have: the export saved again by Excel keeps the minute
    (« 2026-03-17T10:00 ») of the second GoPhish wrote (« 2026-03-17T10:00:40 »), and is the
    same export, not an older one."""
    common = min(len(change), len(than))
    return bool(change and than) and change[:common] < than[:common]


def campaign_name(file_name: str) -> str:
    """« Campagne mars - Results.csv » → « Campagne mars » (GoPhish names its exports so; a
    browser saving the same name again adds « (1) », which is not part of the name)."""
    stem = Path(file_name).name.rsplit(".", 1)[0]
    stem = DOWNLOAD_COPY.sub("", stem)
    return stem.removesuffix(" - Results").strip() or stem


def fingerprint(ids: list[str]) -> str:
    """The campaign's identity as its export carries it: its targets' result ids (or "")."""
    if not ids or any(not ident for ident in ids):
        return ""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


def read_results(path: Path, file_name: str | None = None) -> Campaign:
    """One GoPhish results export → the campaign's rates (TableError in French when the file is
    not a GoPhish results export). ``file_name``: the name the user gave the file, when ``path``
    is a temporary copy."""
    path = Path(path)
    shown = file_name or path.name
    if not path.is_file():
        raise TableError(f"{shown} : fichier introuvable")
    encoding = detect_encoding(path)
    name = campaign_name(shown)
    totals = Rates()
    by_position: dict[str, Rates] = defaultdict(Rates)
    position_label: dict[str, str] = {}  # profession_key → the first spelling met
    unknown: dict[str, int] = defaultdict(int)
    undelivered: dict[str, int] = defaultdict(int)
    starts: list[str] = []
    seen: dict[str, int] = {}
    ids: list[str] = []
    changes: list[str] = []
    with path.open(encoding=encoding, newline="") as handle:
        delimiter = detect_delimiter(handle.readline())
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        try:
            headers = reader.fieldnames or []
        except csv.Error as exc:  # a header cell beyond the csv limit was a 500
            raise TableError(f"{shown}, ligne 1 : {csv_problem(exc)}") from exc
        if any("\x00" in header for header in headers):
            raise TableError(
                f"{shown}, ligne 1 : caractère nul (octet 0) : ce n'est pas un export « Results » "
                "de GoPhish ; exportez-le de nouveau"
            )
        found = set(headers)
        if not found:
            raise TableError(
                f"{shown} : fichier vide (ni en-tête ni cible) ; ce n'est pas un export "
                "« Results » de GoPhish"
            )
        if {"message", "details"} <= found and "status" not in found:
            raise TableError(
                f"{shown} : c'est l'export « Events » de GoPhish (journal des événements, avec ce "
                "que les cibles ont saisi) ; careops ne le lit pas : importez l'export « Results »."
            )
        missing = [column for column in REQUIRED if column not in found]
        if missing:
            raise TableError(
                f"{shown} : ce n'est pas un export « Results » de GoPhish (colonnes manquantes : "
                f"{', '.join(missing)} ; trouvées : {found_columns(headers)})"
            )
        try:
            for row in reader:
                if any("\x00" in (value or "") for value in row.values() if isinstance(value, str)):
                    raise TableError(  # PostgreSQL stores no NUL (a 500 before)
                        f"{shown}, ligne {reader.line_num} : caractère nul (octet 0) : ce n'est "
                        "pas un export « Results » de GoPhish ; exportez-le de nouveau"
                    )
                target = (row.get("id") or "").strip()
                if target and target in seen:
                    raise TableError(
                        f"{shown}, ligne {reader.line_num} : la cible « {target} » figure déjà "
                        f"ligne {seen[target]} (deux exports collés ?) ; elle serait comptée "
                        "deux fois : exportez de nouveau les résultats depuis GoPhish"
                    )
                seen[target] = reader.line_num
                ids.append(target)
                status = _unescape((row.get("status") or "").strip())
                reported = (row.get("reported") or "").strip().lower() in TRUE
                if status in STEPS:
                    step, delivered = STEPS.index(status), True
                elif status in NOT_DELIVERED:
                    step, delivered = 0, False
                    undelivered[status] += 1
                else:
                    unknown[status or "(vide)"] += 1
                    step, delivered = 0, False
                position = _unescape((row.get("position") or "").strip()) or "non renseigné"
                position = position_label.setdefault(profession_key(position) or position, position)
                totals.add(step, reported, delivered)
                by_position[position].add(step, reported, delivered)
                changes.append(_change_key((row.get("modified_date") or "").strip()))
                day = _sent_day((row.get("send_date") or "").strip())
                if delivered and day:
                    starts.append(day)
        except (csv.Error, UnicodeDecodeError) as exc:
            line = max(reader.line_num, max(seen.values(), default=1)) + 1
            if isinstance(exc, csv.Error):
                raise TableError(f"{shown}, ligne {line} : {csv_problem(exc)}") from exc
            # the first mebibyte decoded, a later line does not
            raise TableError(
                f"{shown}, vers la ligne {line} : caractère illisible en {encoding} (le fichier "
                "mélange deux encodages) ; exportez-le de nouveau depuis GoPhish"
            ) from exc
    if not totals.targets:
        raise TableError(f"{shown} : aucune cible dans l'export")
    started = min(starts) if starts else None
    if started:
        try:
            dt.date.fromisoformat(started)
        except ValueError:
            started = None
    return Campaign(
        name,
        started,
        totals,
        dict(by_position),
        dict(unknown),
        dict(undelivered),
        fingerprint(ids) if "id" in found else "",
        file=shown,
        last_change=max(changes, default=""),
    )


def read_campaigns(paths: list[Path]) -> list[Campaign]:
    """Several exports, oldest campaign first (campaigns without a date last). Exports of the
    same campaign (same target ids, same first send date) count once: the latest export (by
    its latest ``modified_date``; a tie goes to the one given last) lists the others in
    ``replaces``."""
    latest: dict[tuple, Campaign] = {}
    campaigns: list[Campaign] = []
    for path in paths:
        campaign = read_results(path)
        if not campaign.targets_fingerprint:
            campaigns.append(campaign)
            continue
        key = (campaign.targets_fingerprint, campaign.started)
        earlier = latest.get(key)
        if earlier is None:
            latest[key] = campaign
            continue
        kept, dropped = (
            (earlier, campaign)
            if is_older(campaign.last_change, earlier.last_change)
            else (campaign, earlier)
        )
        kept.replaces = [*earlier.replaces, *campaign.replaces, dropped.file]
        dropped.replaces = []
        latest[key] = kept
    campaigns.extend(latest.values())
    return sorted(campaigns, key=lambda c: (c.started is None, c.started or "", c.name))
