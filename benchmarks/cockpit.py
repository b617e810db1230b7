"""Cockpit benchmark (issue 12): the home page of each role of the demo, on the demo made
realistic — a year of exposure audits and findings, AD audits, expiring evidence, complement
requests, status changes — timed against the audit-trail page measured in the same run.

Claim: the cockpit (the whole HTML page, every section and chart) stays under 300 ms p95 for
the RSSI, the ARS instructor and the ANS, with a bounded query count.

Usage:
    python benchmarks/cockpit.py [--runs 40] [--scale 1] [--write]
A fresh SQLite database in a temporary folder; prints a JSON summary; --write updates
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 300.0


from results import replace_section  # noqa: E402 (benchmarks/results.py, beside this script)


def configure() -> None:
    os.environ["CAREOPS_DATA_DIR"] = tempfile.mkdtemp(prefix="careops-bench-cockpit-")
    os.environ["CAREOPS_QUEUE_URL"] = "immediate"
    os.environ["CAREOPS_EMAIL_URL"] = "locmem://"
    os.environ["CAREOPS_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["DJANGO_SETTINGS_MODULE"] = "careops.settings"
    import django

    django.setup()


def enrich(scale: int, seed: int = 12) -> dict:
    """Add a year of activity to the demo's establishments."""
    from django.utils import timezone

    from careops.compliance.models import Evidence, EvidenceRevision
    from careops.directory.models import Audit, Domain
    from careops.exposure.models import Finding, ScanRun, Severity
    from careops.tenancy.models import Organisation

    rng = random.Random(seed)
    now = timezone.now()
    orgs = list(Organisation.objects.filter(kind__in=["ght", "ej", "eg", "esms"]))
    runs, findings, audits, evidence = [], [], [], []
    for org in orgs:
        for month in range(12 * scale):
            at = now - dt.timedelta(days=30 * month + rng.randrange(0, 20))
            runs.append(
                ScanRun(
                    organisation=org,
                    status="done",
                    scope={},
                    started_at=at,
                    finished_at=at,
                    exposure_level=rng.choice(["A", "B", "C"]),
                )
            )
    runs = ScanRun.objects.bulk_create(runs, batch_size=1000)
    for i, run in enumerate(runs):
        for j in range(rng.randrange(0, 6)):
            findings.append(
                Finding(
                    organisation_id=run.organisation_id,
                    fingerprint=f"{run.pk}-{j}",
                    rule=f"EXP-{j:03d}",
                    severity=rng.choice([s.value for s in Severity]),
                    host=f"203.0.113.{i % 250}",
                    title="Service exposé",
                    first_run=run,
                    last_run=run,
                    first_seen=run.finished_at,
                    last_seen=run.finished_at,
                )
            )
    Finding.objects.bulk_create(findings, batch_size=2000)
    for org in orgs[:20]:
        domain = Domain.objects.create(organisation=org, name=f"ad{org.pk}.demo.test")
        for month in range(12):
            at = now - dt.timedelta(days=30 * month + 3)
            audits.append(
                Audit(
                    domain=domain,
                    source="oradad",
                    status="done",
                    finished_at=at,
                    level=rng.randrange(1, 5),
                )
            )
    Audit.objects.bulk_create(audits)
    for org in orgs:
        for n in range(10 * scale):
            evidence.append(Evidence(organisation=org, kind="pssi", title=f"Document {n}"))
    evidence = Evidence.objects.bulk_create(evidence, batch_size=2000)
    EvidenceRevision.objects.bulk_create(
        [
            EvidenceRevision(
                evidence=e,
                number=1,
                effective_date=now.date() - dt.timedelta(days=400),
                expires_on=now.date() + dt.timedelta(days=rng.randrange(-60, 400)),
            )
            for e in evidence
        ],
        batch_size=2000,
    )
    return {
        "organisations": len(orgs),
        "scan_runs": len(runs),
        "findings": len(findings),
        "ad_audits": len(audits),
        "evidence": Evidence.objects.count(),
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


def measure(runs: int) -> dict:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    results = {}
    for name in ("rssi.ght", "ars.idf", "ans"):
        user = get_user_model().objects.get(username=name)
        if not Authenticator.objects.filter(user=user, type="totp").exists():
            TOTP.activate(user, generate_totp_secret())
        client = Client()
        client.force_login(user)
        for label, url in (("cockpit /", "/"), ("référence /journal/", "/journal/")):
            for _ in range(3):
                assert client.get(url).status_code == 200
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            queries = []
            with connection.execute_wrapper(
                lambda run, sql, *a, seen=queries: seen.append(sql) or run(sql, *a)
            ):
                client.get(url)
            results[f"{name} {label}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
                "queries": len(queries),
            }
    return results


def write_results(summary: dict, command: str) -> None:
    lines = [
        "<!-- cockpit:start -->",
        "## Tableau de bord d'accueil par rôle (cockpit)",
        "",
        f"Machine : 2 cœurs, partagée. Commande : `{command}` ({dt.date.today():%d/%m/%Y}). "
        "Démo de `careops demo` enrichie d'une année d'activité : "
        + ", ".join(f"{k} {v}" for k, v in summary["dataset"].items())
        + ". Page HTML complète (session, MFA, restriction, gabarit, graphiques SVG), "
        "client de test Django, SQLite. Référence mesurée dans la même exécution : la page "
        "du journal (`/journal/`, 50 événements paginés).",
        "",
        f"Charge de la machine (load average 1 min, 2 cœurs) pendant la mesure : "
        f"{summary['load']} — d'autres suites tournaient en parallèle.",
        "",
        "| page | p50 (ms) | p95 (ms) | max (ms) | requêtes | p95 < 300 ms |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for case, r in summary["results"].items():
        verdict = "oui" if r["p95_ms"] < TARGET_MS else "NON"
        lines.append(
            f"| {case} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['queries']} | {verdict} |"
        )
    for name, ratio in summary["ratios"].items():
        lines.append(f"\nRapport cockpit / journal ({name}) : {ratio}×.")
    lines += ["<!-- cockpit:end -->"]
    replace_section("cockpit", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    configure()
    from django.core.management import call_command

    from careops.catalogue import services as catalogue

    call_command("migrate", verbosity=0)
    catalogue.load_default()
    call_command("careops_demo", stdout=open(os.devnull, "w"))
    dataset = enrich(args.scale)
    load_before = os.getloadavg()[0]
    results = measure(args.runs)
    load = round((load_before + os.getloadavg()[0]) / 2, 1)
    ratios = {
        name: round(
            results[f"{name} cockpit /"]["p95_ms"]
            / results[f"{name} référence /journal/"]["p95_ms"],
            2,
        )
        for name in ("rssi.ght", "ars.idf", "ans")
    }
    summary = {"dataset": dataset, "results": results, "ratios": ratios, "load": load}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.write:
        write_results(summary, "python benchmarks/cockpit.py --write")


if __name__ == "__main__":
    main()
