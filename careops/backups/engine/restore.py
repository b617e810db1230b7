"""Restore tests: restore into a scratch location, compare SHA-256 with a manifest, time it."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

CHUNK = 1024 * 1024


def sha256_file(path: str) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(root: str) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            if os.path.isfile(full) and not os.path.islink(full):
                yield full


def locate_root(target: str, source_path: str) -> str:
    """Where a backed-up folder landed under a restore target.

    Tools restore under ``target`` + the stored path, which is the absolute path for a backup of
    an absolute path, but only the given relative path for restic < 0.17 and borg when the backup
    was made from a relative path: the longest existing suffix of ``source_path`` wins.
    """
    parts = [p for p in source_path.split("/") if p]
    for start in range(len(parts)):
        candidate = os.path.join(target, *parts[start:])
        if os.path.isdir(candidate):
            return candidate
    return target


def build_manifest(root: str) -> dict[str, str]:
    """Relative path → SHA-256 for every regular file under ``root`` (the backup-time manifest)."""
    return {os.path.relpath(path, root): sha256_file(path) for path in _walk(root)}


def write_manifest(manifest: dict[str, str]) -> str:
    """The manifest in ``sha256sum`` format (``<hex>  <path>`` lines), sorted."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(manifest.items()))


def read_manifest(text: str) -> dict[str, str]:
    """Parse a ``sha256sum``-format manifest; raises ValueError on a malformed line."""
    manifest = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64:
            digest, sep, path = line.partition(" *")
        if not sep or len(digest) != 64:
            raise ValueError(f"ligne {number} du manifeste illisible")
        manifest[path.strip().removeprefix("./")] = digest.lower()
    return manifest


def compare(expected: dict[str, str], restored: dict[str, str]) -> dict[str, list[str]]:
    """Files missing, different or unexpected in the restored tree (sorted lists)."""
    return {
        "missing": sorted(set(expected) - set(restored)),
        "different": sorted(p for p in expected if p in restored and restored[p] != expected[p]),
        "unexpected": sorted(set(restored) - set(expected)),
    }
