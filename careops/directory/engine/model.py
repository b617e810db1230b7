"""The directory model built once from a dump: indexes, membership, privileged principals."""

from __future__ import annotations

import datetime as dt
from collections import deque
from functools import cached_property, lru_cache
from typing import Any

from careops.directory.engine import sd
from careops.directory.engine.dump import Dump

# userAccountControl bits.
UAC_DISABLED = 0x2
UAC_ENCRYPTED_TEXT_PWD = 0x80
UAC_TEMP_DUPLICATE = 0x100
UAC_NORMAL = 0x200
UAC_INTERDOMAIN_TRUST = 0x800
UAC_WORKSTATION_TRUST = 0x1000
UAC_SERVER_TRUST = 0x2000
UAC_DONT_EXPIRE = 0x10000
UAC_SMARTCARD_REQUIRED = 0x40000
UAC_TRUSTED_FOR_DELEGATION = 0x80000
UAC_NOT_DELEGATED = 0x100000
UAC_USE_DES_KEY_ONLY = 0x200000
UAC_DONT_REQ_PREAUTH = 0x400000
UAC_TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000
UAC_PARTIAL_SECRETS = 0x4000000

# Privileged groups: domain-relative RIDs and builtin SIDs (ANSSI's list).
PRIVILEGED_DOMAIN_RIDS = {
    512: "Domain Admins",
    516: "Domain Controllers",
    518: "Schema Admins",
    519: "Enterprise Admins",
    526: "Key Admins",
    527: "Enterprise Key Admins",
    521: "Read-only Domain Controllers",
    498: "Enterprise Read-only DCs",
}
PRIVILEGED_BUILTIN = {
    "S-1-5-32-544": "Administrators",
    "S-1-5-32-548": "Account Operators",
    "S-1-5-32-549": "Server Operators",
    "S-1-5-32-550": "Print Operators",
    "S-1-5-32-551": "Backup Operators",
}
# Trustees that legitimately hold control and are never a finding.
TRUSTED_WELL_KNOWN = {
    "S-1-5-18",
    "S-1-5-9",
    "S-1-5-10",
    "S-1-3-0",
    "S-1-5-32-544",
    "S-1-5-32-548",
    "S-1-5-32-549",
    "S-1-5-32-550",
    "S-1-5-32-551",
    "S-1-5-32-557",
    "S-1-5-20",
}
# Broad principals: an ACE granted to them is usable by anyone without prerequisite.
BROAD_WELL_KNOWN = {
    "S-1-1-0",
    "S-1-5-7",
    "S-1-5-11",
    "S-1-5-32-545",
    "S-1-5-32-554",
    "S-1-5-2",
    "S-1-5-4",
}
BROAD_DOMAIN_RIDS = {513, 515}

WELL_KNOWN_NAMES = {
    "S-1-1-0": "Tout le monde",
    "S-1-5-7": "Anonyme",
    "S-1-5-11": "Utilisateurs authentifiés",
    "S-1-5-2": "Réseau",
    "S-1-5-4": "Interactif",
    "S-1-5-9": "Contrôleurs de domaine d'entreprise",
    "S-1-5-10": "Soi-même",
    "S-1-5-18": "Système",
    "S-1-3-0": "Propriétaire créateur",
    "S-1-5-32-544": "Administrateurs",
    "S-1-5-32-545": "Utilisateurs",
    "S-1-5-32-554": "Accès compatible pré-Windows 2000",
}

EPOCH_1601 = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)


