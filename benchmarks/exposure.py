"""Exposure engine vs nmap on the same network-namespace lab, in the same run.

    python benchmarks/exposure.py [--write]

Three measurements (see ../shared/reference/exposure-audit.md §5 for the lab):
1. discovery, all 65,535 ports, responsive host: ``careops exposure scan --discovery-only``
   against ``nmap -sT -T4 -n -Pn -p-`` (target: careops ≤ 1.5× nmap's time);
2. the same on the host whose firewall drops packets (target: careops ≥ 5× faster);
3. identification of the 9 open services of the reference lab: careops (all probes, TLS
   checks, findings) against ``nmap -sV --version-light`` (target: ≥ 3× faster, a product for
   every service nmap names).
Recall: every port nmap reports open must be found by careops. nmap is a baseline only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET  # noqa: S405 — nmap's own XML from our lab
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.exposure import lab as lab_module  # noqa: E402

IDENT_PORTS = "22,80,104,443,2575,3389,6379,8080,11112"


def careops(lab, *args: str) -> tuple[float, dict]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "careops.settings"}
    started = time.monotonic()
    done = subprocess.run(
        [
            *lab.exec_args("scanner"),
            sys.executable,
            "-m",
            "careops.cli",
            "exposure",
            "scan",
            *args,
            "--allow-private",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=900,
        check=True,
    )
    return time.monotonic() - started, json.loads(done.stdout)


def nmap(lab, *args: str) -> tuple[float, ET.Element]:
    started = time.monotonic()
    done = subprocess.run(
        [*lab.exec_args("scanner"), "nmap", "-n", "-Pn", "-oX", "-", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return time.monotonic() - started, ET.fromstring(done.stdout)  # noqa: S314


def nmap_open(root: ET.Element) -> dict[tuple[str, int], dict]:
    found = {}
    for host in root.iter("host"):
        address = host.find("address").get("addr")
        for port in host.iter("port"):
            if port.find("state").get("state") != "open":
                continue
            service = port.find("service")
            found[(address, int(port.get("portid")))] = (
                dict(service.attrib) if service is not None else {}
            )
    return found


def careops_open(result: dict) -> dict[tuple[str, int], dict]:
    return {(h["address"], s["port"]): s for h in result["hosts"] for s in h["services"]}


def engine_seconds(result: dict) -> float:
    from datetime import datetime

    return (
        datetime.fromisoformat(result["finished_at"]) - datetime.fromisoformat(result["started_at"])
    ).total_seconds()


RUNS = 3


def median(values: list[float]) -> float:
    return statistics.median(values)


def alternate(run_nmap, run_careops):
    """RUNS measurements of each tool, alternating them; medians (and the last outputs)."""
    nmap_times, ours_times, engines = [], [], []
    root = result = None
    for _ in range(RUNS):
        t, root = run_nmap()
        nmap_times.append(t)
        t, result = run_careops()
        ours_times.append(t)
        engines.append(engine_seconds(result))
    return median(nmap_times), root, median(ours_times), result, median(engines)


def discovery(
    lab, address: str, rows: list, label: str, target: str
) -> tuple[float, float, float, bool]:
    nmap_time, root, ours_time, result, engine = alternate(
        lambda: nmap(lab, "-sT", "-T4", "-p-", address),
        lambda: careops(
            lab,
            address,
            "--ports",
            "all",
            "--discovery-only",
            "--concurrency",
            "5000",
            "--per-host",
            "5000",
        ),
    )
    theirs = set(nmap_open(root))
    ours = set(careops_open(result))
    recall = theirs <= ours
    rows.append(
        (
            label,
            f"{nmap_time:.1f} s",
            f"{ours_time:.1f} s (moteur {engine:.1f} s)",
            f"{nmap_time / ours_time:.2f}× ({nmap_time / engine:.2f}×)",
            target,
            f"{len(theirs & ours)}/{len(theirs)}",
        )
    )
    return nmap_time, ours_time, engine, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="écrire la section de benchmarks/RESULTS.md"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="mesures de chaque outil (médiane)")
    args = parser.parse_args()
    globals()["RUNS"] = max(1, args.runs)
    reason = lab_module.available()
    if reason or not subprocess.run(["which", "nmap"], capture_output=True).returncode == 0:
        sys.exit(f"laboratoire indisponible : {reason or 'nmap absent (apt-get install nmap)'}")
    lab = lab_module.build()
    rows: list[tuple] = []
    try:
        load_before = os.getloadavg()
        resp = discovery(
            lab,
            lab.legacy,
            rows,
            "découverte, 65 535 ports, hôte qui répond",
            "careops ≤ 1,5× nmap",
        )
        drop = discovery(
            lab,
            lab.dropping,
            rows,
            "découverte, 65 535 ports, hôte qui jette les paquets",
            "careops ≥ 5× plus rapide",
        )
        targets = [lab.legacy, lab.dropping, lab.modern]
        nmap_time, root, ours_time, result, ident_engine = alternate(
            lambda: nmap(lab, "-sT", "-sV", "--version-light", "-p", IDENT_PORTS, *targets),
            lambda: careops(lab, *targets, "--ports", IDENT_PORTS),
        )
        theirs, ours = nmap_open(root), careops_open(result)
        named = {k: v for k, v in theirs.items() if v.get("product")}
        missing_product = [
            f"{a}:{p}" for (a, p) in named if not ours.get((a, p), {}).get("product")
        ]
        recall = set(theirs) <= set(ours)
        rows.append(
            (
                "identification, 9 services sur 3 hôtes",
                f"{nmap_time:.1f} s",
                f"{ours_time:.1f} s (moteur {ident_engine:.1f} s)",
                f"{nmap_time / ours_time:.2f}× ({nmap_time / ident_engine:.2f}×)",
                "careops ≥ 3× plus rapide",
                f"{len(set(theirs) & set(ours))}/{len(theirs)}",
            )
        )
        products = sorted(
            f"{p}: nmap « {theirs[(a, p)].get('product', theirs[(a, p)].get('name', ''))} » / careops « {ours.get((a, p), {}).get('product', '—')} »"
            for (a, p) in theirs
        )
        load_after = os.getloadavg()
    finally:
        lab.stop()

    def both(process_ok: bool, engine_ok: bool) -> str:
        return f"processus {'atteinte' if process_ok else 'NON atteinte'}, moteur {'atteinte' if engine_ok else 'NON atteinte'}"

    verdicts = [
        ("hôte qui répond ≤ 1,5× nmap", both(resp[1] <= 1.5 * resp[0], resp[2] <= 1.5 * resp[0])),
        ("hôte qui jette ≥ 5× plus rapide", both(drop[0] >= 5 * drop[1], drop[0] >= 5 * drop[2])),
        (
            "identification ≥ 3× plus rapide",
            both(nmap_time >= 3 * ours_time, nmap_time >= 3 * ident_engine),
        ),
        (
            "un produit pour chaque service nommé par nmap",
            "atteinte" if not missing_product else f"NON atteinte ({', '.join(missing_product)})",
        ),
        (
            "rappel (tout port ouvert vu par nmap est trouvé)",
            "atteinte" if resp[3] and drop[3] and recall else "NON atteinte",
        ),
    ]
    lines = [
        "## Audit d'exposition (exposure)",
        "",
        f"Machine : 2 cœurs, Python {sys.version.split()[0]}, {subprocess.run(['nmap', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}. "
        f"Commande : `python benchmarks/exposure.py --write` ({time.strftime('%Y-%m-%d')}). Laboratoire en espaces de noms réseau "
        "(tests/exposure/lab.py) ; les deux outils tournent dans le même espace « scanner », l'un après l'autre. "
        "Temps careops = processus complet `careops exposure scan` (démarrage de Python compris ; la commande ne charge pas Django) ; "
        f"entre parenthèses, la durée du moteur seul. Médianes de {RUNS} mesures par outil, les deux outils en alternance.",
        "",
        "| mesure | nmap | careops | nmap / careops (nmap / moteur) | cible | ports ouverts de nmap retrouvés |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        "Options careops : découverte `--ports all --discovery-only --concurrency 5000 --per-host 5000` (délai adaptatif, plancher 0,25 s, "
        "sans nouvel essai) ; nmap : `-sT -T4 -n -Pn -p-` et `-sT -sV --version-light`.",
        "",
        "Cibles : " + " ; ".join(f"{name} : {verdict}" for name, verdict in verdicts) + ".",
        "",
        "Produits par port : " + " ; ".join(products) + ".",
        "",
        f"Charge de la machine (load average 1/5/15 min) avant : {', '.join(f'{x:.2f}' for x in load_before)} ; "
        f"après : {', '.join(f'{x:.2f}' for x in load_after)}.",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section(section)


def write_section(section: str) -> None:
    path = REPO / "benchmarks" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Résultats des benchmarks\n"
    block = f"<!-- exposure:start -->\n{section}\n<!-- exposure:end -->"
    pattern = re.compile(r"<!-- exposure:start -->.*?<!-- exposure:end -->", re.S)
    text = (
        pattern.sub(lambda _m: block, text)
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + block + "\n"
    )
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
