"""A small parser for self-relative Windows security descriptors (owner, group, DACL).

Descriptors repeat massively in a directory (a few hundred distinct ones for 100 000 objects):
:func:`parse_cached` parses each distinct byte string once.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from functools import lru_cache

# Access-mask bits that matter for control.
GENERIC_ALL = 0x10000000
GENERIC_WRITE = 0x40000000
WRITE_DAC = 0x00040000
WRITE_OWNER = 0x00080000
DS_CONTROL_ACCESS = 0x00000100
DS_WRITE_PROPERTY = 0x00000020
DS_SELF = 0x00000008
DS_CREATE_CHILD = 0x00000001
FULL_CONTROL = 0x000F01FF

ACE_ALLOWED = 0x00
ACE_DENIED = 0x01
ACE_ALLOWED_OBJECT = 0x05
ACE_DENIED_OBJECT = 0x06
INHERIT_ONLY = 0x08
INHERITED = 0x10
OBJECT_TYPE_PRESENT = 0x1
INHERITED_OBJECT_TYPE_PRESENT = 0x2


class DescriptorError(ValueError):
    """A security descriptor whose bytes are not a valid self-relative descriptor."""


@dataclass(frozen=True, slots=True)
class Ace:
    """One access-control entry, reduced to what the analysis needs."""

    allow: bool
    flags: int
    mask: int
    trustee: str
    object_type: str | None = None
    inherited_object_type: str | None = None

    @property
    def effective(self) -> bool:
        """True when the entry applies to the object itself (not only to its children)."""
        return not self.flags & INHERIT_ONLY


@dataclass(frozen=True, slots=True)
class Descriptor:
    """Owner, group and DACL of one security descriptor."""

    owner: str | None
    group: str | None
    dacl: tuple[Ace, ...]
    dacl_present: bool


def sid_to_str(data: bytes, offset: int = 0) -> tuple[str, int]:
    """Decode a binary SID at ``offset``; return its string form and its length in bytes."""
    if len(data) < offset + 8:
        raise DescriptorError("SID tronqué")
    revision, count = data[offset], data[offset + 1]
    authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
    end = offset + 8 + 4 * count
    if len(data) < end:
        raise DescriptorError("SID tronqué")
    subs = struct.unpack_from(f"<{count}I", data, offset + 8)
    text = f"S-{revision}-{authority}" + "".join(f"-{s}" for s in subs)
    return text, 8 + 4 * count


def sid_to_bytes(sid: str) -> bytes:
    """Encode a string SID (``S-1-5-21-…``) in its binary form."""
    parts = sid.split("-")
    if len(parts) < 3 or parts[0].upper() != "S":
        raise DescriptorError(f"SID invalide : {sid}")
    subs = [int(p) for p in parts[3:]]
    return (
        bytes([int(parts[1]), len(subs)])
        + int(parts[2]).to_bytes(6, "big")
        + struct.pack(f"<{len(subs)}I", *subs)
    )


def _parse_acl(data: bytes, offset: int) -> tuple[Ace, ...]:
    if len(data) < offset + 8:
        raise DescriptorError("ACL tronquée")
    _rev, _sbz, size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    aces = []
    pos = offset + 8
    for _ in range(count):
        if len(data) < pos + 4:
            raise DescriptorError("ACE tronquée")
        ace_type, ace_flags, ace_size = struct.unpack_from("<BBH", data, pos)
        if ace_size < 4 or len(data) < pos + ace_size:
            raise DescriptorError("ACE tronquée")
        body = pos + 4
        if ace_type in (ACE_ALLOWED, ACE_DENIED):
            (mask,) = struct.unpack_from("<I", data, body)
            trustee, _ = sid_to_str(data, body + 4)
            aces.append(Ace(ace_type == ACE_ALLOWED, ace_flags, mask, trustee))
        elif ace_type in (ACE_ALLOWED_OBJECT, ACE_DENIED_OBJECT):
            mask, oflags = struct.unpack_from("<II", data, body)
            cur = body + 8
            otype = itype = None
            if oflags & OBJECT_TYPE_PRESENT:
                otype = str(uuid.UUID(bytes_le=bytes(data[cur : cur + 16])))
                cur += 16
            if oflags & INHERITED_OBJECT_TYPE_PRESENT:
                itype = str(uuid.UUID(bytes_le=bytes(data[cur : cur + 16])))
                cur += 16
            trustee, _ = sid_to_str(data, cur)
            aces.append(Ace(ace_type == ACE_ALLOWED_OBJECT, ace_flags, mask, trustee, otype, itype))
        # Other ACE types (audit, callback…) do not grant control: skipped.
        pos += ace_size
    return tuple(aces)


def parse(data: bytes) -> Descriptor:
    """Parse a self-relative security descriptor (raises DescriptorError on bad bytes)."""
    if len(data) < 20:
        raise DescriptorError("descripteur de sécurité tronqué")
    _rev, _sbz, control, o_owner, o_group, _o_sacl, o_dacl = struct.unpack_from("<BBHIIII", data, 0)
    if not control & 0x8000:
        raise DescriptorError("descripteur de sécurité non auto-relatif")
    owner = sid_to_str(data, o_owner)[0] if o_owner else None
    group = sid_to_str(data, o_group)[0] if o_group else None
    present = bool(control & 0x0004)
    dacl = _parse_acl(data, o_dacl) if present and o_dacl else ()
    return Descriptor(owner, group, dacl, present)


@lru_cache(maxsize=65536)
def parse_cached(data: bytes) -> Descriptor:
    """Parse a descriptor once per distinct byte string."""
    return parse(data)


def build(owner: str, group: str, aces: list[Ace]) -> bytes:
    """Encode a self-relative descriptor (used by tests and benchmarks to forge ACLs)."""
    body = b""
    for ace in aces:
        sid = sid_to_bytes(ace.trustee)
        if ace.object_type or ace.inherited_object_type:
            oflags = (OBJECT_TYPE_PRESENT if ace.object_type else 0) | (
                INHERITED_OBJECT_TYPE_PRESENT if ace.inherited_object_type else 0
            )
            payload = struct.pack("<II", ace.mask, oflags)
            if ace.object_type:
                payload += uuid.UUID(ace.object_type).bytes_le
            if ace.inherited_object_type:
                payload += uuid.UUID(ace.inherited_object_type).bytes_le
            payload += sid
            ace_type = ACE_ALLOWED_OBJECT if ace.allow else ACE_DENIED_OBJECT
        else:
            payload = struct.pack("<I", ace.mask) + sid
            ace_type = ACE_ALLOWED if ace.allow else ACE_DENIED
        body += struct.pack("<BBH", ace_type, ace.flags, 4 + len(payload)) + payload
    acl = struct.pack("<BBHHH", 4, 0, 8 + len(body), len(aces), 0) + body
    owner_b, group_b = sid_to_bytes(owner), sid_to_bytes(group)
    o_owner = 20
    o_group = o_owner + len(owner_b)
    o_dacl = o_group + len(group_b)
    header = struct.pack("<BBHIIII", 1, 0, 0x8004, o_owner, o_group, 0, o_dacl)
    return header + owner_b + group_b + acl
