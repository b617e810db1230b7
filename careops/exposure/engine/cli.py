"""Command line of the engine, without Django: ``python -m careops.exposure.engine scan …``.

``careops exposure scan`` (the management command) uses the same arguments and the same run;
this entry point only skips Django's start-up, for scripts and benchmarks.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import ipaddress
import json
import sys
from pathlib import Path
from typing import TextIO

from careops.exposure.engine.portscan import PortScanOptions
from careops.exposure.engine.rules import NO_HOST_MESSAGE, analysed, level_label
from careops.exposure.engine.scanner import ScanOptions, internal_profile, scan_sync
from careops.exposure.engine.targets import TargetError, parse_ports


class UsageError(Exception):
    """Bad command-line input (French message)."""


def _number(kind, minimum: float, strict: bool):
    """An argparse type: a number of ``kind`` above ``minimum`` (strictly if ``strict``); a
    negative or zero rate used to hang the sweep instead of being refused."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"valeur invalide : {text!r}") from None
        if value < minimum or (strict and value == minimum) or value != value:  # NaN
            bound = "strictement supérieur à" if strict else "supérieur ou égal à"
            raise argparse.ArgumentTypeError(f"{text} : nombre {bound} {minimum:g} attendu")
        return value

    convert.__name__ = kind.__name__  # argparse names the type in its messages
    return convert


POSITIVE_INT, POSITIVE_FLOAT = _number(int, 0, True), _number(float, 0, True)
NATURAL = _number(int, 0, False)


def nameserver(text: str) -> str:
    """An argparse type: a DNS server "ip" or "ipv4:port" (dnspython's own ValueError, or an
    OverflowError for a port above 65535, came out as a traceback once a name was resolved)."""
    address, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    try:
        ipaddress.ip_address(address)
        if port and not 1 <= int(port) <= 65535:
            raise ValueError(port)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"« {text} » : adresse IP de serveur DNS attendue, port facultatif (ip:port, "
            "port de 1 à 65535)"
        ) from None
    return text


def add_scan_arguments(scan: argparse.ArgumentParser) -> None:
    """The options of ``scan`` (shared by both entry points)."""
    scan.add_argument("targets", nargs="+", help="adresse, plage CIDR, a.b.c.d-e ou nom")
    scan.add_argument(
        "--ports",
        default=None,
        help=(
            "ex. 22,80,8000-8100 ou T:1-1024,U:500,4500 ; par défaut tous les ports TCP "
            "(1-65535) et IKE (UDP 500, 4500) ; « health » : profil santé plus léger (69 ports)"
        ),
    )
    scan.add_argument(
        "--profile",
        choices=["internet", "internal"],
        default="internet",
        help=(
            "internet (défaut) ou internal : audit interne ménageant les appareils fragiles "
            "(32 connexions et 300 sondes/s par hôte, une identification à la fois par hôte)"
        ),
    )
    scan.add_argument(
        "--no-discovery",
        action="store_true",
        help="sonder tous les ports de chaque adresse des plages, sans découverte d'hôtes",
    )
    scan.add_argument(
        "--method",
        choices=["auto", "syn", "connect"],
        default="auto",
        help="sondes TCP : auto (SYN brut si CAP_NET_RAW, sinon connect), syn, connect",
    )
    scan.add_argument(
        "--allow-private",
        action="store_true",
        help="autoriser les adresses privées, de bouclage et locales (audit interne)",
    )
    scan.add_argument("--json", action="store_true", help="sortie JSON")
    scan.add_argument(
        "--concurrency",
        type=POSITIVE_INT,
        default=None,
        help="connexions simultanées (connect, 1000)",
    )
    scan.add_argument(
        "--per-host", type=POSITIVE_INT, default=None, help="connexions simultanées par hôte (500)"
    )
    scan.add_argument(
        "--rate",
        type=POSITIVE_FLOAT,
        default=None,
        help="sondes par seconde, tous hôtes (sans limite)",
    )
    scan.add_argument(
        "--host-rate",
        type=POSITIVE_FLOAT,
        default=None,
        help=(
            "plafond de sondes nouvelles par seconde vers un hôte (250000, atteint seulement par"
            " un hôte qui répond à chaque sonde ; départ à 40000 ; internal : 300)"
        ),
    )
    scan.add_argument("--timeout", type=POSITIVE_FLOAT, default=1.0, help="délai de connexion (s)")
    scan.add_argument(
        "--min-timeout", type=POSITIVE_FLOAT, default=0.25, help="délai adaptatif minimal (s)"
    )
    scan.add_argument("--retries", type=NATURAL, default=0, help="nouveaux essais des ports muets")
    scan.add_argument(
        "--probe-timeout", type=POSITIVE_FLOAT, default=3.0, help="délai des sondes (s)"
    )
    scan.add_argument(
        "--vulndb", default=None, help="base construite par « careops vulndb import »"
    )
    scan.add_argument("--no-tls-checks", action="store_true", help="ne pas tester TLS en détail")
    scan.add_argument(
        "--tls-connections",
        type=POSITIVE_INT,
        default=ScanOptions.tls_connections,
        help="connexions TLS simultanées vers un même service (analyse sslyze)",
    )
    scan.add_argument(
        "--tls-endpoints",
        type=POSITIVE_INT,
        default=ScanOptions.tls_endpoints,
        help="services TLS analysés en même temps",
    )
    scan.add_argument(
        "--tls-timeout",
        type=POSITIVE_FLOAT,
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
        type=NATURAL,
        default=1,
        help="processus du balayage connect (0 : un par cœur au-delà de 20 000 essais)",
    )
    scan.add_argument(
        "--nameserver", action="append", type=nameserver, default=None, help="serveur DNS ip[:port]"
    )


