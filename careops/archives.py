"""Bounded reading of archives and compressed files (decompression-bomb guard), shared by every
import: ORADAD zip/tar, gzip AD dumps, xlsx workbooks (which are zips).

Django-free, so that engines may import it. Every limit is checked *while* reading, before the
data is written or kept: total uncompressed size, ratio to the compressed size, number of
members. Extraction writes regular files only, inside the destination folder; on any error the
files already written are removed by the caller's temporary folder (``temporary_folder``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 1024 * 1024
MIB = 1024 * 1024


class ArchiveError(ValueError):
    """An archive refused or unreadable; the message is in French and says which limit."""


@dataclass(frozen=True)
class Limits:
    """Bounds of one import: total uncompressed bytes, ratio to the compressed size, members."""

    max_total: int = 512 * MIB
    max_ratio: float = 200.0
    max_files: int = 10_000

    def describe(self) -> str:
        return (
            f"{self.max_total // MIB} Mio décompressés, rapport de compression {self.max_ratio:g}, "
            f"{self.max_files} fichiers au plus"
        )


def _size_of(source: str | Path | IO[bytes]) -> int:
    if hasattr(source, "seek"):
        position = source.tell()
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(position)
        return size
    return os.path.getsize(source)


class _Budget:
    """Counts what was decompressed and refuses as soon as a limit is passed."""

    def __init__(self, limits: Limits, compressed: int, what: str):
        self.limits, self.compressed, self.what = limits, max(compressed, 1), what
        self.total = 0
        self.files = 0

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise ArchiveError(
                f"{self.what} : import refusé, plus de {self.limits.max_files} fichiers dans l'archive."
            )

    def add(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_total:
            raise ArchiveError(
                f"{self.what} : import refusé, plus de {self.limits.max_total // MIB} Mio une fois "
                "décompressé."
            )
        # below 1 MiB the ratio says nothing (a small, very regular file compresses well)
        if self.total > MIB and self.total / self.compressed > self.limits.max_ratio:
            raise ArchiveError(
                f"{self.what} : import refusé, taux de compression anormal (plus de "
                f"{self.limits.max_ratio:g} fois), archive piégée probable."
            )


def check_zip(source: str | Path | IO[bytes], limits: Limits, what: str = "Fichier") -> None:
    """Refuse a zip whose declared sizes pass the limits (zipfile never reads past a member's
    declared size, so the declared sizes bound what a reader such as openpyxl decompresses)."""
    budget = _Budget(limits, _size_of(source), what)
    try:
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                budget.add_file()
                budget.add(info.file_size)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"{what} : archive ZIP illisible.") from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)


def _safe_target(root: Path, name: str, what: str) -> Path:
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise ArchiveError(f"{what} : import refusé, chemin hors du dossier ({name}).")
    return target


def _copy(reader: IO[bytes], target: Path, budget: _Budget) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := reader.read(CHUNK):
            budget.add(len(chunk))
            out.write(chunk)


def extract(source: str | Path, destination: str | Path, limits: Limits, what: str) -> Path:
    """Extract a zip or a tar (plain, gz, bz2, xz) into ``destination``, bounded, streaming.

    Regular files and folders only (links, devices are skipped); member paths stay inside
    ``destination``. Raises ArchiveError; files already written stay in ``destination`` for the
    caller to remove (use ``temporary_folder``).
    """
    root = Path(destination).resolve()
    budget = _Budget(limits, os.path.getsize(source), what)
    try:
        if zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    budget.add_file()
                    target = _safe_target(root, info.filename, what)
                    if info.is_dir():
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    with archive.open(info) as reader:
                        _copy(reader, target, budget)
            return root
        with tarfile.open(source, mode="r|*") as archive:
            for member in archive:
                budget.add_file()
                target = _safe_target(root, member.name, what)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    if budget.total + member.size > limits.max_total:
                        budget.add(member.size)  # refuses before decompressing the member
                    reader = archive.extractfile(member)
                    if reader is not None:
                        _copy(reader, target, budget)
        return root
    except ArchiveError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise ArchiveError(f"{what} : archive illisible ou tronquée (zip ou tar attendu).") from exc


def read_gzip(raw: bytes, limits: Limits, what: str = "Fichier") -> bytes:
    """Decompress gzip data in chunks, refusing as soon as a limit is passed (never the whole
    expansion in memory first)."""
    budget = _Budget(limits, len(raw), what)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    data = raw
    try:
        while True:
            chunk = decompressor.decompress(data, CHUNK)
            budget.add(len(chunk))
            parts.append(chunk)
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                break
            if not chunk and not data:
                raise EOFError("truncated")
    except (zlib.error, EOFError) as exc:
        raise ArchiveError(f"{what} : archive gzip tronquée ou corrompue.") from exc
    return b"".join(parts)


@contextlib.contextmanager
def temporary_folder(prefix: str = "careops-import-") -> Iterator[Path]:
    """A private (0700) temporary folder, always removed, whatever happens inside."""
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
