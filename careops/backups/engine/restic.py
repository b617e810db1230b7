"""restic driver: JSON output, errors classified for 0.14 (Debian 12) and 0.17+ exit codes."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

from careops.backups.engine import errors, tools
from careops.backups.engine.results import Snapshot
from careops.backups.engine.timeparse import parse_time

# restic ≥ 0.17 documents these exit codes; 0.14 returns 1 for all of them, so the message
# text is read as well.
EXIT_NO_REPOSITORY = 10
EXIT_LOCKED = 11
EXIT_WRONG_PASSWORD = 12
# What restic says when the bytes it reads back do not match their hash or their MAC.
_CORRUPTION = (
    "ciphertext verification failed",
    "pack id does not match",
    "checksum mismatch",
    "invalid data returned",
    "repository contains errors",
)
_VERSION = re.compile(r"restic (\d+)\.(\d+)\.(\d+)")


def classify(returncode: int, stderr: str) -> tuple[str, str]:
    """Map a failed restic run to an error kind and a French message."""
    text = stderr.lower()
    if returncode == EXIT_WRONG_PASSWORD or "wrong password" in text:
        return errors.WRONG_PASSWORD, "restic : mot de passe du dépôt refusé."
    if (
        returncode == EXIT_NO_REPOSITORY
        or "is there a repository at the following location" in text
        or "repository does not exist" in text
    ):
        return errors.MISSING, "restic : aucun dépôt à cet emplacement."
    if returncode == EXIT_LOCKED or "repository is already locked" in text:
        return errors.LOCKED, "restic : dépôt verrouillé par un autre processus."
    if any(marker in text for marker in _CORRUPTION):
        # still a failure (not an access error): the data was reached and found damaged
        return errors.FAILED, (
            f"restic : données du dépôt altérées (code {returncode}) : un fichier du dépôt ne "
            "correspond plus à son empreinte ; « restic check --read-data » localise les "
            "fichiers touchés."
        )
    return errors.FAILED, f"restic : la commande a échoué (code {returncode})."


def parse_snapshots(text: str) -> list[Snapshot]:
    """``restic snapshots --json`` output, oldest first.

    restic ≥ 0.17 stores each backup's summary in its snapshot (``summary``); 0.14 does not, so
    the summary is kept only when present.
    """
    try:
        items = json.loads(text or "[]") or []
    except json.JSONDecodeError as exc:
        raise errors.BackupToolError(errors.FAILED, "restic : sortie JSON illisible.") from exc
    found = [
        Snapshot(
            id=item["id"],
            time=parse_time(item["time"]),
            hostname=item.get("hostname", ""),
            paths=list(item.get("paths") or []),
            tags=list(item.get("tags") or []),
            name=item.get("short_id", item["id"][:8]),
            summary=dict(item.get("summary") or {}),
        )
        for item in items
    ]
    return sorted(found, key=lambda s: s.time)


@dataclass
class ResticRepository:
    """A restic repository and how to open it (the password is never put on a command line)."""

    location: str
    password: str
    binary: str | None = None
    cache_dir: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = tools.DEFAULT_TIMEOUT
    options: list[str] = field(default_factory=list)  # global options (``-o sftp.command=…``)

    def _run(self, *args: str, cwd: str | None = None) -> tools.Completed:
        binary = tools.find_tool("restic", self.binary)
        args = (*self.options, *args)
        with tools.secret_file(self.password) as password_file:
            env = dict(self.env)
            env["RESTIC_REPOSITORY"] = self.location
            env["RESTIC_PASSWORD_FILE"] = password_file
            if self.cache_dir:
                env["RESTIC_CACHE_DIR"] = self.cache_dir
            else:
                args = ("--no-cache", *args)
            return tools.run([binary, *args], env, cwd=cwd, timeout=self.timeout)

    def _checked(self, *args: str, cwd: str | None = None) -> tools.Completed:
        done = self._run(*args, cwd=cwd)
        if done.returncode != 0:
            kind, message = classify(done.returncode, done.stderr)
            raise errors.BackupToolError(
                kind, message, tools.last_lines(done.stderr), done.returncode
            )
        return done

    def version(self) -> tuple[int, int, int]:
        """The restic version as a tuple (0, 14, 0)."""
        return tools.tool_version(tools.find_tool("restic", self.binary), "version", _VERSION)

    def snapshots(self) -> list[Snapshot]:
        """Every snapshot, oldest first."""
        return parse_snapshots(self._checked("snapshots", "--json").stdout)

    def check(self, read_data_subset: str | None = None) -> tools.Completed:
        """``restic check`` (structure), optionally reading a subset of the data (``n/t``).

        Returns the completed run whatever its exit code, except for open/lock/password errors,
        which raise: a data error is a check result, an access error means nothing was checked.
        """
        args = ["check"]
        if read_data_subset:
            args.append(f"--read-data-subset={read_data_subset}")
        done = self._run(*args)
        if done.returncode != 0:
            kind, message = classify(done.returncode, done.stderr)
            if kind != errors.FAILED:
                raise errors.BackupToolError(
                    kind, message, tools.last_lines(done.stderr), done.returncode
                )
        return done

    def restore(self, snapshot_id: str, target: str, includes: list[str] = ()) -> float:
        """Restore a snapshot under ``target`` (original absolute paths kept); seconds taken."""
        args = ["restore", snapshot_id, "--target", target]
        for include in includes:
            args += ["--include", include]
        started = time.monotonic()
        self._checked(*args)
        return time.monotonic() - started

    def backup(self, paths: list[str], host: str = "", tags: list[str] = (), when: str = ""):
        """Create a snapshot (used by tests and benchmarks); returns the JSON summary."""
        args = ["backup", "--json", *paths]
        if host:
            args += ["--host", host]
        for tag in tags:
            args += ["--tag", tag]
        if when:
            args += ["--time", when]
        done = self._checked(*args)
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}

    def init(self) -> None:
        """Create the repository (used by tests and benchmarks)."""
        self._checked("init")
