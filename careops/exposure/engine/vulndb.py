"""Local vulnerability database (SQLite) built offline from CISA KEV and NVD 2.0 JSON files.

``import_feeds`` validates every file before writing, then replaces the content in one
transaction: a corrupt file leaves the previous database intact. ``VulnDB.match`` maps a
service's CPE to CVEs through an alias table (nmap-style names vs NVD names), with a confidence:
"version" (version in a vulnerable range), "potential" (distribution package: fixes are often
backported, so the version string alone over-reports), "family" (edge device of a KEV family).
"""

from __future__ import annotations

import gzip
import json
import lzma
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

# nmap / banner names → the names NVD uses (all are searched).
CPE_ALIASES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("igor_sysoev", "nginx"): [("f5", "nginx"), ("nginx", "nginx")],
    ("nginx", "nginx"): [("f5", "nginx"), ("igor_sysoev", "nginx")],
    ("f5", "nginx"): [("nginx", "nginx"), ("igor_sysoev", "nginx")],
    ("redislabs", "redis"): [("redis", "redis")],
    ("redis", "redis"): [("redislabs", "redis")],
    ("apache", "httpd"): [("apache", "http_server")],
    ("microsoft", "iis"): [("microsoft", "internet_information_services")],
}

# Edge-device families → KEV (vendorProject, product regex).
EDGE_FAMILIES: dict[str, tuple[str, str]] = {
    "fortinet-fortios": ("Fortinet", r"FortiOS|FortiProxy|SSL.?VPN"),
    "ivanti-connect-secure": ("Ivanti", r"Connect Secure|Policy Secure|Pulse"),
    "citrix-netscaler": ("Citrix", r"NetScaler|ADC|Gateway"),
    "paloalto-globalprotect": ("Palo Alto Networks", r"PAN-OS"),
    "sonicwall-sma": ("SonicWall", r"SMA|SonicOS"),
    "cisco-asa": ("Cisco", r"Adaptive Security Appliance|ASA|Firepower Threat Defense"),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kev (
  cve TEXT PRIMARY KEY, vendor TEXT, product TEXT, name TEXT, date_added TEXT,
  due_date TEXT, ransomware TEXT, required_action TEXT);
CREATE TABLE IF NOT EXISTS cve (
  id TEXT PRIMARY KEY, cvss REAL, severity TEXT, description TEXT);
CREATE TABLE IF NOT EXISTS cpe_match (
  cve TEXT, vendor TEXT, product TEXT, version TEXT,
  start_incl TEXT, start_excl TEXT, end_incl TEXT, end_excl TEXT);
CREATE INDEX IF NOT EXISTS cpe_match_vp ON cpe_match (vendor, product);
"""


class VulnDBError(ValueError):
    """A feed file that cannot be imported (French message, nothing written)."""


def _read_json(path: Path):
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        elif path.suffix == ".xz":
            raw = lzma.decompress(raw)
        return json.loads(raw)
    except FileNotFoundError:
        raise VulnDBError(f"Fichier introuvable : {path}.") from None
    except (OSError, EOFError, lzma.LZMAError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VulnDBError(
            f"Fichier illisible ou corrompu : {path} ({exc.__class__.__name__})."
        ) from None


def parse_kev(path: Path) -> tuple[str, list[tuple]]:
    """Validate a KEV catalogue JSON file; return (catalogVersion, rows)."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise VulnDBError(f"{path} n'est pas un catalogue KEV (clé « vulnerabilities » absente).")
    version = str(data.get("catalogVersion") or "")
    if not version:
        raise VulnDBError(f"{path} : « catalogVersion » absent.")
    rows = []
    for index, item in enumerate(data["vulnerabilities"]):
        if not isinstance(item, dict) or not re.match(
            r"^CVE-\d{4}-\d+$", str(item.get("cveID", ""))
        ):
            raise VulnDBError(f"{path} : entrée {index + 1} sans identifiant CVE valide.")
        rows.append(
            (
                item["cveID"],
                item.get("vendorProject", ""),
                item.get("product", ""),
                item.get("vulnerabilityName", ""),
                item.get("dateAdded", ""),
                item.get("dueDate", ""),
                item.get("knownRansomwareCampaignUse", ""),
                item.get("requiredAction", ""),
            )
        )
    return version, rows


def _cvss(metrics: dict) -> tuple[float | None, str]:
    for key in ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"):
        for metric in metrics.get(key, []) or []:
            data = metric.get("cvssData", {})
            score = data.get("baseScore")
            severity = data.get("baseSeverity") or metric.get("baseSeverity") or ""
            if score is not None:
                return float(score), str(severity).lower()
    return None, ""


def parse_nvd(path: Path) -> tuple[str, list[tuple], list[tuple]]:
    """Validate an NVD 2.0 JSON file (API page or feed); return (timestamp, cves, cpe rows)."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise VulnDBError(f"{path} n'est pas un fichier NVD 2.0 (clé « vulnerabilities » absente).")
    stamp = str(data.get("timestamp") or data.get("pubTimestamp") or "")
    cves, matches = [], []
    for index, wrapper in enumerate(data["vulnerabilities"]):
        cve = wrapper.get("cve") if isinstance(wrapper, dict) else None
        if not isinstance(cve, dict) or not re.match(r"^CVE-\d{4}-\d+$", str(cve.get("id", ""))):
            raise VulnDBError(f"{path} : enregistrement {index + 1} sans identifiant CVE valide.")
        score, severity = _cvss(cve.get("metrics", {}) or {})
        text = next(
            (d.get("value", "") for d in cve.get("descriptions", []) if d.get("lang") == "en"), ""
        )
        cves.append((cve["id"], score, severity, text[:1000]))
        for config in cve.get("configurations", []) or []:
            for node in config.get("nodes", []) or []:
                for match in node.get("cpeMatch", []) or []:
                    if not match.get("vulnerable", True):
                        continue
                    parts = str(match.get("criteria", "")).split(":")
                    if len(parts) < 6 or parts[2] not in ("a", "o", "h"):
                        continue
                    version = parts[5] if parts[5] not in ("*", "-") else ""
                    if version and len(parts) > 6 and parts[6] not in ("*", "-"):
                        version += parts[6]
                    matches.append(
                        (
                            cve["id"],
                            parts[3],
                            parts[4],
                            version,
                            match.get("versionStartIncluding", ""),
                            match.get("versionStartExcluding", ""),
                            match.get("versionEndIncluding", ""),
                            match.get("versionEndExcluding", ""),
                        )
                    )
    return stamp, cves, matches


def import_feeds(db_path: Path, kev_files: list[Path] = (), nvd_files: list[Path] = ()) -> dict:
    """Build or refresh the database; all files are parsed first, then written at once."""
    kev_parsed = [parse_kev(Path(p)) for p in kev_files]
    nvd_parsed = [(Path(p).name, *parse_nvd(Path(p))) for p in nvd_files]
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(db_path)
    try:
        with connection:
            connection.executescript(SCHEMA)
            if kev_parsed:
                connection.execute("DELETE FROM kev")
                for _version, rows in kev_parsed:
                    connection.executemany(
                        "INSERT OR REPLACE INTO kev VALUES (?,?,?,?,?,?,?,?)", rows
                    )
                connection.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('kev_version', ?)",
                    (max(v for v, _ in kev_parsed),),
                )
            if nvd_parsed:
                for _name, _stamp, cves, matches in nvd_parsed:
                    ids = [(c[0],) for c in cves]
                    connection.executemany("DELETE FROM cpe_match WHERE cve = ?", ids)
                    connection.executemany("INSERT OR REPLACE INTO cve VALUES (?,?,?,?)", cves)
                    connection.executemany(
                        "INSERT INTO cpe_match VALUES (?,?,?,?,?,?,?,?)", matches
                    )
                stamps = [s for _n, s, _c, _m in nvd_parsed if s]
                files = ", ".join(n for n, *_ in nvd_parsed)
                connection.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('nvd_version', ?)",
                    (max(stamps) if stamps else files,),
                )
        return VulnDB(db_path).catalogues() | {
            "kev_entries": sum(len(rows) for _v, rows in kev_parsed),
            "nvd_cves": sum(len(c) for _n, _s, c, _m in nvd_parsed),
        }
    finally:
        connection.close()


def version_key(version: str) -> tuple:
    """Natural ordering of version strings ("9.2p1" < "9.3", "1.22.1" < "1.24.0")."""
    parts = re.findall(r"\d+|[a-z]+", version.lower())
    return tuple(
        (0, int(p), "")
        if p.isdigit()
        else (-1, 0, p)
        if p in ("rc", "beta", "alpha")
        else (1, 0, p)
        for p in parts
    )


def _in_range(version: str, row: sqlite3.Row) -> bool:
    key = version_key(version)
    if row["version"]:
        return version_key(row["version"]) == key
    if not any((row["start_incl"], row["start_excl"], row["end_incl"], row["end_excl"])):
        return False  # "every version": too broad to assert from a banner
    if row["start_incl"] and key < version_key(row["start_incl"]):
        return False
    if row["start_excl"] and key <= version_key(row["start_excl"]):
        return False
    if row["end_incl"] and key > version_key(row["end_incl"]):
        return False
    if row["end_excl"] and key >= version_key(row["end_excl"]):
        return False
    return True


@dataclass
class VulnMatch:
    """A CVE that applies to a service, with its KEV data and the match confidence."""

    cve: str
    cvss: float | None = None
    severity: str = ""
    kev: bool = False
    kev_due: str = ""
    ransomware: bool = False
    confidence: str = "version"
    name: str = ""
    extra: dict = field(default_factory=dict)


class VulnDB:
    """Read access to the local database."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.exists():
            raise VulnDBError(
                f"Base de vulnérabilités absente : {self.path} (lancez « careops vulndb import »)."
            )
        connection = None
        try:
            connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            connection.execute("SELECT key, value FROM meta LIMIT 1").fetchall()
        except sqlite3.Error:
            # a directory, another file, a damaged base: said in French, not a traceback that
            # would lose the scan it comes at the end of
            if connection is not None:
                connection.close()
            raise VulnDBError(
                f"Base de vulnérabilités illisible : {self.path} (fichier inaccessible ou qui "
                "n'est pas une base de « careops vulndb import » ; relancez l'import)."
            ) from None
        self.connection = connection
        self.connection.row_factory = sqlite3.Row

    def catalogues(self) -> dict:
        """The versions of the catalogues it was built from."""
        rows = self.connection.execute("SELECT key, value FROM meta").fetchall()
        return {r["key"]: r["value"] for r in rows}

    def _kev(self, cve: str) -> sqlite3.Row | None:
        return self.connection.execute("SELECT * FROM kev WHERE cve = ?", (cve,)).fetchone()

    def match(self, cpe: str, version: str = "", distribution: str = "") -> list[VulnMatch]:
        """CVEs for a CPE 2.3 name and version (none without a version: never "all CVEs")."""
        parts = cpe.split(":")
        if len(parts) < 6:
            return []
        vendor, product = parts[3], parts[4]
        version = version or (parts[5] if parts[5] not in ("*", "-") else "")
        if len(parts) > 6 and parts[6] not in ("*", "-") and not version.endswith(parts[6]):
            version += parts[6]
        if not version:
            return []
        names = [(vendor, product), *CPE_ALIASES.get((vendor, product), [])]
        found: dict[str, VulnMatch] = {}
        for v, p in names:
            rows = self.connection.execute(
                "SELECT m.*, c.cvss, c.severity FROM cpe_match m LEFT JOIN cve c ON c.id = m.cve "
                "WHERE m.vendor = ? AND m.product = ?",
                (v, p),
            ).fetchall()
            for row in rows:
                if row["cve"] in found or not _in_range(version, row):
                    continue
                found[row["cve"]] = self._build(
                    row["cve"],
                    row["cvss"],
                    row["severity"],
                    "potential" if distribution else "version",
                )
        return sorted(found.values(), key=lambda m: (not m.kev, -(m.cvss or 0), m.cve))

    def _build(self, cve: str, cvss, severity, confidence: str) -> VulnMatch:
        kev = self._kev(cve)
        return VulnMatch(
            cve=cve,
            cvss=cvss,
            severity=severity or "",
            kev=kev is not None,
            kev_due=kev["due_date"] if kev else "",
            ransomware=bool(kev and kev["ransomware"] == "Known"),
            confidence=confidence,
            name=kev["name"] if kev else "",
        )

    def family(self, family: str) -> list[VulnMatch]:
        """KEV entries of an edge-device family (confidence "family")."""
        if family not in EDGE_FAMILIES:
            return []
        vendor, product_re = EDGE_FAMILIES[family]
        pattern = re.compile(product_re, re.I)
        rows = self.connection.execute(
            "SELECT k.*, c.cvss, c.severity FROM kev k LEFT JOIN cve c ON c.id = k.cve "
            "WHERE k.vendor = ? ORDER BY k.date_added DESC",
            (vendor,),
        ).fetchall()
        return [
            VulnMatch(
                cve=r["cve"],
                cvss=r["cvss"],
                severity=r["severity"] or "",
                kev=True,
                kev_due=r["due_date"],
                ransomware=r["ransomware"] == "Known",
                confidence="family",
                name=r["name"],
            )
            for r in rows
            if pattern.search(r["product"] or "")
        ]

    def close(self) -> None:
        self.connection.close()
