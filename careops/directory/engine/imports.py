"""Imports of collections made elsewhere: ORADAD cleartext TSV, PingCastle healthcheck XML.

ORADAD (ANSSI's collector, the data behind ANSSI's ADS service). Facts read in its public
source, ANSSI-FR/ORADAD: Engine.cpp (folder layout), LDAP.cpp (columns, value encodings,
tables.tsv lines), Buffer.cpp (UTF-16LE + BOM, CRLF, lowercase hex, ``.oradad`` suffix when
compressed/encrypted), Util.cpp (tabs/newlines in values replaced by spaces, metadata.tsv),
Filters.cpp (flag columns), Constants.h / ORADAD.h (folder names), config-oradad.xml and
oradad-schema.xml (attribute types). Cleartext output layout::

    OUT/<forest root DNS>/<YYYYMMDD-HHMMSS UTC>/
        tables.tsv         line 1 "<root>_<time>", then per table:
                           relative path (with \\) TAB table TAB table_no_domain TAB n TAB (col TAB type)*n
        metadata.tsv       key TAB value (oradad_version, forest|systemtime, …, oradad_processtime
                           written last: its absence means an interrupted run)
        domain/<domain DNS>/<request>.tsv      configuration/<request>.tsv   schema/<request>.tsv
        domaindns/<domain DNS>/…  forestdns/…  application/<partition>/…
    OUT/<root>/<time>_SYSVOL/…                 (ignored here)
    OUT/<root>_<time>.mla                      (encrypted MLA archive for ANSI: refused)

Data files carry no header unless ``writeHeader`` is set; the first column is ``dn`` (``server``
for rootDSE), the generic ``top`` request adds ``shortname`` and ``shortdn``. Types: STR/STRS
text, multi-values joined by ``;``; SID as ``S-1-…``; SD and BIN in hexadecimal (BIN
multi-values joined by ``;``); DACL as SDDL; GUID in canonical text; DATE and DATEINT64 as
``YYYY-MM-DD HH:MM:SS`` (never = ``2999-12-12 23:59:59``, 0 = empty); BOOL ``1``/``0``; an
INT with a filter (userAccountControl, groupType, trust*, …) is two columns, flag names then
``<name>_int``. Older releases wrote UTF-8/ANSI text: both are accepted, as are a tar or zip of
the folder. This reader was checked against hand-written files in that layout, not against a
real ORADAD run.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - parsed with entity expansion off, see below
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from careops import archives
from careops.directory.engine.dump import Dump, DumpError
from careops.directory.engine.sd import DescriptorError, sid_to_str

EPOCH_1601 = dt.datetime(1601, 1, 1, tzinfo=dt.UTC)
NEVER = "9223372036854775807"
# datetime2 columns that hold FILETIME values in LDAP (ORADAD type DATEINT64); the others are
# GeneralizedTime (type DATE).
FILETIME_COLUMNS = {
    "pwdlastset",
    "lastlogontimestamp",
    "lastlogon",
    "lastlogoff",
    "accountexpires",
    "badpasswordtime",
    "lockouttime",
    "creationtime",
    "lsacreationtime",
    "msds-lastsuccessfulinteractivelogontime",
    "msds-lastfailedinteractivelogontime",
    "msds-userpasswordexpirytimecomputed",
}
SID_COLUMNS = {"objectsid", "sidhistory", "securityidentifier"}
SD_COLUMNS = {"ntsecuritydescriptor"}
SD_VALUE_COLUMNS = {"msds-allowedtoactonbehalfofotheridentity", "msds-groupmsamembership"}
# Single-valued text that may contain ';' (never split).
NO_SPLIT = {"gplink", "distinguishedname", "dn", "defaultsecuritydescriptor", "description"}
PARTITIONS = ("domain", "configuration", "schema", "domaindns", "forestdns", "application")
TIME_DIR = re.compile(r"^\d{8}-\d{6}$")
HEX = re.compile(r"^(?:[0-9a-fA-F]{2})+$")
TABLE_CLASSES = {
    "user": ["top", "person", "organizationalPerson", "user"],
    "computer": ["top", "person", "organizationalPerson", "user", "computer"],
    "group": ["top", "group"],
    "trustedDomain": ["top", "leaf", "trustedDomain"],
    "dnsZone": ["top", "dnsZone"],
}


def _hex(value: str) -> bytes | None:
    text = value.strip().removeprefix("0x")
    if not HEX.match(text):
        return None
    return bytes.fromhex(text)


def _decode(raw: bytes, name: str) -> str:
    """ORADAD text: UTF-16LE with BOM (current releases), else UTF-8, else Windows ANSI."""
    if raw[:2] == b"\xff\xfe":
        try:
            return raw[2:].decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise DumpError(f"Fichier ORADAD tronqué ou corrompu : {name} (UTF-16).") from exc
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _lines(path: Path, name: str) -> list[str]:
    text = _decode(path.read_bytes(), name)
    return [line.rstrip("\r") for line in text.split("\n")]


# ORADAD archives are extracted within these bounds (careops.archives).
ORADAD_LIMITS = archives.Limits(max_total=2 * 1024**3, max_ratio=100, max_files=50_000)


def _unpack(source: Path, workdir: Path) -> Path:
    """Extract a tar (optionally compressed) or zip of an ORADAD folder: bounded (size, ratio,
    file count), streaming, member paths checked, regular files only."""
    try:
        return archives.extract(source, workdir, ORADAD_LIMITS, "Archive ORADAD")
    except archives.ArchiveError as exc:
        raise DumpError(str(exc)) from exc


def _find_instance(root: Path) -> Path:
    """The ``<root>/<YYYYMMDD-HHMMSS>`` folder holding tables.tsv (the most recent run)."""
    tables = sorted(root.rglob("tables.tsv"), key=lambda p: (p.parent.name, str(p)))
    if not tables:
        if any(root.rglob("*.mla")) or any(root.rglob("*.oradad")):
            raise DumpError(
                "Sortie ORADAD chiffrée ou compressée (archive MLA, fichiers .oradad) : "
                "relancer ORADAD avec la sortie en clair (outputFiles) ou la déchiffrer d'abord."
            )
        raise DumpError("Ce dossier n'est pas une sortie ORADAD en clair : tables.tsv introuvable.")
    return tables[-1].parent


def _read_tables(instance: Path) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    """tables.tsv → (first line, {relative path with '/': [(column, SQL type), …]})."""
    lines = [line for line in _lines(instance / "tables.tsv", "tables.tsv") if line]
    if not lines:
        raise DumpError("Fichier ORADAD tables.tsv vide : collecte tronquée.")
    tables: dict[str, list[tuple[str, str]]] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) < 4 or not cells[3].isdigit():
            raise DumpError(f"Fichier ORADAD tables.tsv illisible (ligne {number}).")
        count = int(cells[3])
        pairs = cells[4:]
        if len(pairs) != 2 * count:
            raise DumpError(
                f"Fichier ORADAD tables.tsv tronqué (ligne {number} : {len(pairs) // 2} "
                f"colonnes décrites sur {count})."
            )
        columns = [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]
        tables[cells[0].replace("\\", "/")] = columns
    return lines[0], tables


def _read_metadata(instance: Path) -> dict[str, str]:
    meta: dict[str, str] = {}
    path = instance / "metadata.tsv"
    if path.is_file():
        for line in _lines(path, "metadata.tsv"):
            if "\t" in line:
                key, value = line.split("\t", 1)
                meta[key.strip().lower()] = value.strip()
    return meta


def _collected_at(first_line: str, instance: Path, meta: dict[str, str]) -> str:
    for candidate in (
        meta.get("forest|systemtime"),
        first_line.rsplit("_", 1)[-1],
        instance.name,
    ):
        if candidate and TIME_DIR.match(candidate):
            when = dt.datetime.strptime(candidate, "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
            return when.isoformat()
    raise DumpError(
        "Date de collecte ORADAD introuvable (dossier AAAAMMJJ-HHMMSS, tables.tsv) : "
        "analyse impossible."
    )


def _filetime(text: str) -> str | None:
    if text.startswith("2999-12-12"):
        return NEVER
    try:
        when = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return text if text.lstrip("-").isdigit() else None
    delta = when - EPOCH_1601
    return str((delta.days * 86400 + delta.seconds) * 10**7)


def _gentime(text: str) -> str | None:
    try:
        when = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return text if re.match(r"^\d{14}", text) else None
    return when.strftime("%Y%m%d%H%M%S.0Z")


def _values(dump: Dump, name: str, sql_type: str, raw: str) -> list[str]:
    """One ORADAD cell → the dump's string values (see dump.py for the target encodings)."""
    kind = sql_type.split("(")[0].lower()
    if kind == "datetime2":
        value = _filetime(raw) if name in FILETIME_COLUMNS else _gentime(raw)
        return [value] if value else []
    if kind == "tinyint":
        return ["TRUE" if raw == "1" else "FALSE"]
    if kind == "uniqueidentifier":
        try:
            return [str(uuid.UUID(raw.strip("{}")))]
        except ValueError:
            return []
    if name in NO_SPLIT or raw.startswith(("O:", "G:", "D:")):
        return [raw]
    parts = [v for v in raw.split(";") if v]
    if name in SID_COLUMNS:
        out = []
        for v in parts:
            if v.startswith("S-1-"):
                out.append(v)
            elif (data := _hex(v)) is not None:
                try:
                    out.append(sid_to_str(data)[0])
                except DescriptorError:
                    continue
        return out
    if name in SD_VALUE_COLUMNS:
        return ["sd:" + dump.add_descriptor(d) for v in parts if (d := _hex(v))]
    if kind == "varchar":  # ORADAD BIN (hex), or text produced by a BIN filter (SIDs)
        return [
            v if (d := _hex(v)) is None else "b64:" + base64.b64encode(d).decode() for v in parts
        ]
    return parts


