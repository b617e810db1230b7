"""borg 1.2 driver: JSON output and ``--log-json`` message ids for errors."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field

from careops.backups.engine import errors, tools
from careops.backups.engine.results import Snapshot
from careops.backups.engine.timeparse import parse_time

_VERSION = re.compile(r"borg (\d+)\.(\d+)\.(\d+)")
_MSGIDS = {
    "PassphraseWrong": (errors.WRONG_PASSWORD, "borg : phrase secrète du dépôt refusée."),
    "Repository.DoesNotExist": (errors.MISSING, "borg : aucun dépôt à cet emplacement."),
    "Repository.InvalidRepository": (
        errors.MISSING,
        "borg : aucun dépôt valide à cet emplacement.",
    ),
    "LockTimeout": (errors.LOCKED, "borg : dépôt verrouillé par un autre processus."),
    "LockFailed": (errors.LOCKED, "borg : dépôt verrouillé par un autre processus."),
    "NotLocked": (errors.LOCKED, "borg : verrou du dépôt perdu."),
}


def classify(returncode: int, stderr: str) -> tuple[str, str, str]:
    """Map a failed borg run (``--log-json``) to an error kind, a French message and a detail."""
    detail = []
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if line.strip():
                detail.append(line.strip())
            continue
        if not isinstance(entry, dict):
            continue
        message = entry.get("message", "")
        if message:
            detail.append(message)
        if entry.get("msgid") in _MSGIDS:
            kind, french = _MSGIDS[entry["msgid"]]
            return kind, french, message
    return (
        errors.FAILED,
        f"borg : la commande a échoué (code {returncode}).",
        "\n".join(detail[-5:]),
    )


@dataclass
class BorgRepository:
    """A borg repository (local path or ssh://…); the passphrase goes through the environment."""

    location: str
    passphrase: str
    binary: str | None = None
    base_dir: str | None = None
    lock_wait: int = 1
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = tools.DEFAULT_TIMEOUT

    def _run(self, *args: str, cwd: str | None = None) -> tools.Completed:
        binary = tools.find_tool("borg", self.binary)
        env = dict(self.env)
        env["BORG_PASSPHRASE"] = self.passphrase
        env["BORG_REPO"] = self.location
        env.setdefault("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes")
        env.setdefault("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes")  # read-only checks
        if self.base_dir:
            env["BORG_BASE_DIR"] = self.base_dir
        command = [binary, "--log-json", "--lock-wait", str(self.lock_wait), *args]
        return tools.run(command, env, cwd=cwd, timeout=self.timeout)

    def _checked(self, *args: str, cwd: str | None = None) -> tools.Completed:
        done = self._run(*args, cwd=cwd)
        if done.returncode not in (0, 1):  # 1 = warning in borg
            kind, message, detail = classify(done.returncode, done.stderr)
            raise errors.BackupToolError(kind, message, detail, done.returncode)
        return done

    def version(self) -> tuple[int, int, int]:
        """The borg version as a tuple (1, 2, 4)."""
        return tools.tool_version(tools.find_tool("borg", self.binary), "--version", _VERSION)

    def snapshots(self) -> list[Snapshot]:
        """Every archive, oldest first."""
        done = self._checked("list", "--json", self.location)
        try:
            archives = json.loads(done.stdout).get("archives", [])
        except json.JSONDecodeError as exc:
            raise errors.BackupToolError(errors.FAILED, "borg : sortie JSON illisible.") from exc
        found = [
            Snapshot(
                id=item["id"],
                time=parse_time(item.get("time") or item["start"]),
                name=item.get("name") or item.get("archive", ""),
            )
            for item in archives
        ]
        return sorted(found, key=lambda s: s.time)

    def check(self, verify_data: bool = False, max_duration: int | None = None):
        """``borg check``: full with ``verify_data``, or a partial repository check.

        ``max_duration`` runs a partial repository check that resumes where the previous one
        stopped, so that successive runs cover the whole repository.
        """
        args = ["check", self.location]
        if max_duration:
            args += ["--repository-only", "--max-duration", str(max_duration)]
        elif verify_data:
            args.append("--verify-data")
        done = self._run(*args)
        if done.returncode not in (0, 1):
            kind, message, detail = classify(done.returncode, done.stderr)
            if kind != errors.FAILED:
                raise errors.BackupToolError(kind, message, detail, done.returncode)
        return done

    def append_only(self) -> bool:
        """Whether the repository's own configuration says ``append_only = 1``."""
        done = self._checked("config", self.location, "append_only")
        return done.stdout.strip() in ("1", "True", "true")

    def restore(self, archive: str, target: str, includes: list[str] = ()) -> float:
        """Extract an archive into ``target`` (paths without their leading /); seconds taken."""
        os.makedirs(target, exist_ok=True)
        started = time.monotonic()
        self._checked(
            "extract", f"{self.location}::{archive}", *[i.lstrip("/") for i in includes], cwd=target
        )
        return time.monotonic() - started

    def init(self, append_only: bool = False) -> None:
        """Create the repository, repokey-blake2 (used by tests and benchmarks)."""
        args = ["init", "--encryption=repokey-blake2"]
        if append_only:
            args.append("--append-only")
        self._checked(*args, self.location)

    def backup(self, name: str, paths: list[str], when: str = "", cwd: str | None = None):
        """Create an archive (used by tests and benchmarks); returns borg's JSON."""
        args = ["create", "--json"]
        if when:
            args += ["--timestamp", when]
        done = self._checked(*args, f"{self.location}::{name}", *paths, cwd=cwd)
        return json.loads(done.stdout)
