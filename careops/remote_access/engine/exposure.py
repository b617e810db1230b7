"""Exposure-engine results (``careops exposure scan --json``) seen from the access paths.

A finding on a path's entry point host fails check A2; a remote-control service or VPN
weakness found on a host that no path declares is an *undeclared path*.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from careops.remote_access.engine.model import AccessPath, UndeclaredPath

# Exposure rules that reveal a remote access (their presence on the internet fails A2).
REMOTE_RULES = {
    "EXP-RDP-001": "rdp",
    "EXP-VNC-001": "vnc",
    "EXP-TELNET-001": "telnet",
    "EXP-SMB-001": "smb",
    "EXP-SSH-001": "ssh",
    "EXP-WINRM-001": "winrm",
    "EXP-ADMIN-001": "console",
    "EXP-IKE-002": "ipsec",
    "EXP-IKE-003": "ipsec",
    "EXP-EDGE-001": "edge",
}
# Services that are a remote-control path by themselves (undeclared when no path names the host).
REMOTE_SERVICES = {
    "rdp",
    "vnc",
    "telnet",
    "ssh",
    "microsoft-ds",
    "winrm",
    "teamviewer",
    "anydesk",
    "ike",
}
# Well-known ports of vendor remote-control tools, when the engine could not name the service.
VENDOR_TOOL_PORTS = {
    5938: "teamviewer",
    7070: "anydesk",
    8040: "screenconnect",
    8041: "screenconnect",
}
# Findings that fail A2 on a path; the others (EXP-SSH-001 info, IKE-001 low) are only listed.
FAILING_RULES = {
    "EXP-RDP-001",
    "EXP-VNC-001",
    "EXP-TELNET-001",
    "EXP-SMB-001",
    "EXP-WINRM-001",
    "EXP-ADMIN-001",
    "EXP-IKE-003",
    "EXP-EDGE-001",
    "EXP-VULN-001",
}


class ExposureError(ValueError):
    """A file that is not an exposure-engine JSON result (French message)."""


@dataclass
class ExposureView:
    """The scan, indexed by host address and hostname."""

    findings_by_host: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    services_by_host: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # hostname → address
    scanned: set[str] = field(default_factory=set)
    finished_at: str = ""

    def address(self, host: str) -> str:
        return self.names.get(host.lower(), host.lower())

    def findings_for(self, host: str) -> list[dict[str, Any]]:
        return self.findings_by_host.get(self.address(host), [])

    def covers(self, host: str) -> bool:
        return self.address(host) in self.scanned


def load(source: str | Path | dict[str, Any]) -> ExposureView:
    """Read ``careops exposure scan --json`` output (a file path or the decoded document)."""
    if isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ExposureError(f"résultat d'exposition illisible : {exc.strerror or exc}") from exc
        except json.JSONDecodeError as exc:
            raise ExposureError(f"résultat d'exposition : JSON invalide ({exc.msg})") from exc
    if not isinstance(data, dict) or "hosts" not in data or "findings" not in data:
        raise ExposureError(
            "ce fichier n'est pas un résultat « careops exposure scan --json » (hosts, findings)"
        )
    hosts, findings = data["hosts"], data["findings"]
    if (
        not isinstance(hosts, list)
        or not isinstance(findings, list)
        or not all(isinstance(item, dict) for item in [*hosts, *findings])
    ):
        raise ExposureError(
            "résultat d'exposition : « hosts » et « findings » doivent être des listes d'objets"
        )
    view = ExposureView(finished_at=str(data.get("finished_at", "")))
    for host in hosts:
        address = str(host.get("address", "")).lower()
        view.scanned.add(address)
        view.services_by_host[address] = list(host.get("services", []))
        for name in host.get("hostnames", []):
            view.names[str(name).lower()] = address
    for finding in findings:
        view.findings_by_host.setdefault(str(finding.get("host", "")).lower(), []).append(finding)
    return view


def undeclared(view: ExposureView, paths: list[AccessPath]) -> list[UndeclaredPath]:
    """Remote-control services exposed on a host/port that no inventoried path declares."""
    declared_hosts = {view.address(p.host) for p in paths if p.host}
    declared = {(view.address(p.host), p.port) for p in paths if p.host}
    found: list[UndeclaredPath] = []
    for address, services in sorted(view.services_by_host.items()):
        for service in services:
            name = str(service.get("service", ""))
            port = int(service.get("port", 0))
            if name in ("", "unknown") and port in VENDOR_TOOL_PORTS:
                name = VENDOR_TOOL_PORTS[port]
            if name not in REMOTE_SERVICES | set(VENDOR_TOOL_PORTS.values()):
                continue
            if (address, port) in declared or (
                address in declared_hosts and (address, None) in declared
            ):
                continue
            if name == "ike" and address in declared_hosts:
                continue  # a declared VPN gateway answers on 500 and 4500
            rule = next(
                (f for f in view.findings_by_host.get(address, []) if f.get("port") == port),
                None,
            )
            found.append(
                UndeclaredPath(
                    host=address,
                    port=port,
                    service=name,
                    rule=rule.get("rule", "") if rule else "",
                    title=rule.get("title", "") if rule else f"service {name} exposé",
                )
            )
    return found