def _read_table(
    dump: Dump,
    path: Path,
    rel: str,
    columns: list[tuple[str, str]],
    merged: dict[str, dict[str, Any]],
) -> None:
    lines = _lines(path, rel)
    if lines and lines[-1] == "":
        lines.pop()
    names = [c.lower() for c, _ in columns]
    expected = len(columns)
    table = rel.rsplit("/", 1)[-1].removesuffix(".tsv")
    for number, line in enumerate(lines, start=1):
        cells = line.split("\t")
        if number == 1 and cells and cells[0].lower() in ("dn", "server"):
            continue  # header written when writeHeader=1
        if len(cells) != expected:
            raise DumpError(
                f"Fichier ORADAD tronqué ou étranger : {rel}, ligne {number} "
                f"({len(cells)} colonnes au lieu de {expected})."
            )
        if names[0] != "dn" or not cells[0]:
            continue  # rootDSE rows have no DN
        row = dict(zip(names, cells, strict=True))
        _merge_row(dump, row, dict(zip(names, [t for _, t in columns], strict=True)), merged, table)


def _merge_row(
    dump: Dump,
    row: dict[str, str],
    types: dict[str, str],
    merged: dict[str, dict[str, Any]],
    table: str,
) -> None:
    dn = row["dn"]
    obj = merged.get(dn.lower())
    if obj is None:
        obj = {"dn": dn, "a": {}, "sd": None}
        merged[dn.lower()] = obj
        dump.objects.append(obj)
    attrs = obj["a"]
    for name, raw in row.items():
        if name in ("dn", "shortname", "shortdn") or raw == "" or name.endswith("_int"):
            continue
        if f"{name}_int" in row:  # flag names, then the integer in <name>_int
            raw = row[f"{name}_int"]
            if raw == "":
                continue
        if name in SD_COLUMNS:
            data = _hex(raw)
            if data and obj["sd"] is None:
                obj["sd"] = dump.add_descriptor(data)
            continue
        if name in attrs:
            continue
        values = _values(dump, name, types.get(name, "nvarchar"), raw)
        if values:
            attrs[name] = values
    if "objectclass" not in attrs and table in TABLE_CLASSES:
        attrs["objectclass"] = list(TABLE_CLASSES[table])


