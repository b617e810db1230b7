"""Moving the evidence store (local folder ↔ S3) and verifying it, file by file, resumably.

A move copies every file the database names into the destination under its content-addressed
name, reads it back from the destination and checks its SHA-256, and only then points the row at
that name. Nothing is deleted from the source. A move interrupted at any point loses nothing:
the next run finds the objects already copied, verifies them instead of copying them again, and
goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from careops.core import storage as store_module
from careops.core.storage import StorageError, StoredObjectCorrupted

logger = logging.getLogger("careops.storage")

Progress = Callable[[int, int, str], None]


@dataclass
class Counts:
    total: int = 0
    copied: int = 0
    already: int = 0  # present in the destination and verified (dedupe or an earlier run)
    verified: int = 0
    renamed: int = 0  # rows whose legacy name became the content-addressed one
    missing: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # row's own sha256 differs from the file
    legacy: list[str] = field(default_factory=list)  # names that carry no digest
    errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return len(self.missing) + len(self.corrupted) + len(self.mismatched) + len(self.errors)

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "copied": self.copied,
            "already": self.already,
            "verified": self.verified,
            "renamed": self.renamed,
            "missing": self.missing,
            "corrupted": self.corrupted,
            "mismatched": self.mismatched,
            "legacy": self.legacy,
            "errors": self.errors,
        }


def _label(ref: store_module.Reference) -> str:
    return f"{ref.model._meta.label}#{ref.pk} {ref.name}"


def _read(store, name: str) -> tuple[str, int]:
    """SHA-256 and size of a stored object, read whole (verified against its name by the store)."""
    with store.open(name) as handle:
        return store_module.hash_stream(handle)


def migrate(source, destination, progress: Progress | None = None) -> Counts:
    """Copy every referenced file from ``source`` to ``destination`` (see the module docstring)."""
    refs = list(store_module.references())
    counts = Counts(total=len(refs))
    done: dict[str, str] = {}  # source name → destination name, for files named by several rows
    for number, ref in enumerate(refs, 1):
        if progress:
            progress(number, counts.total, ref.name)
        try:
            target = done.get(ref.name) or _move_one(source, destination, ref, counts)
        except FileNotFoundError:
            counts.missing.append(_label(ref))
            continue
        except StoredObjectCorrupted:
            counts.corrupted.append(_label(ref))
            continue
        except (StorageError, OSError) as exc:
            logger.error("déplacement de %s impossible : %s", _label(ref), exc)
            counts.errors.append(f"{_label(ref)} : {exc}")
            continue
        if target is None:
            continue
        done[ref.name] = target
        if target != ref.name:
            ref.model._default_manager.filter(pk=ref.pk).update(**{ref.field: target})
            counts.renamed += 1
    return counts


def _move_one(source, destination, ref, counts: Counts) -> str | None:
    with source.open(ref.name) as handle:  # verified against its name when it carries one
        digest, _size = store_module.hash_stream(handle)
        if ref.sha256 and ref.sha256 != digest:
            counts.mismatched.append(_label(ref))
            return None
        target = store_module.content_name(ref.name, digest)
        if destination.exists(target):
            counts.already += 1
        else:
            handle.seek(0)
            stored = destination.save(target, handle)
            if stored != target:
                raise StorageError(f"nom inattendu dans la destination : {stored}")
            counts.copied += 1
    read_back, _size = _read(destination, target)
    if read_back != digest:
        raise StoredObjectCorrupted(target, read_back)
    counts.verified += 1
    return target


def verify(store, progress: Progress | None = None) -> Counts:
    """Read every referenced file back from ``store`` and check its SHA-256 (against its name,
    and against the row's own ``sha256`` column when the model has one)."""
    refs = list(store_module.references())
    counts = Counts(total=len(refs))
    for number, ref in enumerate(refs, 1):
        if progress:
            progress(number, counts.total, ref.name)
        try:
            digest, _size = _read(store, ref.name)
        except FileNotFoundError:
            counts.missing.append(_label(ref))
            continue
        except StoredObjectCorrupted:
            counts.corrupted.append(_label(ref))
            continue
        except (StorageError, OSError) as exc:
            counts.errors.append(f"{_label(ref)} : {exc}")
            continue
        if ref.sha256 and ref.sha256 != digest:
            counts.mismatched.append(_label(ref))
            continue
        if store_module.expected_digest(ref.name) is None:
            counts.legacy.append(_label(ref))
        counts.verified += 1
    return counts
