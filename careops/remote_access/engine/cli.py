"""``careops remote-access check INVENTORY.xlsx [--exposure SCAN.json] [--ad DUMP.json.gz]
[--vpn-config FILE…] [--bastion-log FILE…] [--json]``: the engine alone, no database."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from careops.remote_access.engine import accounts, bastion, checks, exposure, inventory, rules, vpn
from careops.remote_access.engine.model import STATUS_LABELS

SYMBOL = {"pass": "✓", "fail": "✗", "unknown": "?", "na": "·"}


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Contrôles D3 des accès distants d'un inventaire (sans base de données).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="évaluer un inventaire (.xlsx)")
    check.add_argument("inventory", help="inventaire des accès distants (.xlsx)")
    check.add_argument("--exposure", help="résultat de « careops exposure scan --json »")
    check.add_argument("--ad", help="collecte AD de « careops ad collect » (.json.gz)")
    check.add_argument(
        "--vpn-config",
        nargs="+",
        default=[],
        metavar="FILE",
        help="swanctl.conf, ipsec.conf, configuration OpenVPN ou WireGuard",
    )
    check.add_argument(
        "--bastion-log",
        nargs="+",
        default=[],
        metavar="FILE",
        help="historique Guacamole (CSV) ou journaux The Bastion (syslog, JSON)",
    )
    check.add_argument("--rules", help="fichier de référentiel D3 (section scoring)")
    check.add_argument("--as-of", help="date de référence AAAA-MM-JJ (défaut : aujourd'hui)")
    check.add_argument("--json", action="store_true", help="sortie JSON")
    return parser


def run(args: argparse.Namespace) -> dict:
    """Read every input, evaluate, return the JSON report (raises ValueError subclasses)."""
    paths, problems = inventory.read_inventory(args.inventory)
    sources = checks.Sources()
    if args.as_of:
        sources.as_of = dt.date.fromisoformat(args.as_of)
    if args.exposure:
        sources.exposure = exposure.load(args.exposure)
    if args.ad:
        sources.directory = accounts.load(args.ad)
    for name in args.vpn_config:
        sources.vpn += vpn.parse_file(name)
    for name in args.bastion_log:
        sources.bastion.append(bastion.parse_file(name))
    loaded_rules = rules.load(args.rules)
    report = checks.evaluate(paths, sources, loaded_rules)
    report.problems = [str(p) for p in problems]
    report.sources = {
        "inventory": args.inventory,
        "exposure": args.exposure or None,
        "ad": sources.directory.domain if sources.directory else None,
        "vpn_connections": [c.to_json() for c in sources.vpn],
        "bastion_sessions": sum(len(b.sessions) for b in sources.bastion),
        "as_of": sources.as_of.isoformat(),
    }
    data = report.to_json()
    data["band_label"] = loaded_rules.band_label(report.band) if report.band else ""
    return data


def render_text(data: dict) -> str:
    lines = []
    score = data["score"]
    lines.append(
        f"Accès distants : {len(data['paths'])} chemin(s), note de l'établissement "
        f"{'—' if score is None else score}/100 ({data.get('band_label') or data['band'] or '—'})"
    )
    for path in data["paths"]:
        flag = " BLOQUANT" if path["blocked"] else ""
        lines.append(
            f"\n{path['ref']} — {path['name']} [{path['priority'] or '—'}] : "
            f"{'—' if path['score'] is None else path['score']}/100{flag}"
        )
        for check in path["checks"]:
            if check["status"] == "na":
                continue
            lines.append(
                f"  {SYMBOL[check['status']]} {check['code']:<4} "
                f"{STATUS_LABELS[check['status']]:<13} {check['reason']} [{check['source']}]"
            )
    if data["undeclared"]:
        lines.append("\nAccès non déclarés (exposés, absents de l'inventaire) :")
        for item in data["undeclared"]:
            lines.append(
                f"  ✗ {item['host']}:{item['port']} {item['service']} {item['rule']} {item['title']}"
            )
    if data["remediation"]:
        lines.append("\nÀ corriger en priorité :")
        for n, item in enumerate(data["remediation"][:20], start=1):
            flag = "BLOQUANT " if item["blocking"] else ""
            lines.append(f"  {n:>2}. {flag}{item['ref']} {item['code']} — {item['reason']}")
    for problem in data["problems"]:
        lines.append(f"! inventaire, {problem}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str = "careops remote-access") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        data = run(args)
    except (ValueError, OSError) as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_text(data))
    blocked = any(p["blocked"] for p in data["paths"]) or bool(data["undeclared"])
    return 1 if blocked else 0