def load_oradad(folder: str | Path, domain: str | None = None) -> Dump:
    """Build a Dump from ORADAD cleartext output (a folder, or a tar/zip of it).

    Raises DumpError (French message) on a foreign, encrypted, interrupted or truncated output.
    ``domain`` picks one domain of a multi-domain forest (default: the forest root).
    """
    source = Path(folder)
    if not source.exists():
        raise DumpError(f"Dossier ORADAD introuvable : {source}.")
    if source.is_file():
        with archives.temporary_folder(prefix="oradad-") as workdir:
            return _load_instance(_find_instance(_unpack(source, workdir)), domain)
    return _load_instance(_find_instance(source), domain)


def _load_instance(instance: Path, domain: str | None) -> Dump:
    first_line, tables = _read_tables(instance)
    meta = _read_metadata(instance)
    if meta and "oradad_processtime" not in meta:
        raise DumpError(
            "Collecte ORADAD interrompue : metadata.tsv ne contient pas oradad_processtime."
        )
    collected_at = _collected_at(first_line, instance, meta)
    root_dns = first_line.rsplit("_", 1)[0] if "_" in first_line else instance.parent.name
    domains = sorted({rel.split("/")[1] for rel in tables if rel.startswith("domain/")})
    if not domains:
        raise DumpError("Collecte ORADAD sans partition de domaine (dossier domain/ absent).")
    chosen = (domain or (root_dns if root_dns in domains else domains[0])).lower()
    if chosen not in {d.lower() for d in domains}:
        raise DumpError(
            f"Domaine {chosen} absent de la collecte ORADAD (présents : {', '.join(domains)})."
        )
    dump = Dump(
        domain="",
        domain_sid="",
        collected_at=collected_at,
        naming_contexts={},
        source="oradad",
        collector={
            "tool": "ORADAD",
            "instance": first_line,
            "metadata": meta,
            "other_domains": [d for d in domains if d.lower() != chosen],
        },
    )
    merged: dict[str, dict[str, Any]] = {}
    read = 0
    for rel, columns in tables.items():
        parts = rel.split("/")
        if parts[0] not in PARTITIONS or not columns:
            continue
        if parts[0] in ("domain", "domaindns") and (len(parts) < 3 or parts[1].lower() != chosen):
            continue
        path = instance.joinpath(*parts)
        if not path.is_file():
            if path.with_name(path.name + ".oradad").is_file():
                raise DumpError(
                    "Sortie ORADAD compressée ou chiffrée (fichiers .oradad) : sortie en clair "
                    "attendue."
                )
            raise DumpError(f"Collecte ORADAD incomplète : fichier {rel} manquant.")
        _read_table(dump, path, rel, columns, merged)
        read += 1
    if not dump.objects:
        raise DumpError("Les fichiers ORADAD ne contiennent aucun objet lisible.")
    heads = [
        o for o in dump.objects if "domaindns" in {c.lower() for c in o["a"].get("objectclass", [])}
    ]
    expected_dn = ",".join(f"DC={p}" for p in chosen.split(".")).lower()
    head = next((o for o in heads if o["dn"].lower() == expected_dn), None)
    if head is None:
        raise DumpError("Collecte ORADAD sans objet racine du domaine (domainDNS).")
    domain_dn = head["dn"]
    root_dn = ",".join(f"DC={p}" for p in root_dns.split(".")) if root_dns else domain_dn
    dump.naming_contexts = {
        "domain": domain_dn,
        "configuration": f"CN=Configuration,{root_dn}",
        "schema": f"CN=Schema,CN=Configuration,{root_dn}",
        "dns": [f"DC=DomainDnsZones,{domain_dn}", f"DC=ForestDnsZones,{root_dn}"],
    }
    dump.domain = chosen
    dump.domain_sid = (head["a"].get("objectsid") or [""])[0]
    dump.collector["tables_read"] = read
    dump.complete = False  # ORADAD's TSV carries no per-object read errors we can check.
    return dump


