"""The directory dump: a documented, versioned, gzip-compressed JSON file.

Layout (version 1)::

    {"format": "careops-ad-dump", "version": 1,
     "domain": "care.test", "domain_sid": "S-1-5-21-…", "collected_at": "2026-11-29T08:00:00+00:00",
     "source": "ldap" | "oradad" | "synthetic", "collector": {...free-form...},
     "naming_contexts": {"domain": DN, "configuration": DN, "schema": DN, "dns": [DN, …]},
     "objects": [{"dn": DN, "a": {"attribute-lowercase": ["value", …]}, "sd": HASH | null}, …],
     "descriptors": {HASH: BASE64 of a self-relative security descriptor},
     "errors": [{"dn": DN | "", "attribute": NAME | "", "reason": TEXT}],
     "complete": true | false}

Values are strings: SIDs in ``S-1-…`` form, GUIDs in their canonical form, other binary values
prefixed ``b64:``. Security descriptors (``nTSecurityDescriptor``, and the descriptor held in
``msDS-AllowedToActOnBehalfOfOtherIdentity``, kept as ``sd:HASH``) are stored once per distinct
value in ``descriptors``: they repeat massively.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from careops.archives import ArchiveError, Limits, read_gzip

FORMAT = "careops-ad-dump"
VERSION = 1
# A gzip dump is decompressed within these bounds (careops.archives): 2 GiB, ratio 100.
DUMP_LIMITS = Limits(max_total=2 * 1024**3, max_ratio=100, max_files=1)
MAX_JSON_BYTES = DUMP_LIMITS.max_total  # a decompressed dump larger than this is refused


class DumpError(ValueError):
    """A dump that cannot be read; the message is in French and says why."""


@dataclass
class Dump:
    """An in-memory directory dump (see the module documentation for the file layout)."""

    domain: str
    domain_sid: str
    collected_at: str
    naming_contexts: dict[str, Any]
    objects: list[dict[str, Any]] = field(default_factory=list)
    descriptors: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    source: str = "ldap"
    collector: dict[str, Any] = field(default_factory=dict)
    complete: bool = True

    def add_descriptor(self, raw: bytes) -> str:
        """Store a descriptor once and return its key (a short SHA-256 prefix)."""
        key = hashlib.sha256(raw).hexdigest()[:24]
        if key not in self.descriptors:
            self.descriptors[key] = base64.b64encode(raw).decode("ascii")
        return key

    def descriptor_bytes(self, key: str) -> bytes | None:
        """Return the raw bytes of a stored descriptor, or None when unknown."""
        value = self.descriptors.get(key)
        return base64.b64decode(value) if value else None

    def to_json(self) -> dict[str, Any]:
        """The JSON document written to disk."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "domain": self.domain,
            "domain_sid": self.domain_sid,
            "collected_at": self.collected_at,
            "source": self.source,
            "collector": self.collector,
            "naming_contexts": self.naming_contexts,
            "objects": self.objects,
            "descriptors": self.descriptors,
            "errors": self.errors,
            "complete": self.complete,
        }


def save_dump(dump: Dump, path: str | Path) -> None:
    """Write the dump as gzip-compressed JSON."""
    data = json.dumps(dump.to_json(), separators=(",", ":"), ensure_ascii=False)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as handle:
        handle.write(data)


def from_json(doc: Any) -> Dump:
    """Validate a decoded JSON document and build the Dump (raises DumpError)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DumpError("Ce fichier n'est pas une collecte careops (format inconnu).")
    if doc.get("version") != VERSION:
        raise DumpError(
            f"Version de collecte {doc.get('version')!r} non prise en charge (attendue : {VERSION})."
        )
    for key in ("domain", "collected_at", "naming_contexts", "objects"):
        if key not in doc:
            raise DumpError(f"Collecte incomplète : le champ « {key} » manque.")
    if not isinstance(doc["objects"], list):
        raise DumpError("Collecte invalide : « objects » doit être une liste.")
    for obj in doc["objects"][:1]:
        if not isinstance(obj, dict) or "dn" not in obj or "a" not in obj:
            raise DumpError("Collecte invalide : objet sans « dn » ni « a ».")
    return Dump(
        domain=doc["domain"],
        domain_sid=doc.get("domain_sid", ""),
        collected_at=doc["collected_at"],
        naming_contexts=doc["naming_contexts"],
        objects=doc["objects"],
        descriptors=doc.get("descriptors", {}),
        errors=doc.get("errors", []),
        source=doc.get("source", "ldap"),
        collector=doc.get("collector", {}),
        complete=bool(doc.get("complete", False)),
    )


def load_dump(path: str | Path) -> Dump:
    """Read a dump file (gzip JSON, or plain JSON); a truncated or foreign file → DumpError."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DumpError(f"Fichier de collecte illisible : {exc.strerror or exc}.") from exc
    try:
        if raw[:2] == b"\x1f\x8b":
            text = read_gzip(raw, DUMP_LIMITS, "Fichier de collecte")
        else:
            text = raw
        if len(text) > MAX_JSON_BYTES:
            raise DumpError("Fichier de collecte refusé : plus de 2 Gio.")
        doc = json.loads(text)
    except ArchiveError as exc:
        raise DumpError(str(exc)) from exc
    except (EOFError, OSError, zlib.error) as exc:
        raise DumpError(
            "Fichier de collecte tronqué ou corrompu (archive gzip incomplète)."
        ) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DumpError("Fichier de collecte illisible : ce n'est pas du JSON valide.") from exc
    return from_json(doc)