def vulndb_problem(path: str) -> str:
    """Why the vulnerability base at ``path`` cannot be used ("" when it can)."""
    from careops.exposure.engine.vulndb import VulnDB, VulnDBError

    try:
        VulnDB(path).close()
    except VulnDBError as exc:
        return str(exc)
    return ""


def run_scan(options: dict, out: TextIO, err: TextIO, default_vulndb: str | None = None) -> int:
    """Run ``scan`` with parsed options; print JSON or a French summary; return the exit code."""
    try:
        ports = parse_ports(options["ports"])
    except TargetError as exc:
        raise UsageError(str(exc)) from exc
    vulndb = options["vulndb"]
    if vulndb is not None:
        # checked before the sweep: a wrong path used to be said only after the whole audit,
        # and a file that is not a base ended it with a traceback, results lost
        problem = vulndb_problem(vulndb)
        if problem:
            raise UsageError(problem)
    elif default_vulndb and Path(default_vulndb).exists():
        problem = vulndb_problem(default_vulndb)
        if problem:
            err.write(f"careops exposure : {problem}\n")
        else:
            vulndb = default_vulndb
    scan_options = ScanOptions(
        ports=ports,
        portscan=PortScanOptions(
            rate=options["rate"],
            timeout=options["timeout"],
            min_timeout=options["min_timeout"],
            retries=options["retries"],
            processes=options["processes"],
            method=options.get("method") or "auto",
        ),
        host_discovery=not options.get("no_discovery"),
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
    if options.get("profile") == "internal":
        scan_options = internal_profile(scan_options)
    explicit = {
        key: options.get(key)
        for key in ("concurrency", "per_host", "host_rate")
        if options.get(key) is not None
    }
    if explicit:  # explicit options win over the profile
        scan_options.portscan = dataclasses.replace(scan_options.portscan, **explicit)
    result = scan_sync(options["targets"], scan_options, now=dt.datetime.now(dt.UTC))
    for error in result.errors:
        err.write(f"careops exposure : {error}\n")
    if vulndb is None and analysed(result.hosts):
        err.write(
            "careops exposure : aucune base de vulnérabilités (--vulndb, ou careops vulndb import) :"
            " aucun CVE rattaché aux versions trouvées\n"
        )
    try:
        if options["json"]:
            out.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
        else:
            write_summary(result, out)
        out.flush()
    except BrokenPipeError:
        raise  # the reader went away (``| head``): careops.cli stops quietly
    except OSError as exc:  # a full disk, a file that cannot be written
        raise UsageError(
            f"écriture du résultat impossible ({exc.strerror or exc}) : l'audit est perdu, "
            "relancez-le vers un autre fichier"
        ) from None
    if not analysed(result.hosts):  # nothing analysed: no level, and a failure for scripts
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
    if not analysed(result.hosts):
        out.write(f"{NO_HOST_MESSAGE}\n")
        return
    silent = [h for h in result.hosts if h.coverage == "discovery"]
    if silent:
        out.write(
            f"{len(silent)} adresse(s) des plages sans réponse à la découverte d'hôtes "
            "(non auditées sur tous les ports ; --no-discovery pour le faire)\n"
        )
    unreachable = [h for h in result.hosts if h.coverage == "unreachable"]
    if unreachable:
        out.write(
            f"{len(unreachable)} adresse(s) injoignable(s) depuis ce poste, non auditée(s) "
            "(voir les erreurs)\n"
        )
    for host in result.hosts:
        if host.coverage == "discovery":
            continue
        if host.coverage == "unreachable":
            continue
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
    if result.phases:
        ended = ", ".join(
            f"{PHASE_LABELS.get(name, name)} {seconds:.1f} s"
            for name, seconds in sorted(result.phases.items(), key=lambda item: item[1])
        )
        out.write(f"Fin des phases (depuis le début de l'audit) : {ended}\n")


PHASE_LABELS = {
    "targets": "cibles",
    "discovery": "découverte d'hôtes",
    "ports": "ports",
    "identification": "identification",
    "tls": "analyse TLS",
    "findings": "constats",
}


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
    except KeyboardInterrupt:  # Ctrl-C: a sentence, not sixty lines of asyncio traceback
        sys.stderr.write("careops exposure : audit interrompu (Ctrl-C) : aucun résultat\n")
        return 130  # 128 + SIGINT, what a shell reports for an interrupted command
