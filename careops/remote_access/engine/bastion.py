"""Bastion session logs: Apache Guacamole connection history and OVH The Bastion logs.

Formats read:

- Guacamole: the CSV downloaded from *Settings → History* (``downloadCSV`` in guacamole-client:
  columns Username, Start time, Duration in seconds, Connection name, Remote host, with
  translated headers), or an export of the ``guacamole_connection_history`` table (columns
  ``username, remote_host, connection_name, start_date, end_date``). Guacamole does not log
  whether a session was recorded: a ``recording`` column (yes/no or a path), when the export
  adds one, is used.
- The Bastion (ovh.github.io/the-bastion, *administration/logs*): syslog or access-log lines
  ``bastion: open|close uniqid="…" account="…" cmdtype="ssh" allowed="true" ip_to="…" …
  params="ttyrec -f FILE …" duration="…"``; and the JSON output of its plugins
  (``JSON_START`` … ``JSON_END`` or ``JSON_OUTPUT=…``, ``{"value": [sessions]}``) with the
  connection table's columns (``timestamp, account, cmdtype, allowed, ipto, portto, user,
  ttyrecfile, timestampend, uniqid``). Every egress session of The Bastion runs under ttyrec,
  so a session is recorded when its ttyrec file is named.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from careops.core.spreadsheet import SheetError, checked_csv_rows

MAX_FILE_BYTES = 64 * 1024 * 1024
DAYS = {
    "lun": 0,
    "mar": 1,
    "mer": 2,
    "jeu": 3,
    "ven": 4,
    "sam": 5,
    "dim": 6,
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}


class BastionLogError(ValueError):
    """A file that cannot be read as a bastion log (French message)."""


@dataclass
class Session:
    """One remote session through a bastion."""

    source: str  # guacamole or the_bastion
    account: str
    target: str
    started_at: str  # ISO, UTC when the log says so, else local time as written
    duration_seconds: float | None = None
    recorded: bool | None = None
    allowed: bool = True
    connection: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)


@dataclass
class BastionLog:
    source: str
    file: str
    sessions: list[Session] = field(default_factory=list)
    skipped: int = 0


GUAC_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y, %I:%M:%S %p",
    "%d/%m/%Y %H:%M:%S",
    "%d %b %Y %H:%M:%S",
)


def _parse_time(text: str) -> dt.datetime | None:
    text = text.strip().replace("\u202f", " ")
    for pattern in GUAC_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _norm(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower().replace("é", "e").replace("ô", "o"))


GUAC_HEADERS = {
    "username": "account",
    "nomdutilisateur": "account",
    "utilisateur": "account",
    "starttime": "start",
    "startdate": "start",
    "start": "start",
    "debut": "start",
    "datededebut": "start",
    "heurededebut": "start",
    "duration": "duration",
    "duree": "duration",
    "connectionname": "connection",
    "connexion": "connection",
    "nomdelaconnexion": "connection",
    "remotehost": "remote",
    "hotedistant": "remote",
    "enddate": "end",
    "recording": "recording",
    "enregistrement": "recording",
}


def parse_guacamole(text: str, name: str = "history.csv") -> BastionLog:
    """Guacamole connection history (UI CSV download or database table export)."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = checked_csv_rows(csv.reader(io.StringIO(text), dialect), name)
    try:
        return _guacamole_rows(reader, name)
    except SheetError as exc:  # a NUL, a quote never closed (the sessions after it were lost)…
        raise BastionLogError(str(exc).removeprefix(f"{name}, ")) from exc


def _guacamole_rows(reader, name: str) -> BastionLog:
    _line, header = next(reader, (1, None))
    if not header:
        raise BastionLogError("fichier vide")
    # the columns careops reads, found once (each header of a line of millions was normalised,
    # and each row walked all of them)
    columns = {
        position: GUAC_HEADERS.get(_norm(text))
        for position, text in enumerate(header)
        if text.strip() and len(text) < 100
    }
    columns = {position: key for position, key in columns.items() if key}
    if "account" not in columns.values() or "start" not in columns.values():
        raise BastionLogError(
            "en-têtes d'historique Guacamole attendus (Username, Start time, Duration, "
            "Connection name, Remote host)"
        )
    log = BastionLog("guacamole", name)
    for _line, row in reader:
        record = {key: row[position] for position, key in columns.items() if position < len(row)}
        start = _parse_time(record.get("start", ""))
        if start is None or not record.get("account"):
            log.skipped += 1
            continue
        duration = None
        if record.get("duration"):
            try:
                duration = float(record["duration"].replace(",", "."))
            except ValueError:
                duration = None
        elif record.get("end"):
            end = _parse_time(record["end"])
            if end is not None:
                duration = (end - start).total_seconds()
        recorded = None
        if "recording" in record:
            value = record["recording"].strip().lower()
            recorded = bool(value) and value not in ("no", "non", "false", "0")
        log.sessions.append(
            Session(
                "guacamole",
                record["account"],
                record.get("connection", ""),  # "Remote host" is the user's own address
                start.isoformat(),
                duration,
                recorded,
                True,
                record.get("connection", ""),
            )
        )
    return log


FIELD = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
SYSLOG_LINE = re.compile(r"bastion(?:\[\d+\])?: (open|close) (.*)$")


def _bastion_session(values: dict[str, str], when: dt.datetime | None) -> Session:
    params = values.get("params", "")
    ttyrec = values.get("ttyrecfile") or (
        "ttyrec" if re.search(r"\bttyrec\b.*-f\s+\S+", params) else ""
    )
    target = (
        values.get("host_to")
        or values.get("hostto")
        or values.get("ip_to")
        or values.get("ipto")
        or ""
    )
    user = values.get("user", "")
    duration = values.get("duration")
    return Session(
        "the_bastion",
        values.get("account", ""),
        f"{user}@{target}" if user else target,
        (when or dt.datetime(1970, 1, 1)).isoformat(),
        float(duration) if duration not in (None, "") else None,
        bool(ttyrec),
        values.get("allowed", "true").lower() in ("true", "1"),
        values.get("uniqid", ""),
    )


