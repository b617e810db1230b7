"""Typed inventory rows and check results of the remote-access engine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

POPULATIONS = {
    "vendor_telemaintenance": "Télémaintenance fournisseur",
    "biomedical_vendor": "Fournisseur biomédical",
    "staff_remote_work": "Télétravail du personnel",
    "it_admin_remote": "Administration informatique à distance",
    "partner_establishment": "Établissement partenaire",
}
TECHNOLOGIES = {
    "ipsec_vpn": "VPN IPsec",
    "tls_vpn": "VPN TLS",
    "bastion_pam": "Bastion / PAM",
    "rdp_gateway": "Passerelle RDP",
    "vdi": "VDI",
    "ssh": "SSH",
    "vendor_tool": "Outil fournisseur (TeamViewer, AnyDesk, ScreenConnect…)",
    "modem_or_4g_router": "Modem ou routeur 4G",
    "cloud_agent": "Agent cloud",
}
AUTH_FACTORS = {
    "password": "Mot de passe",
    "totp": "TOTP",
    "fido2": "FIDO2",
    "smartcard_cps": "Carte CPS / carte à puce",
    "certificate": "Certificat",
}
STRONG_FACTORS = {"totp", "fido2", "smartcard_cps"}
ACCOUNT_MODELS = {
    "nominative": "Nominatif",
    "shared": "Partagé",
    "generic_vendor": "Générique fournisseur",
}
DIRECTORIES = {
    "prod_ad": "AD de production",
    "dedicated": "Annuaire dédié",
    "local": "Comptes locaux (bastion)",
}
ACTIVATIONS = {
    "permanent": "Permanent",
    "on_demand": "À la demande",
    "time_bound": "Limité dans le temps",
}
VENDOR_POPULATIONS = {"vendor_telemaintenance", "biomedical_vendor", "partner_establishment"}

# Check statuses (the referential's words: atteint / non atteint / preuve manquante / N/A).
PASS = "pass"  # noqa: S105 — a check status, not a secret
FAIL = "fail"
UNKNOWN = "unknown"
NA = "na"
STATUS_LABELS = {
    PASS: "conforme",
    FAIL: "non conforme",
    UNKNOWN: "inconnu",
    NA: "non applicable",
}


@dataclass
class AccessPath:
    """One remote access path, as one row of the inventory spreadsheet."""

    ref: str
    name: str
    population: str = ""
    vendor: str = ""
    contract_ref: str = ""
    contract_security_clauses: bool | None = None
    workstation_requirements: bool | None = None
    justification: str = ""
    business_owner: str = ""
    technical_owner: str = ""
    technology: str = ""
    entry_point: str = ""  # host or host:port
    internet_exposed: bool | None = None
    source_ip_restriction: str = ""
    auth_factors: list[str] = field(default_factory=list)
    account_model: str = ""
    accounts: list[str] = field(default_factory=list)  # directory/bastion account names
    directory: str = ""
    activation: str = ""
    max_session_hours: float | None = None
    approval_required: bool | None = None
    allowed_windows: str = ""  # "lun-ven 08:00-18:00"
    session_recording: bool | None = None
    recording_retention_days: int | None = None
    logs_to_siem: bool | None = None
    log_retention_days: int | None = None
    protocol_break: bool | None = None
    through_bastion: bool | None = None
    managed_devices_only: bool | None = None
    admin_rights_from_remote: bool | None = None
    unmanaged_tools: bool | None = None
    targets: list[str] = field(default_factory=list)  # BIA resource codes
    target_networks: list[str] = field(default_factory=list)  # CIDRs the path should reach
    priority: str = ""  # inherited P1…P4 (filled by the caller from the BIA)
    last_access_review: str = ""  # ISO date
    status: str = "active"
    vpn_connection: str = ""  # connection name in a VPN configuration file

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def is_vendor(self) -> bool:
        return self.population in VENDOR_POPULATIONS

    @property
    def host(self) -> str:
        """The entry point's host (without port or scheme)."""
        text = self.entry_point.strip().lower()
        if "://" in text:
            text = text.split("://", 1)[1]
        text = text.split("/", 1)[0]
        if text.startswith("["):
            return text[1:].split("]", 1)[0]
        if text.count(":") == 1:
            text = text.split(":", 1)[0]
        return text

    @property
    def port(self) -> int | None:
        text = self.entry_point.strip()
        if "://" in text:
            text = text.split("://", 1)[1]
        text = text.split("/", 1)[0]
        if text.count(":") == 1:
            try:
                return int(text.rsplit(":", 1)[1])
            except ValueError:
                return None
        return None


@dataclass
class CheckResult:
    """One check (A1…A14) on one path: a status and the reason, with its source."""

    code: str
    status: str
    reason: str
    source: str = "declaration"  # declaration, exposure, directory, vpn, bastion
    blocking: bool = False  # this failure blocks (caps) the path's score

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class PathResult:
    """All checks of one path and its score."""

    ref: str
    name: str
    population: str
    priority: str
    checks: list[CheckResult] = field(default_factory=list)
    score: int | None = None
    band: str = ""
    blocked: bool = False

    def check(self, code: str) -> CheckResult | None:
        return next((c for c in self.checks if c.code == code), None)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Remediation:
    """One failed check to fix, ranked (blocking first, then weight × priority)."""

    ref: str
    name: str
    code: str
    title: str
    reason: str
    blocking: bool
    weight: int
    priority: str
    rank_key: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class UndeclaredPath:
    """An exposed remote-control service that belongs to no inventoried path."""

    host: str
    port: int
    service: str
    rule: str
    title: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Report:
    """The engine's whole output for one inventory."""

    paths: list[PathResult] = field(default_factory=list)
    undeclared: list[UndeclaredPath] = field(default_factory=list)
    remediation: list[Remediation] = field(default_factory=list)
    score: int | None = None
    band: str = ""
    rules_version: str = ""
    sources: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # French, input that could not be used

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
