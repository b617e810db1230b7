"""Job reports of other backup products (Veeam, Bareos, PBS…) read from their JSON or CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from careops.backups.engine.errors import ConfigError
from careops.backups.engine.results import _Serialisable
from careops.backups.engine.timeparse import parse_time
from careops.core.spreadsheet import SheetError, checked_csv_rows

SUCCESS, WARNING, FAILED = "success", "warning", "failed"
_STATUS = {
    SUCCESS: {"success", "succeeded", "ok", "réussi", "réussie", "succès", "completed", "t", "0"},
    WARNING: {"warning", "avertissement", "partial", "partiel", "w"},
    FAILED: {"failed", "failure", "error", "erreur", "échec", "echec", "ko", "e", "f", "a"},
}
# Accepted column names (lower case), the first found wins.
_COLUMNS = {
    "system": ["system", "système", "systeme", "client", "vm", "host", "object", "objet"],
    "job": ["job", "job_name", "jobname", "tâche", "tache", "name", "nom"],
    "status": ["status", "statut", "result", "résultat", "resultat", "jobstatus"],
    "started": ["started", "start", "start_time", "starttime", "début", "debut", "creation_time"],
    "finished": ["finished", "end", "end_time", "endtime", "fin", "stop_time", "realendtime"],
    "size_bytes": ["size_bytes", "size", "bytes", "jobbytes", "taille", "transferred"],
    "message": ["message", "details", "détails", "reason", "raison", "error"],
}


@dataclass
class JobResult(_Serialisable):
    """One backup job outcome from another product's report."""

    system: str
    job: str
    status: str
    finished: dt.datetime
    started: dt.datetime | None = None
    size_bytes: int | None = None
    message: str = ""


def normalise_status(value: str) -> str:
    """success / warning / failed from a product's wording; unknown words count as failed."""
    text = str(value).strip().lower()
    for status, words in _STATUS.items():
        if text in words:
            return status
    return FAILED


def _pick(row: dict, field: str):
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    for name in _COLUMNS[field]:
        if lowered.get(name) not in (None, ""):
            return lowered[name]
    return None


def _row(row: dict, where: str) -> JobResult:
    system, job, status = _pick(row, "system"), _pick(row, "job"), _pick(row, "status")
    finished = _pick(row, "finished") or _pick(row, "started")
    if not (system or job) or status is None or finished is None:
        raise ConfigError(f"{where} : système (ou tâche), statut et date de fin sont obligatoires")
    try:
        finished_at = parse_time(str(finished))
        started = _pick(row, "started")
        started_at = parse_time(str(started)) if started else None
        size = _pick(row, "size_bytes")
        size_bytes = int(float(size)) if size not in (None, "") else None
    except ValueError as exc:
        raise ConfigError(f"{where} : valeur illisible ({exc})") from exc
    return JobResult(
        system=str(system or job),
        job=str(job or system),
        status=normalise_status(status),
        finished=finished_at,
        started=started_at,
        size_bytes=size_bytes,
        message=str(_pick(row, "message") or ""),
    )


def parse_job_report(
    content: str | bytes, fmt: str = "auto", name: str = "rapport"
) -> list[JobResult]:
    """Read a JSON (list, or object with ``jobs``) or CSV (``,`` or ``;``) job report."""
    try:
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    except UnicodeDecodeError as exc:  # a 500 before
        raise ConfigError(
            f"{name} : caractère illisible en UTF-8 (octet {exc.start + 1}) ; enregistrez le "
            "rapport en UTF-8"
        ) from exc
    text = text.lstrip("\ufeff")
    if "\x00" in text:  # PostgreSQL stores no NUL (a 500 there), in a CSV cell or a JSON string
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigError(
            f"{name}, ligne {line} : caractère nul (octet 0) : ce n'est pas un rapport texte ; "
            "exportez-le de nouveau"
        )
    if fmt == "auto":
        fmt = "json" if text.lstrip()[:1] in ("[", "{") else "csv"
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name} : JSON illisible (ligne {exc.lineno})") from exc
        rows = data.get("jobs", data.get("results", [])) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ConfigError(f"{name} : une liste de tâches est attendue")
        return [
            _row(r, f"{name}, élément {i}") for i, r in enumerate(rows, 1) if isinstance(r, dict)
        ]
    if fmt != "csv":
        raise ConfigError(f"{name} : format inconnu « {fmt} » (json ou csv)")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = checked_csv_rows(csv.reader(io.StringIO(text), delimiter=delimiter), name)
    known = {column for names in _COLUMNS.values() for column in names}
    results = []
    try:
        _line, header = next(rows, (1, []))
        # the columns careops reads, found once: each row looked at every header of the file
        # (a header line of 100,000 names made each row 100,000 lookups)
        kept = [
            (position, text.strip().lower())
            for position, text in enumerate(header)
            if text and text.strip().lower() in known
        ]
        for line, cells in rows:
            if cells:  # a blank line
                record = {key: cells[position] for position, key in kept if position < len(cells)}
                results.append(_row(record, f"{name}, ligne {line}"))
    except SheetError as exc:  # a NUL, a quote never closed, a cell beyond the csv limit
        raise ConfigError(str(exc)) from exc
    return results


def last_success(results: list[JobResult], system: str) -> JobResult | None:
    """The most recent successful (or warning) job of a system."""
    ok = [r for r in results if r.system == system and r.status in (SUCCESS, WARNING)]
    return max(ok, key=lambda r: r.finished) if ok else None