def parse_the_bastion(text: str, name: str = "bastion.log", year: int | None = None) -> BastionLog:
    """The Bastion syslog/access-log lines (open and close, matched by uniqid) or plugin JSON."""
    log = BastionLog("the_bastion", name)
    stripped = text.lstrip()
    doc = None
    match = re.search(r"JSON_START\s*\n(.*?)\nJSON_END", text, re.S)
    if match:
        doc = match.group(1)
    elif "JSON_OUTPUT=" in text:
        doc = text.split("JSON_OUTPUT=", 1)[1].splitlines()[0]
    elif stripped.startswith(("{", "[")):
        doc = stripped
    if doc is not None:
        try:
            data = json.loads(doc)
        except json.JSONDecodeError as exc:
            raise BastionLogError(f"JSON illisible : {exc.msg} (ligne {exc.lineno})") from exc
        rows = data.get("value", data) if isinstance(data, dict) else data
        if isinstance(rows, dict):
            rows = list(rows.values())
        if not isinstance(rows, list):
            raise BastionLogError("JSON The Bastion attendu : une liste de sessions dans « value »")
        for row in rows:
            if not isinstance(row, dict) or "account" not in row:
                log.skipped += 1
                continue
            values = {k: "" if v is None else str(v) for k, v in row.items()}
            when = None
            if values.get("timestamp", "").isdigit():
                when = dt.datetime.fromtimestamp(int(values["timestamp"]), dt.UTC).replace(
                    tzinfo=None
                )
            session = _bastion_session(values, when)
            end = values.get("timestampend", "")
            if end.isdigit() and when is not None:
                session.duration_seconds = int(end) - int(values["timestamp"])
            log.sessions.append(session)
        return log
    explicit_year = year is not None
    year = year or dt.date.today().year
    opened: dict[str, Session] = {}
    found = False
    for line in text.splitlines():
        match = SYSLOG_LINE.search(line)
        if not match:
            continue
        found = True
        kind, rest = match.groups()
        values = {k: v.replace('\\"', '"') for k, v in FIELD.findall(rest)}
        if values.get("cmdtype") not in ("ssh", "telnet"):
            continue
        head = line[: match.start()].split()
        when = None
        if head and re.match(r"\d{4}-\d{2}-\d{2}T", head[0]):
            when = _parse_time(head[0][:19])
        elif len(head) >= 3:
            try:
                when = dt.datetime.strptime(
                    f"{year} {head[0]} {head[1]} {head[2]}", "%Y %b %d %H:%M:%S"
                )
            except ValueError:
                when = None
            # classic syslog has no year: a date ahead of today belongs to last year
            if (
                when is not None
                and not explicit_year
                and when > dt.datetime.now() + dt.timedelta(days=1)
            ):
                when = when.replace(year=year - 1)
        uniqid = values.get("uniqid", "")
        if kind == "open":
            opened[uniqid] = _bastion_session(values, when)
        else:
            session = opened.pop(uniqid, None) or _bastion_session(values, when)
            if values.get("duration"):
                session.duration_seconds = float(values["duration"])
            log.sessions.append(session)
    log.sessions.extend(opened.values())  # still open at the end of the log
    if not found:
        raise BastionLogError("aucune ligne « bastion: open|close » ni JSON The Bastion")
    return log


def parse_file(path: str | Path) -> BastionLog:
    """Read one bastion log file, its format detected from its content."""
    name = Path(path).name
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BastionLogError(f"{name} : fichier illisible ({exc.strerror or exc})") from exc
    return parse_bytes(raw, name)


def parse_bytes(raw: bytes, name: str) -> BastionLog:
    if len(raw) > MAX_FILE_BYTES:
        raise BastionLogError(f"{name} : fichier refusé (plus de 64 Mio)")
    text = raw.decode("utf-8-sig", "replace")
    try:
        if (
            "bastion:" in text
            or "JSON_START" in text
            or "JSON_OUTPUT=" in text
            or text.lstrip().startswith(("{", "["))
        ):
            return parse_the_bastion(text, name)
        return parse_guacamole(text, name)
    except BastionLogError as exc:
        raise BastionLogError(f"{name} : {exc}") from exc


def parse_windows(text: str) -> list[tuple[set[int], dt.time, dt.time]]:
    """« lun-ven 08:00-18:00; sam 09:00-12:00 » → [(weekdays, start, end)]; [] when empty."""
    windows = []
    for part in re.split(r"[;,]", text or ""):
        match = re.match(
            r"\s*([a-zé]{3})\w*(?:\s*-\s*([a-zé]{3})\w*)?\s+(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})\s*$",
            part.strip().lower(),
        )
        if not match:
            continue
        first, last = DAYS.get(match.group(1)), DAYS.get(match.group(2) or match.group(1))
        if first is None or last is None:
            continue
        days = (
            set(range(first, last + 1))
            if first <= last
            else set(range(first, 7)) | set(range(0, last + 1))
        )
        windows.append(
            (
                days,
                dt.time(int(match.group(3)), int(match.group(4))),
                dt.time(int(match.group(5)), int(match.group(6))),
            )
        )
    return windows


def outside_windows(session: Session, windows) -> bool:
    """Whether a session started outside every allowed window."""
    start = session.start
    for days, begin, end in windows:
        if start.weekday() in days and begin <= start.time() <= end:
            return False
    return True