@lru_cache(maxsize=1)
def pingcastle_map() -> dict[str, dict[str, Any]]:
    """PingCastle RiskId → {"anssi": ["vuln<level>_<check>", …], …} (pingcastle_map.yaml)."""
    path = Path(__file__).with_name("pingcastle_map.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]


def _anssi_ids(risk_id: str) -> list[str]:
    return list((pingcastle_map().get(risk_id) or {}).get("anssi", []))


def load_pingcastle(path: str | Path) -> dict[str, Any]:
    """Read a PingCastle ``ad_hc_*.xml``: domain, date, maturity, triggered risk rules.

    Each rule carries ``anssi``: the ANSSI ids PingCastle itself attaches to it
    (``vuln<level>_<check>``, from pingcastle_map.yaml), empty when it has none.
    """
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

    if not text_of("DomainFQDN") or root.find("RiskRules") is None:
        raise DumpError(
            "Rapport PingCastle incomplet : DomainFQDN ou RiskRules absent (rapport tronqué ?)."
        )
    rules = []
    for rule in root.iter("HealthcheckRiskRule"):
        rid = (rule.findtext("RiskId") or "").strip()
        points = (rule.findtext("Points") or "0").strip()
        details = [
            (d.text or "").strip() for d in rule.findall("Details/string") if (d.text or "").strip()
        ]
        rules.append(
            {
                "risk_id": rid,
                "points": int(points) if points.lstrip("-").isdigit() else 0,
                "category": (rule.findtext("Category") or "").strip(),
                "model": (rule.findtext("Model") or "").strip(),
                "rationale": (rule.findtext("Rationale") or "").strip(),
                "details": details,
                "anssi": _anssi_ids(rid),
            }
        )
    date = text_of("GenerationDate")
    try:
        parsed = dt.datetime.fromisoformat(date) if date else None
    except ValueError:
        parsed = None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    maturity = text_of("MaturityLevel")
    return {
        "domain": text_of("DomainFQDN"),
        "generated_at": parsed.isoformat() if parsed else "",
        "engine_version": text_of("EngineVersion"),
        "maturity_level": int(maturity) if maturity.isdigit() else None,
        "global_score": text_of("GlobalScore"),
        "rules": rules,
    }
