"""Typed, JSON-serialisable results of the exposure engine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TlsInfo:
    """What a TLS endpoint accepts and the certificate it shows (analysed by sslyze, tls.py).

    ``None`` in a vulnerability field means "not tested" (TLS checks off, or sslyze could not run
    that test: see ``error``).
    """

    protocols: list[str] = field(default_factory=list)  # SSLv2, SSLv3, TLSv1.0 … TLSv1.3
    cipher: str = ""
    weak_suites: list[str] = field(default_factory=list)  # IANA names, see tls.WEAK_SUITE_MARKERS
    subject: str = ""
    issuer: str = ""
    not_before: str = ""
    not_after: str = ""
    expired: bool = False
    days_left: int | None = None
    self_signed: bool = False
    hostname_matches: bool | None = None
    key: str = ""
    sans: list[str] = field(default_factory=list)
    accepted_suites: dict[str, list[str]] = field(default_factory=dict)  # protocol → IANA names
    trusted: bool | None = (
        None  # chain leads to a root of sslyze's trust stores (names, dates aside)
    )
    trust_stores: list[str] = field(default_factory=list)  # stores validating the chain as served
    chain_length: int = 0
    chain_error: str = ""  # why validation failed (cryptography's message, English)
    heartbleed: bool | None = None
    robot: str = ""  # sslyze RobotScanResultEnum value, "" when not tested
    ccs_injection: bool | None = None
    insecure_renegotiation: bool | None = None
    compression: bool | None = None
    error: str = ""  # French: why the analysis is missing or partial


@dataclass
class HttpInfo:
    """An HTTP(S) answer: status, server, title, redirects and security headers."""

    url: str
    status: int
    server: str = ""
    title: str = ""
    location: str = ""
    login_page: bool = False
    admin_page: bool = False
    missing_headers: list[str] = field(default_factory=list)
    hsts: bool = False
    edge_device: str = ""


@dataclass
class Service:
    """One open TCP port and what answers on it."""

    port: int
    transport: str = "tcp"
    service: str = "unknown"
    product: str = ""
    version: str = ""
    cpe: str = ""
    confidence: str = "low"  # high (protocol answer), medium (banner pattern), low (port only)
    tls: TlsInfo | None = None
    banner: str = ""
    http: HttpInfo | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class HostResult:
    """A scanned address, the names that led to it and its open services."""

    address: str
    hostnames: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    answered: bool = False  # any port open or refused: the host was reachable
    ports_scanned: int = 0
    filtered: int = 0
    # "full": every requested port probed; "discovery": an address of a range that answered
    # none of the host-discovery probes (scanner.DISCOVERY_PORTS), so only those were sent;
    # "unreachable": no TCP probe could leave this machine (no route, a local firewall): the
    # host was not audited at all and gives the run no level
    coverage: str = "full"
    unreachable: int = 0  # TCP probes that failed on this machine (no route, refused locally)
    method: str = ""  # TCP probes: "syn" (raw SYN, CAP_NET_RAW) or "connect"
    backoffs: int = 0  # times the probe rate towards this host was lowered (loss, rate limit)
    # highest rate of new SYN probes reached towards this host (probes/s; 0: connect scan)
    peak_rate: float = 0.0


@dataclass
class Finding:
    """One rule hit on a host/port, with the CVEs and KEV entries behind it."""

    rule: str
    severity: str
    host: str
    port: int | None
    title: str
    evidence: str
    remediation: str
    description: str = ""
    category: str = ""
    cves: list[str] = field(default_factory=list)
    kev: bool = False
    confidence: str = "confirmed"

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: rule, host, port and CVEs."""
        return "|".join([self.rule, self.host, str(self.port or ""), ",".join(sorted(self.cves))])


@dataclass
class ScanResult:
    """The whole result of one engine run."""

    hosts: list[HostResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    exposure_level: str = ""
    minimum_level_met: bool = False
    started_at: str = ""
    finished_at: str = ""
    catalogues: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # when each phase of the run ended, in seconds from its start: targets (DNS and scope),
    # discovery (host discovery of the ranges), ports (every sweep, IKE included),
    # identification (the last port identified), tls (the last sslyze analysis), findings
    phases: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain dict in the documented shape (``careops exposure scan --json``)."""
        data = dataclasses.asdict(self)
        for finding, raw in zip(self.findings, data["findings"], strict=True):
            raw["fingerprint"] = finding.fingerprint
        return data


def _from(cls, raw):
    if raw is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in raw.items() if k in names})


def result_from_json(data: dict[str, Any]) -> ScanResult:
    """Rebuild a ScanResult from ``to_json`` output (stored runs)."""
    hosts = []
    for raw_host in data.get("hosts", []):
        services = []
        for raw in raw_host.get("services", []):
            svc = _from(Service, {**raw, "tls": None, "http": None})
            svc.tls = _from(TlsInfo, raw.get("tls"))
            svc.http = _from(HttpInfo, raw.get("http"))
            services.append(svc)
        host = _from(HostResult, {**raw_host, "services": []})
        host.services = services
        hosts.append(host)
    findings = [_from(Finding, raw) for raw in data.get("findings", [])]
    result = _from(ScanResult, {**data, "hosts": [], "findings": []})
    result.hosts, result.findings = hosts, findings
    return result
