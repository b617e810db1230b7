"""Exposure engine vs nmap on the same network-namespace lab, in the same run, with each tool's
defaults (issue 14).

    python benchmarks/exposure.py [--write] [--runs 3] [--cases ports,audit,ident,bucket]

``--cases audit`` measures only the default audits (3 hosts, /27, /22); with ``--write`` it
replaces only those rows of the section (and says when and under which load they were taken).

Cases (see ../shared/reference/exposure-audit.md §5 for the lab), each tool's runs alternated,
medians kept, load average noted per case:
1. every TCP port of one host — responsive, dropping all but four ports, absent address:
   ``careops exposure scan HOST --discovery-only`` (defaults: every TCP port) against
   ``nmap -sT -T4 -n -Pn -p-`` (targets: ≤ 1.5× nmap on the responsive host, ≥ 5× faster on the
   dropping host and the absent address);
2. the whole default audit of the three lab hosts (every TCP port, IKE, identification, TLS
   analysis, findings) against nmap's default scan (``nmap -n HOSTS``: top 1000 ports, host
   discovery), and a /27 and a /22 of the lab with three live hosts (target: no slower than
   nmap's default, 100 % of nmap's open ports found); ``nmap -Pn`` beside for the /27;
3. identification of the 9 open services: careops (all probes, TLS checks, findings) against
   ``nmap -sV --version-light`` (target: ≥ 3× faster, a product for every service nmap names);
4. politeness: a host behind a token-bucket firewall rule (SYNs over 1000/s dropped): every open
   port still found by the defaults (adaptive back-off), time noted.
nmap is a baseline only, never a dependency of careops.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET  # noqa: S405 — nmap's own XML from our lab
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from results import replace_section  # noqa: E402 (benchmarks/results.py, beside this script)

from tests.exposure import lab as lab_module  # noqa: E402

IDENT_PORTS = "22,80,104,443,2575,3389,6379,8080,11112"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, list[float]] = {}  # tool → CPU seconds of each run (user + system, children too)


def careops(lab, *args: str) -> tuple[float, dict]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "careops.settings"}
    cpu = children_cpu()
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
    elapsed = time.monotonic() - started
    CPU.setdefault("careops", []).append(children_cpu() - cpu)
    return elapsed, json.loads(done.stdout)


# nmap's `-Pn -p-` of an absent address took 417 s in one run and over 15 min in another: a run
# stopped at this limit counts as this limit (a lower bound of nmap's time, said in the table)
NMAP_LIMIT = 600


def nmap(lab, *args: str) -> tuple[float, ET.Element | None]:
    cpu = children_cpu()
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*lab.exec_args("scanner"), "nmap", "-n", "-oX", "-", *args],
            capture_output=True,
            text=True,
            timeout=NMAP_LIMIT,
            check=True,
        )
    except subprocess.TimeoutExpired:
        CPU.setdefault("nmap", []).append(children_cpu() - cpu)
        return float(NMAP_LIMIT), None
    elapsed = time.monotonic() - started
    CPU.setdefault("nmap", []).append(children_cpu() - cpu)
    return elapsed, ET.fromstring(done.stdout)  # noqa: S314


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


NMAP_TIMES: list[float] = []  # nmap's measurements of the last comparison


def alternate(run_nmap, run_careops):
    """RUNS measurements of each tool, alternating them; medians (and the last outputs)."""
    nmap_times, ours_times, engines = [], [], []
    root = result = None
    stopped = False
    for _ in range(RUNS):
        if not stopped:  # once stopped at the limit, nmap is not run again: the bound stands
            t, root = run_nmap()
            nmap_times.append(t)
            stopped = root is None
        t, result = run_careops()
        ours_times.append(t)
        engines.append(engine_seconds(result))
    NMAP_TIMES[:] = nmap_times
    return median(nmap_times), root, median(ours_times), result, median(engines)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def compare(lab, rows, label, nmap_args, careops_args, target, check):
    """Alternate RUNS runs of each tool; add a table row; return (nmap s, careops s, recall)."""
    before = load()
    CPU.clear()
    nmap_time, root, ours_time, result, engine = alternate(
        lambda: nmap(lab, *nmap_args), lambda: careops(lab, *careops_args)
    )
    cpu = {tool: median(values) for tool, values in CPU.items()}
    stopped = root is None
    theirs, ours = set(nmap_open(root) if root is not None else ()), set(careops_open(result))
    recall = theirs <= ours
    ok = check(nmap_time, ours_time)
    rows.append(
        (
            label,
            f"`nmap {' '.join(nmap_args)}`",
            (
                (
                    f"> {nmap_time:.0f} s (médiane de {', '.join(f'{t:.0f}' for t in NMAP_TIMES)} s ;"
                    f" la dernière arrêtée à la limite de {NMAP_LIMIT} s)"
                    if len(NMAP_TIMES) > 1
                    else f"> {nmap_time:.0f} s (arrêté à la limite, une seule mesure)"
                )
                if stopped
                else f"{nmap_time:.1f} s (CPU {cpu['nmap']:.1f} s)"
            ),
            f"{ours_time:.1f} s (moteur {engine:.1f} s, CPU {cpu['careops']:.1f} s)",
            f"{'≥ ' if stopped else ''}{nmap_time / ours_time:.2f}×",
            f"{target} : {'atteinte' if ok else 'NON atteinte'}",
            f"{len(theirs & ours)}/{len(theirs)}",
            before,
        )
    )
    return nmap_time, ours_time, recall, theirs, ours, root, result


CASES = ("ports", "audit", "ident", "bucket")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="écrire la section de benchmarks/RESULTS.md"
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="mesures de chaque outil (médiane)")
    parser.add_argument(
        "--cases",
        default=",".join(CASES),
        help=f"cas mesurés, séparés par des virgules, parmi {', '.join(CASES)} (défaut : tous)",
    )
    args = parser.parse_args()
    globals()["RUNS"] = max(1, args.runs)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown or not cases:
        parser.error(f"cas inconnus : {', '.join(unknown) or '(aucun)'} (parmi {', '.join(CASES)})")
    reason = lab_module.available()
    if reason or not subprocess.run(["which", "nmap"], capture_output=True).returncode == 0:
        sys.exit(f"laboratoire indisponible : {reason or 'nmap absent (apt-get install nmap)'}")
    lab = lab_module.build()
    rows: list[tuple] = []
    recalls = []
    missing_product: list[str] = []
    products: list[str] = []
    bucket_time = bucket_backoffs = None
    bucket_ports: list[int] = []
    base = ipaddress.ip_network(lab.subnet)
    absent = str(base.network_address + 77)
    net27 = str(ipaddress.ip_network(f"{base.network_address}/27"))
    net22 = str(ipaddress.ip_network(f"{base.network_address}/22", strict=False))
    # the /22 beyond the lab's /24 is on the same link: its empty addresses stay silent
    lab.run_in("scanner", "ip", "route", "add", net22, "dev", "eth0")
    hosts = [lab.legacy, lab.dropping, lab.modern]
    try:
        load_before = load()
        within = lambda n, c: c <= 1.5 * n  # noqa: E731
        faster5 = lambda n, c: n >= 5 * c  # noqa: E731
        no_slower = lambda n, c: c <= n  # noqa: E731
        for label, address, check, target in (
            (
                ("65 535 ports, hôte qui répond", lab.legacy, within, "≤ 1,5× nmap"),
                (
                    "65 535 ports, hôte qui jette les paquets",
                    lab.dropping,
                    faster5,
                    "≥ 5× plus rapide",
                ),
                ("65 535 ports, adresse sans hôte", absent, faster5, "≥ 5× plus rapide"),
            )
            if "ports" in cases
            else ()
        ):
            recalls.append(
                compare(
                    lab,
                    rows,
                    label,
                    ["-sT", "-T4", "-Pn", "-p-", address],
                    [address, "--discovery-only"],
                    target,
                    check,
                )[2]
            )
        for label, nmap_args, careops_args in (
            (
                ("audit par défaut, 3 hôtes déclarés", hosts, hosts),
                ("audit par défaut, /27 avec 3 hôtes", [net27], [net27]),
                ("audit par défaut, /27 avec 3 hôtes (nmap -Pn)", ["-Pn", net27], [net27]),
                ("audit par défaut, /22 avec 3 hôtes", [net22], [net22]),
            )
            if "audit" in cases
            else ()
        ):
            recalls.append(
                compare(lab, rows, label, nmap_args, careops_args, "pas plus lent", no_slower)[2]
            )
        if "ident" in cases:
            _n, _c, recall, theirs_set, _o, root, result = compare(
                lab,
                rows,
                "identification, 9 services sur 3 hôtes",
                ["-Pn", "-sT", "-sV", "--version-light", "-p", IDENT_PORTS, *hosts],
                [*hosts, "--ports", IDENT_PORTS],
                "≥ 3× plus rapide",
                lambda n, c: n >= 3 * c,
            )
            recalls.append(recall)
            theirs, ours = nmap_open(root), careops_open(result)
            named = {k: v for k, v in theirs.items() if v.get("product")}
            missing_product = [
                f"{a}:{p}" for (a, p) in named if not ours.get((a, p), {}).get("product")
            ]
            products = sorted(
                f"{p}: nmap « {theirs[(a, p)].get('product', theirs[(a, p)].get('name', ''))} » / careops « {ours.get((a, p), {}).get('product', '—')} »"
                for (a, p) in theirs
            )
        if "bucket" in cases:
            # politeness: a token bucket in front of the modern host (SYNs over 1000/s dropped)
            lab.run_in("modern", "nft", "add table inet bucket")
            lab.run_in(
                "modern",
                "nft",
                "add chain inet bucket input { type filter hook input priority -10; policy accept; }",
            )
            lab.run_in(
                "modern",
                "nft",
                "add rule inet bucket input tcp flags syn limit rate over 1000/second burst 50 packets drop",
            )
            started = time.monotonic()
            _t, bucket = careops(lab, lab.modern, "--discovery-only")
            bucket_time = time.monotonic() - started
            bucket_ports = sorted(s["port"] for h in bucket["hosts"] for s in h["services"])
            bucket_backoffs = bucket["hosts"][0].get("backoffs")
        load_after = load()
    finally:
        lab.stop()

    nmap_version = subprocess.run(["nmap", "--version"], capture_output=True, text=True)
    table = [f"| {' | '.join(row)} |" for row in rows]
    if set(cases) != set(CASES):
        note = (
            f"Lignes {', '.join(f'« {row[0]} »' for row in rows)} remesurées seules "
            f"(`python benchmarks/exposure.py --cases {','.join(cases)} --runs {RUNS} --write`, "
            f"{time.strftime('%Y-%m-%d %H:%M')}) sur la machine **partagée avec d'autres sessions** : "
            f"charge 1/5/15 min au début {load_before}, à la fin {load_after} ; les autres lignes "
            "restent celles de la dernière exécution complète."
        )
        print("\n".join([*table, "", note]))
        if args.write:
            update_rows(table, note)
        return
    section = full_section(
        table, recalls, missing_product, products, bucket_ports, bucket_time, bucket_backoffs,
        load_before, load_after, nmap_version.stdout.splitlines()[0],
    )  # fmt: skip
    print(section)
    if args.write:
        replace_section("exposure", section)


def full_section(
    table, recalls, missing_product, products, bucket_ports, bucket_time, bucket_backoffs,
    load_before, load_after, nmap_version,
) -> str:  # fmt: skip
    """The whole RESULTS.md section of a run of every case."""
    lines = [
        "<!-- exposure:start -->",
        "## Audit d'exposition (exposure)",
        "",
        f"Machine : 2 cœurs **partagés avec d'autres sessions** (voir la charge par ligne), Python {sys.version.split()[0]}, "
        f"{nmap_version}. "
        f"Commande : `python benchmarks/exposure.py --write` ({time.strftime('%Y-%m-%d %H:%M')}). Laboratoire en espaces de noms réseau "
        "(tests/exposure/lab.py) ; les deux outils tournent en root dans le même espace « scanner », en alternance "
        f"({RUNS} mesures chacun, médianes) : les rapports sont pris dans la même exécution. "
        "Temps careops = processus complet `careops exposure scan … --allow-private --json` **avec les options par défaut** "
        "(tous les ports TCP et IKE UDP 500/4500, sondes SYN brutes puisque le processus a CAP_NET_RAW, découverte d'hôtes "
        "pour les plages, identification, analyse TLS sslyze dans son propre processus, constats) ; entre parenthèses, la durée "
        "du moteur seul et le temps CPU (utilisateur + système, processus enfants compris) de chaque outil : nmap attend "
        "surtout, careops calcule (65 535 ports par hôte, analyse TLS), si bien que sur une machine chargée l'écart se creuse.",
        "",
        HEADER,
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *table,
        TABLE_END,
        "",
        "careops « 65 535 ports » : `careops exposure scan HÔTE --discovery-only` (ports par défaut = 1-65535). "
        f"Rappel (tout port ouvert vu par nmap est trouvé) : {'atteinte' if all(recalls) else 'NON atteinte'} ; "
        f"un produit pour chaque service nommé par nmap : {'atteinte' if not missing_product else 'NON atteinte (' + ', '.join(missing_product) + ')'}.",
        "",
        "Produits par port : " + " ; ".join(products) + ".",
        "",
        f"Politesse : hôte « modern » derrière `tcp flags syn limit rate over 1000/second burst 50 packets drop` (nftables) : "
        f"careops par défaut trouve les ports {', '.join(map(str, bucket_ports))} (attendus : 80, 443, 6379, 11112) en {bucket_time:.1f} s, "
        f"débit abaissé {bucket_backoffs} fois (repli adaptatif).",
        "",
        f"Charge de la machine (load average 1/5/15 min) au début : {load_before} ; à la fin : {load_after}.",
        "<!-- exposure:end -->",
        "",
        "",
    ]
    return "\n".join(lines)


HEADER = (
    "| cas | nmap | nmap (médiane) | careops, défauts | nmap / careops | cible "
    "| ports ouverts de nmap retrouvés | charge 1/5/15 min avant |"
)
TABLE_END = "<!-- exposure:rows-end -->"
NOTE = "<!-- exposure:partial -->"


def update_rows(table: list[str], note: str, results: Path | None = None) -> None:
    """Replace the rows of the measured cases in the section (others kept), and the note
    saying when and under which load they were measured."""
    results = results or Path(__file__).with_name("RESULTS.md")
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    start, end = "<!-- exposure:start -->", "<!-- exposure:end -->"
    if start not in text or TABLE_END not in text:
        sys.exit(
            "section exposure absente ou ancienne : lancez d'abord l'exécution complète (--write)"
        )
    head, rest = text.split(start, 1)
    section, tail = rest.split(end, 1)
    lines = section.split("\n")
    for row in table:
        label = row.split(" | ", 1)[0] + " |"
        index = next((i for i, line in enumerate(lines) if line.startswith(label)), None)
        if index is None:
            lines.insert(lines.index(TABLE_END), row)
        else:
            lines[index] = row
    if NOTE in lines:  # the note of a previous partial run: marker, text, blank line
        index = lines.index(NOTE)
        del lines[index : index + 3]
    index = lines.index(TABLE_END) + 2  # after the table and its blank line
    lines[index:index] = [NOTE, note, ""]
    replace_section("exposure", start + "\n".join(lines) + end + "\n\n", results)


if __name__ == "__main__":
    main()
