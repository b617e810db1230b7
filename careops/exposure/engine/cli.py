"""Command line of the engine, without Django: ``python -m careops.exposure.engine scan …``.

``careops exposure scan`` (the management command) uses the same arguments and the same run;
this entry point only skips Django's start-up, for scripts and benchmarks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TextIO

from careops.exposure.engine.portscan import PortScanOptions
from careops.exposure.engine.rules import NO_HOST_MESSAGE, level_label
from careops.exposure.engine.scanner import ScanOptions, scan_sync
from careops.exposure.engine.targets import TargetError, parse_ports


class UsageError(Exception):
    """Bad command-line input (French message)."""


def add_scan_arguments(scan: argparse.ArgumentParser) -> None:
    """The options of ``scan`` (shared by both entry points)."""
    scan.add_argument("targets", nargs="+", help="adresse, plage CIDR, a.b.c.d-e ou nom")
    scan.add_argument(
        "--ports",
        default=None,
        help="ex. 22,80,8000-8100 ou T:1-1024,U:500,4500 ; « all » pour 1-65535 (TCP)",
    )
    scan.add_argument(
        "--allow-private",
        action="store_true",
        help="autoriser les adresses privées, de bouclage et locales (audit interne)",
    )
    scan.add_argument("--json", action="store_true", help="sortie JSON")
    scan.add_argument("--concurrency", type=int, default=1000, help="connexions simultanées")
    scan.add_argument("--per-host", type=int, default=500, help="connexions simultanées par hôte")
    scan.add_argument("--rate", type=float, default=None, help="essais de connexion par seconde")
    scan.add_argument("--timeout", type=float, default=1.0, help="délai de connexion (s)")
    scan.add_argument("--min-timeout", type=float, default=0.25, help="délai adaptatif minimal (s)")
    scan.add_argument("--retries", type=int, default=0, help="nouveaux essais des ports muets")
    scan.add_argument("--probe-timeout", type=float, default=3.0, help="délai des sondes (s)")
    scan.add_argument(
        "--vulndb", default=None, help="base construite par « careops vulndb import »"
    )
    scan.add_argument("--no-tls-checks", action="store_true", help="ne pas tester TLS en détail")
    scan.add_argument(
        "--tls-connections",
        type=int,
        default=ScanOptions.tls_connections,
        help="connexions TLS simultanées vers un même service (analyse sslyze)",
    )
    scan.add_argument(
        "--tls-endpoints",
        type=int,
        default=ScanOptions.tls_endpoints,
        help="services TLS analysés en même temps",
    )
    scan.add_argument(
        "--tls-timeout",
        type=float,
        default=ScanOptions.tls_timeout,
        help="délai d'une connexion TLS d'analyse (s)",
    )
    scan.add_argument(
        "--discovery-only",
        action="store_true",
        help="découverte des ports ouverts seulement (ni sondes ni constats)",
    )
    scan.add_argument(
        "--processes",
        type=int,
        default=0,
        help="processus de balayage (0 : un par cœur au-delà de 20 000 essais)",
    )
    scan.add_argument("--nameserver", action="append", default=None, help="serveur DNS ip[:port]")


def run_scan(options: dict, out: TextIO, err: TextIO, default_vulndb: str | None = None) -> int:
    """Run ``scan`` with parsed options; print JSON or a French summary; return the exit code."""
    try:
        ports = parse_ports(options["ports"])
    except TargetError as exc:
        raise UsageError(str(exc)) from exc
    vulndb = options["vulndb"]
    if vulndb is None and default_vulndb and Path(default_vulndb).exists():
        vulndb = default_vulndb
    scan_options = ScanOptions(
        ports=ports,
        portscan=PortScanOptions(
            concurrency=options["concurrency"],
            per_host=options["per_host"],
            rate=options["rate"],
            timeout=options["timeout"],
            min_timeout=options["min_timeout"],
            retries=options["retries"],
            processes=options["processes"],
        ),
        identify=not options["discovery_only"],
        allow_private=options["allow_private"],
        private_hint="ajoutez --allow-private pour un audit interne",
        probe_timeout=options["probe_timeout"],
        vulndb_path=vulndb,
        tls_checks=not options["no_tls_checks"],
        tls_connections=options["tls_connections"],
        tls_endpoints=options["tls_endpoints"],
        tls_timeout=options["tls_timeout"],
        nameservers=options["nameserver"],
    )
    result = scan_sync(options["targets"], scan_options, now=dt.datetime.now(dt.UTC))
    for error in result.errors:
        err.write(f"careops exposure : {error}\n")
    if options["json"]:
        out.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        write_summary(result, out)
    if not result.hosts:  # nothing analysed: no level, and a failure for scripts
        if options["json"]:
            err.write(f"careops exposure : {NO_HOST_MESSAGE}\n")
        return 2
    return 0


SEVERITY_LABELS = {
    "critical": "CRITIQUE",
    "high": "ÉLEVÉE",
    "medium": "MOYENNE",
    "low": "FAIBLE",
    "info": "INFO",
}


def write_summary(result, out: TextIO) -> None:
    """The French text summary of a run (no level when no host was analysed)."""
    if not result.hosts:
        out.write(f"{NO_HOST_MESSAGE}\n")
        return
    for host in result.hosts:
        names = f" ({', '.join(host.hostnames)})" if host.hostnames else ""
        out.write(f"{host.address}{names} : {len(host.services)} service(s) ouvert(s)\n")
        for svc in host.services:
            what = " ".join(x for x in (svc.product, svc.version) if x)
            out.write(f"  {svc.port}/{svc.transport:<4} {svc.service:<14} {what}\n")
    out.write(f"Constats : {len(result.findings)}\n")
    for finding in result.findings:
        out.write(
            f"  [{SEVERITY_LABELS.get(finding.severity, finding.severity):<8}] "
            f"{finding.host}:{finding.port or '-'} {finding.rule} {finding.title}\n"
        )
    out.write(
        f"Niveau d'exposition : {result.exposure_level} ({level_label(result.exposure_level)})"
        f" — niveau minimal {'atteint' if result.minimum_level_met else 'non atteint'}\n"
    )


def main(
    argv: list[str] | None = None,
    default_vulndb: str | None = None,
    prog: str = "python -m careops.exposure.engine",
) -> int:
    """Parse ``scan …`` and run it; ``careops exposure scan`` comes here too, without Django."""
    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="action", required=True)
    add_scan_arguments(sub.add_parser("scan", help="analyser des cibles"))
    args = parser.parse_args(argv)
    try:
        return run_scan(vars(args), sys.stdout, sys.stderr, default_vulndb)
    except UsageError as exc:
        sys.stderr.write(f"careops exposure : {exc}\n")
        return 1
