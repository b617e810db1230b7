"""Imports of collections made elsewhere: ORADAD cleartext TSV, PingCastle healthcheck XML.

ORADAD (ANSSI's collector) writes, when its output is not packed in an MLA archive, one
tab-separated file per request and a ``tables.tsv`` that names each table's columns in order
(``table<TAB>column<TAB>type``), plus ``metadata.tsv`` (``key<TAB>value``). We read every
``*.tsv`` data file below the folder; a data file whose first line repeats its column names is
read as having a header. Binary values (SIDs, GUIDs, security descriptors) are hexadecimal;
multi-valued attributes are separated by ``;`` (never split for gPLink).
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - parsed with entity expansion off, see below
from pathlib import Path
from typing import Any

from careops.directory.engine.dump import Dump, DumpError
from careops.directory.engine.sd import DescriptorError, sid_to_str

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
SID_COLUMNS = {"objectsid", "sidhistory", "securityidentifier"}
GUID_COLUMNS = {"objectguid"}
BINARY_B64 = {"dnsproperty", "cacertificate", "usercertificate"}
NO_SPLIT = {"gplink", "distinguishedname", "dn"}


def _hex(value: str) -> bytes | None:
    text = value.strip().removeprefix("0x")
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _read_tables(folder: Path) -> dict[str, list[str]]:
    path = next(iter(sorted(folder.rglob("tables.tsv"))), None)
    tables: dict[str, list[str]] = {}
    if path is None:
        return tables
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[0] and row[0].lower() not in ("table", "tablename"):
                tables.setdefault(row[0], []).append(row[1])
    return tables


def _read_metadata(folder: Path) -> dict[str, str]:
    path = next(iter(sorted(folder.rglob("metadata.tsv"))), None)
    meta: dict[str, str] = {}
    if path is not None:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if "\t" in line:
                key, value = line.split("\t", 1)
                meta[key.strip().lower()] = value.strip()
    return meta


def load_oradad(folder: str | Path) -> Dump:
    """Build a Dump from an ORADAD cleartext output folder (raises DumpError when unusable)."""
    root = Path(folder)
    if not root.is_dir():
        raise DumpError(f"Dossier ORADAD introuvable : {root}.")
    tables = _read_tables(root)
    meta = _read_metadata(root)
    data_files = [
        p for p in sorted(root.rglob("*.tsv")) if p.name not in ("tables.tsv", "metadata.tsv")
    ]
    if not data_files:
        raise DumpError("Aucun fichier TSV ORADAD dans ce dossier (sortie chiffrée MLA ?).")
    dump = Dump(
        domain="",
        domain_sid="",
        collected_at="",
        naming_contexts={},
        source="oradad",
        collector={"tool": "ORADAD", "metadata": meta},
    )
    seen: set[str] = set()
    for path in data_files:
        columns = tables.get(path.stem)
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            for index, row in enumerate(reader):
                if index == 0 and (
                    columns is None or [c.lower() for c in row] == [c.lower() for c in columns]
                ):
                    columns = row
                    continue
                if not columns or not row:
                    continue
                _add_row(dump, dict(zip([c.lower() for c in columns], row, strict=False)), seen)
    if not dump.objects:
        raise DumpError("Les fichiers ORADAD ne contiennent aucun objet lisible.")
    heads = [
        o for o in dump.objects if "domaindns" in {c.lower() for c in o["a"].get("objectclass", [])}
    ]
    head = min(heads, key=lambda o: len(o["dn"])) if heads else None
    if head is None:
        raise DumpError("Collecte ORADAD sans objet racine du domaine (domainDNS).")
    domain_dn = head["dn"]
    dump.naming_contexts = {
        "domain": domain_dn,
        "configuration": f"CN=Configuration,{domain_dn}",
        "schema": f"CN=Schema,CN=Configuration,{domain_dn}",
        "dns": [],
    }
    dump.domain = ".".join(p[3:] for p in domain_dn.split(",") if p.upper().startswith("DC="))
    dump.domain_sid = (head["a"].get("objectsid") or [""])[0]
    dump.collected_at = meta.get("dateutc") or meta.get("date") or meta.get("collected_at") or ""
    if not dump.collected_at:
        raise DumpError("Date de collecte ORADAD absente (metadata.tsv) : analyse impossible.")
    dump.complete = False  # ORADAD's TSV carries no per-object read errors we can check.
    return dump


def _add_row(dump: Dump, row: dict[str, str], seen: set[str]) -> None:
    dn = row.get("distinguishedname") or row.get("dn")
    if not dn or dn.lower() in seen:
        return
    seen.add(dn.lower())
    attrs: dict[str, list[str]] = {}
    sd_key = None
    for name, raw in row.items():
        if name in ("distinguishedname", "dn") or raw in ("", None):
            continue
        values = [raw] if name in NO_SPLIT else [v for v in raw.split(";") if v]
        if name == "ntsecuritydescriptor":
            data = _hex(raw)
            if data:
                sd_key = dump.add_descriptor(data)
            continue
        if name in SID_COLUMNS:
            out = []
            for v in values:
                if v.startswith("S-1-"):
                    out.append(v)
                elif (data := _hex(v)) is not None:
                    try:
                        out.append(sid_to_str(data)[0])
                    except DescriptorError:
                        continue
            values = out
        elif name in GUID_COLUMNS:
            values = [
                str(uuid.UUID(bytes_le=d)) if (d := _hex(v)) and len(d) == 16 else v for v in values
            ]
        elif name == "msds-allowedtoactonbehalfofotheridentity":
            values = ["sd:" + dump.add_descriptor(d) for v in values if (d := _hex(v))]
        elif name in BINARY_B64:
            import base64

            values = ["b64:" + base64.b64encode(d).decode() for v in values if (d := _hex(v))]
        if values:
            attrs[name] = values
    dump.objects.append({"dn": dn, "a": attrs, "sd": sd_key})


# PingCastle rule → ANSSI check (best effort; only rules whose meaning matches one check).
PINGCASTLE_MAP = {
    "A-Krbtgt": "krbtgt",
    "S-PwdNeverExpires": "dont_expire",
    "P-AdminPwdTooOld": "password_change_priv",
    "P-UnconstrainedDelegation": "delegation_t4d",
    "S-NoPreAuth": "kerberos_properties_preauth",
    "S-NoPreAuthAdmin": "kerberos_properties_preauth_priv",
    "P-Kerberoasting": "spn_priv",
    "P-ServiceDomainAdmin": "spn_priv",
    "A-PreWin2000Anonymous": "compatible_2000_anonymous",
    "A-PreWin2000Other": "compatible_2000_not_default",
    "S-DesEnabled": "kerberos_properties_deskey",
    "A-DsHeuristicsAnonymous": "dsheuristics_bad",
    "S-ADRegistration": "user_accounts_machineaccountquota",
    "T-SIDFiltering": "trusts_domain_notfiltered",
    "S-PrimaryGroup": "primary_group_id_nochange",
    "P-ProtectedUsers": "protected_users",
    "A-DnsZoneUpdate1": "dnszone_bad_prop",
    "S-SIDHistory": "sidhistory_present",
    "P-AdminNum": "privileged_members",
    "P-DelegationDCt2a4d": "delegation_t2a4d",
    "P-DelegationDCa2d2": "delegation_a2d2",
    "S-DC-NotUpdated": "dc_obsolete",
    "P-RODCRevealOnDemand": "rodc_reveal",
    "P-RODCNeverReveal": "rodc_never_reveal",
    "S-Inactive": "user_accounts_dormant",
}


def load_pingcastle(path: str | Path) -> dict[str, Any]:
    """Read a PingCastle ``ad_hc_*.xml``: domain, date, maturity, risk rules mapped to checks."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DumpError(f"Rapport PingCastle illisible : {exc}.") from exc
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise DumpError("Rapport PingCastle refusé : déclarations DTD interdites.")
    try:
        root = ET.fromstring(text)  # noqa: S314 - DTDs refused above
    except ET.ParseError as exc:
        raise DumpError(f"Rapport PingCastle tronqué ou invalide : {exc}.") from exc
    if root.tag != "HealthcheckData":
        raise DumpError("Ce fichier n'est pas un rapport healthcheck PingCastle.")

    def text_of(tag: str) -> str:
        node = root.find(tag)
        return (node.text or "").strip() if node is not None else ""

    rules = []
    for rule in root.iter("HealthcheckRiskRule"):
        rid = (rule.findtext("RiskId") or "").strip()
        rules.append(
            {
                "risk_id": rid,
                "points": int(rule.findtext("Points") or 0),
                "rationale": (rule.findtext("Rationale") or "").strip(),
                "check": PINGCASTLE_MAP.get(rid),
            }
        )
    date = text_of("GenerationDate")
    try:
        parsed = dt.datetime.fromisoformat(date) if date else None
    except ValueError:
        parsed = None
    maturity = text_of("MaturityLevel")
    return {
        "domain": text_of("DomainFQDN"),
        "generated_at": parsed.isoformat() if parsed else "",
        "maturity_level": int(maturity) if maturity.isdigit() else None,
        "global_score": text_of("GlobalScore"),
        "rules": rules,
    }