def filetime(value: str | None) -> dt.datetime | None:
    """Convert a Windows FILETIME (100 ns since 1601) to a UTC datetime; 0 or never → None."""
    if value in (None, "", "0", "9223372036854775807", "-1"):
        return None
    try:
        ticks = int(value)
    except ValueError:
        return None
    if ticks <= 0:
        return None
    return EPOCH_1601 + dt.timedelta(microseconds=ticks // 10)


def gentime(value: str | None) -> dt.datetime | None:
    """Parse an LDAP GeneralizedTime (``20261129080000.0Z``) as a UTC datetime."""
    if not value:
        return None
    text = value[:14]
    try:
        return dt.datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@lru_cache(maxsize=4096)
def _classes(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


class Entry:
    """One directory object, with its attributes lower-cased and helpers to read them."""

    __slots__ = ("dn", "attrs", "sd_key", "key", "classes", "uac", "sid", "enabled")

    def __init__(self, dn: str, attrs: dict[str, list[str]], sd_key: str | None):
        self.dn = dn
        self.attrs = attrs
        self.sd_key = sd_key
        self.key = dn.lower()
        self.classes = _classes(tuple(attrs.get("objectclass", ())))
        self.uac = self.int("useraccountcontrol")
        sid = attrs.get("objectsid")
        self.sid = sid[0] if sid else None
        self.enabled = not self.uac & UAC_DISABLED

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.attrs.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        return self.attrs.get(name, [])

    def int(self, name: str, default: int = 0) -> int:
        values = self.attrs.get(name)
        if not values or values[0] == "":
            return default
        try:
            return int(values[0])
        except ValueError:
            return default

    @property
    def name(self) -> str:
        return self.get("samaccountname") or self.get("name") or self.dn.split(",")[0][3:]

    @property
    def rid(self) -> int | None:
        sid = self.sid
        if not sid or not sid.startswith("S-1-5-21-"):
            return None
        return int(sid.rsplit("-", 1)[1])


class Directory:
    """Indexes over a dump, computed once and shared by every control point."""

    def __init__(self, dump: Dump):
        self.dump = dump
        self.domain_sid = dump.domain_sid
        nc = dump.naming_contexts
        self.domain_dn = (nc.get("domain") or "").lower()
        self.config_dn = (nc.get("configuration") or "").lower()
        self.schema_dn = (nc.get("schema") or "").lower()
        self.entries: list[Entry] = [Entry(o["dn"], o["a"], o.get("sd")) for o in dump.objects]
        self.by_dn: dict[str, Entry] = {e.key: e for e in self.entries}
        self.by_sid: dict[str, Entry] = {}
        for e in self.entries:
            sid = e.sid
            if sid and (sid not in self.by_sid or "foreignsecurityprincipal" not in e.classes):
                self.by_sid[sid] = e
        self.errors_by_dn: dict[str, list[dict[str, str]]] = {}
        for err in dump.errors:
            self.errors_by_dn.setdefault((err.get("dn") or "").lower(), []).append(err)
        if not self.domain_sid:
            head = self.by_dn.get(self.domain_dn)
            self.domain_sid = (head.sid if head else None) or ""

    # ---- object kinds -------------------------------------------------------------------
    @cached_property
    def users(self) -> list[Entry]:
        return [e for e in self.entries if "user" in e.classes and "computer" not in e.classes]

    @cached_property
    def computers(self) -> list[Entry]:
        return [e for e in self.entries if "computer" in e.classes]

    @cached_property
    def accounts(self) -> list[Entry]:
        """Users and computers (every security principal that can log on)."""
        return [e for e in self.entries if "user" in e.classes or "computer" in e.classes]

    @cached_property
    def groups(self) -> list[Entry]:
        return [e for e in self.entries if "group" in e.classes]

    @cached_property
    def domain_controllers(self) -> list[Entry]:
        return [e for e in self.computers if e.uac & (UAC_SERVER_TRUST | UAC_PARTIAL_SECRETS)]

    def of_class(self, name: str) -> list[Entry]:
        return [e for e in self.entries if name in e.classes]

    def domain_sid_of(self, rid: int) -> str:
        return f"{self.domain_sid}-{rid}"

    def entry_for_rid(self, rid: int) -> Entry | None:
        return self.by_sid.get(self.domain_sid_of(rid))

    @cached_property
    def domain_head(self) -> Entry | None:
        return self.by_dn.get(self.domain_dn)

    def find_dn(self, prefix: str) -> Entry | None:
        """The entry whose DN is ``prefix`` + the domain DN (case-insensitive)."""
        return self.by_dn.get(f"{prefix},{self.domain_dn}".lower())

    # ---- membership ---------------------------------------------------------------------
    def member_sid(self, value: str) -> str | None:
        """The SID of a ``member`` value (a DN, or ``<SID=…>``)."""
        if value[:1] == "<" and value.upper().startswith("<SID="):
            return value[5:].split(">")[0]
        entry = self.by_dn.get(value.lower())
        if entry is not None and entry.sid:
            return entry.sid
        head = value.split(",", 1)[0]
        if head.upper().startswith("CN=S-1-"):
            return head[3:]
        return None

    @cached_property
    def members(self) -> dict[str, set[str]]:
        """Group SID → SIDs of its direct members (including through primaryGroupID)."""
        result: dict[str, set[str]] = {}
        for group in self.groups:
            if not group.sid:
                continue
            bucket = result.setdefault(group.sid, set())
            for value in group.all("member"):
                sid = self.member_sid(value)
                if sid:
                    bucket.add(sid)
        if self.domain_sid:
            for account in self.accounts:
                pgid = account.int("primarygroupid")
                if pgid and account.sid:
                    result.setdefault(self.domain_sid_of(pgid), set()).add(account.sid)
        return result

    def recursive_members(self, group_sids: set[str]) -> set[str]:
        """Every SID reachable through nested membership from the given groups (them excluded)."""
        seen: set[str] = set()
        queue = deque(group_sids)
        while queue:
            current = queue.popleft()
            for member in self.members.get(current, ()):
                if member not in seen:
                    seen.add(member)
                    queue.append(member)
        return seen

    @cached_property
    def privileged_group_sids(self) -> set[str]:
        sids = set(PRIVILEGED_BUILTIN)
        sids |= {self.domain_sid_of(rid) for rid in PRIVILEGED_DOMAIN_RIDS}
        return sids

    @cached_property
    def privileged_sids(self) -> set[str]:
        """Privileged groups and all their recursive members (groups, users, computers)."""
        base = self.privileged_group_sids
        return base | self.recursive_members(base)

    @cached_property
    def privileged_accounts(self) -> list[Entry]:
        """User and computer accounts that are recursive members of a privileged group."""
        sids = self.privileged_sids
        return [e for e in self.accounts if e.sid in sids]

    @cached_property
    def privileged_users(self) -> list[Entry]:
        """Privileged accounts that are not DCs nor the built-in Administrator (RID 500)."""
        dcs = {e.key for e in self.domain_controllers}
        return [e for e in self.privileged_accounts if e.key not in dcs and e.rid != 500]

    def is_trusted(self, sid: str) -> bool:
        """True for principals that may hold control: privileged ones and system identities."""
        return sid in TRUSTED_WELL_KNOWN or sid in self.privileged_sids

    def is_broad(self, sid: str) -> bool:
        """True for principals every account (or anonymous) belongs to."""
        if sid in BROAD_WELL_KNOWN:
            return True
        return any(sid == self.domain_sid_of(rid) for rid in BROAD_DOMAIN_RIDS)

    def label(self, sid: str) -> str:
        if sid in WELL_KNOWN_NAMES:
            return WELL_KNOWN_NAMES[sid]
        entry = self.by_sid.get(sid)
        return (
            entry.name
            if entry is not None and "foreignsecurityprincipal" not in entry.classes
            else sid
        )

    # ---- descriptors --------------------------------------------------------------------
    def descriptor(self, key: str | None) -> sd.Descriptor | None:
        """The parsed descriptor for a key (parsed once per distinct descriptor)."""
        if not key:
            return None
        return self._descriptors.get(key)

    @cached_property
    def _descriptors(self) -> dict[str, sd.Descriptor]:
        parsed: dict[str, sd.Descriptor] = {}
        for key in self.dump.descriptors:
            raw = self.dump.descriptor_bytes(key)
            try:
                parsed[key] = sd.parse(raw)
            except sd.DescriptorError:
                continue
        return parsed

    @cached_property
    def descriptors_missing(self) -> int:
        return sum(1 for e in self.entries if not e.sd_key)

    def describe(self, entry: Entry) -> dict[str, Any]:
        """A short JSON description of an object for reports."""
        return {"dn": entry.dn, "name": entry.name, "sid": entry.sid}
