"""Running backup tools: secrets through files or environment, never on a command line."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from careops.backups.engine import errors

DEFAULT_TIMEOUT = 6 * 3600


@dataclass
class Completed:
    """The outcome of one tool run (stdout/stderr decoded; never contains the secret)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def find_tool(name: str, explicit: str | None = None) -> str:
    """The path of a backup tool, or a BackupToolError with a French message."""
    found = explicit or shutil.which(name)
    if not found or not os.path.exists(found):
        raise errors.BackupToolError(
            errors.TOOL_MISSING, f"{name} introuvable sur cette machine (paquet Debian « {name} »)."
        )
    return found


@contextlib.contextmanager
def secret_file(secret: str) -> Iterator[str]:
    """A private 0600 file holding ``secret``, removed on exit."""
    folder = tempfile.mkdtemp(prefix="careops-secret-")
    path = os.path.join(folder, "secret")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secret)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(
    args: Sequence[str],
    env: dict[str, str],
    cwd: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Completed:
    """Run a command with a minimal environment plus ``env``; stdin is closed."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME")}
    base.setdefault("PATH", "/usr/bin:/bin")
    base["LC_ALL"] = "C.UTF-8"
    base.update(env)
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            list(args),
            env=base,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise errors.BackupToolError(
            errors.FAILED, f"délai dépassé ({timeout:.0f} s) pour {os.path.basename(args[0])}"
        ) from exc
    except OSError as exc:
        raise errors.BackupToolError(errors.FAILED, f"exécution impossible : {exc}") from exc
    return Completed(
        list(args),
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def last_lines(text: str, count: int = 5) -> str:
    """The last non-empty lines of a tool's output, for a short diagnostic."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


@functools.lru_cache(maxsize=16)
def tool_version(binary: str, flag: str, pattern) -> tuple[int, ...]:
    """A tool's version as a tuple, read once per binary (``(0, 0, 0)`` when unreadable)."""
    done = run([binary, flag], {}, timeout=60)
    match = pattern.search(done.stdout)
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)
