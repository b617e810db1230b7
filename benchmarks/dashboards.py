"""Dashboard benchmark (issue 7): a generated national dataset — 3 000 establishments in 18
regions, their candidacies, declarations (one frozen status per item of the D2 referential),
instruction verdicts and audits — and the regional and national dashboards timed on it.

Claim: each dashboard (the figures, and the whole HTML page) stays under 150 ms p95, with a
query count that does not depend on the data size.

Usage:
    python benchmarks/dashboards.py [--establishments 3000] [--runs 60] [--database URL]
    python benchmarks/dashboards.py --write [--databases sqlite,postgres://…/careops_bench_dash]
Without --database a fresh SQLite file in a temporary folder is used; with
``--database postgres://postgres@127.0.0.1:5432/careops_bench_dash`` that database is created
(and dropped afterwards). Prints a JSON summary; --write runs each database in a child process
and updates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 150.0


from results import replace_section  # noqa: E402 (benchmarks/results.py, beside this script)


def configure(database: str | None) -> None:
    os.environ["CAREOPS_DATA_DIR"] = tempfile.mkdtemp(prefix="careops-bench-dash-")
    os.environ["CAREOPS_QUEUE_URL"] = "immediate"
    os.environ["CAREOPS_EMAIL_URL"] = "locmem://"
    os.environ["CAREOPS_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    if database:
        os.environ["CAREOPS_DATABASE_URL"] = database
    os.environ["DJANGO_SETTINGS_MODULE"] = "careops.settings"
    import django

    django.setup()


def generate(establishments: int, seed: int = 7) -> dict:
    """Create the tree, the D2 referential, candidacies, declarations, verdicts and audits."""
    from django.contrib.auth import get_user_model

    from careops.catalogue import services as catalogue
    from careops.catalogue.bridge import domain_of
    from careops.catalogue.engine import loader
    from careops.catalogue.models import ReferentialVersion
    from careops.compliance.models import Evidence, EvidenceRevision
    from careops.declarations.choices import Decision, Level, State, Verdict
    from careops.declarations.models import (
        Candidacy,
        Declaration,
        DeclaredItem,
        ItemReview,
        content_hash,
    )
    from careops.declarations.services import VERDICT_FIELDS
    from careops.tenancy.choices import REGIONS
    from careops.tenancy.models import Organisation, RoleAssignment

    rng = random.Random(seed)
    catalogue.load_paths([loader.default_directory() / "d2-v1.yaml"])
    version = ReferentialVersion.objects.get(domain="D2", is_current=True)
    items = [(i.id, i.kind) for i in domain_of(version).items]

    ans = Organisation(kind="ans", name="ANS", category="regulator")
    ans.save()
    arss = []
    for code, name in REGIONS:
        ars = Organisation(
            parent=ans, kind="ars", name=f"ARS {name}", region_code=code, category="regulator"
        )
        ars.save()
        arss.append(ars)

    def bulk(nodes):
        created = Organisation.objects.bulk_create(nodes)
        for node in created:
            node.path = f"{node.parent.path}{node.pk}/"
            node.depth = node.path.count("/") - 2
        Organisation.objects.bulk_update(created, ["path", "depth"], batch_size=1000)
        return created

    # GHTs first (about 135 nationally, scaled), then their public EJs, then the others.
    ght_count = max(1, round(establishments * 0.045))
    ghts = bulk(
        [
            Organisation(
                parent=arss[i % len(arss)],
                kind="ght",
                name=f"GHT {i}",
                category="ght",
                region_code=arss[i % len(arss)].region_code,
            )
            for i in range(ght_count)
        ]
    )
    kinds = []
    for i in range(establishments):
        roll = rng.random()
        if roll < 0.35:
            parent = ghts[i % len(ghts)]
            kinds.append(
                Organisation(
                    parent=parent,
                    kind="ej",
                    name=f"CH {i}",
                    category="public",
                    region_code=parent.region_code,
                )
            )
        else:
            ars = arss[rng.randrange(len(arss))]
            category = rng.choices(
                ["public", "private_nonprofit", "private_forprofit", "medico_social"],
                [3, 25, 62, 10],
            )[0]
            kind = "esms" if category == "medico_social" else "ej"
            kinds.append(
                Organisation(
                    parent=ars,
                    kind=kind,
                    name=f"Établissement {i}",
                    category=category,
                    region_code=ars.region_code,
                )
            )
    structures = bulk(kinds)
    candidates = ghts + [s for s in structures if s.kind == "ej" and s.parent.kind != "ght"]

    now = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
    candidacies = []
    for org in candidates:
        if rng.random() > 0.85:
            continue
        roll = rng.random()
        state = (
            State.CANDIDACY_SUBMITTED
            if roll < 0.04
            else State.CANDIDACY_REJECTED
            if roll < 0.07
            else State.CANDIDACY_VALIDATED
            if roll < 0.16
            else State.DECLARED
            if roll < 0.45
            else State.ARS_INSTRUCTED
            if roll < 0.65
            else State.DECIDED
            if roll < 0.85
            else State.PAID
        )
        ceiling = Decimal(rng.randrange(20, 400) * 1000)
        decided = state in (State.DECIDED, State.PAID)
        share = Decimal(rng.choice([0, 0.5, 0.75, 1])) if decided else None
        candidacies.append(
            Candidacy(
                candidate=org,
                referential_version=version,
                domain="D2",
                region_code=org.region_code,
                category=org.category,
                state=state,
                applied_at=now,
                ceiling_eur=ceiling,
                decision=(
                    Decision.ACCEPTED
                    if share == 1
                    else Decision.PARTIAL
                    if share
                    else Decision.REFUSED
                )
                if decided
                else "",
                amount_eur=(ceiling * share).quantize(Decimal("0.01")) if decided else None,
                paid_at=now if state == State.PAID else None,
            )
        )
    candidacies = Candidacy.objects.bulk_create(candidacies, batch_size=1000)
    declared_states = {State.DECLARED, State.ARS_INSTRUCTED, State.DECIDED, State.PAID}
    declarations = []
    for c in candidacies:
        if c.state in declared_states:
            snapshot = {
                "candidate": {"id": c.candidate_id},
                "items": [
                    {
                        "id": i,
                        "kind": k,
                        "status": rng.choice(
                            ["met", "met", "met", "partial", "not_met", "missing_evidence"]
                        )
                        if k != "group"
                        else "partial",
                    }
                    for i, k in items
                ],
                "evidence": [],
            }
            declarations.append(
                Declaration(
                    candidacy=c,
                    filed_at=now,
                    filing_date=now.date(),
                    representative_name="DG",
                    representative_title="Directeur",
                    attestation="…",
                    snapshot=snapshot,
                    content_sha256=content_hash(snapshot),
                )
            )
    declarations = Declaration.objects.bulk_create(declarations, batch_size=500)
    declared_items, reviews = [], []
    for d in declarations:
        for item in d.snapshot["items"]:
            if item["kind"] == "group":
                continue  # as services.file_declaration: groups live in the snapshot only
            declared_items.append(
                DeclaredItem(
                    declaration=d,
                    candidate_id=d.candidacy.candidate_id,
                    domain="D2",
                    item_code=item["id"],
                    kind=item["kind"],
                    status=item["status"],
                )
            )
            if d.candidacy.state != State.DECLARED:
                verdict = Verdict.COMPLIANT if item["status"] == "met" else Verdict.NON_COMPLIANT
                reviews.append(
                    ItemReview(
                        declaration=d,
                        candidate_id=d.candidacy.candidate_id,
                        domain="D2",
                        item_code=item["id"],
                        level=Level.ARS,
                        verdict=verdict,
                        at=now,
                    )
                )
        if d.candidacy.state == State.DECLARED and rng.random() < 0.3:
            reviews.append(
                ItemReview(
                    declaration=d,
                    candidate_id=d.candidacy.candidate_id,
                    domain="D2",
                    item_code=items[1][0],
                    level=Level.ARS,
                    verdict=Verdict.COMPLEMENT,
                    message="?",
                    due_date=now.date(),
                    at=now,
                )
            )
    DeclaredItem.objects.bulk_create(declared_items, batch_size=2000)
    ItemReview.objects.bulk_create(reviews, batch_size=2000)
    # the per-candidacy verdict counts that services.review_item keeps
    counts: dict[int, dict[str, int]] = {}
    for review in reviews:
        field = VERDICT_FIELDS[(review.level, review.verdict)]
        per = counts.setdefault(review.declaration.candidacy_id, {})
        per[field] = per.get(field, 0) + 1
    by_pk = {c.pk: c for c in candidacies}
    for pk, per in counts.items():
        for field, n in per.items():
            setattr(by_pk[pk], field, n)
    Candidacy.objects.bulk_update(
        [by_pk[pk] for pk in counts], list(VERDICT_FIELDS.values()), batch_size=500
    )

    evidence = []
    for org in candidates:
        for n in range(rng.randrange(2, 8)):
            evidence.append(
                Evidence(
                    organisation=org, kind="exposure_audit", title=f"SILENE {n}", source="exposure"
                )
            )
        evidence.append(
            Evidence(organisation=org, kind="ads_audit", title="ADS", source="directory")
        )
    evidence = Evidence.objects.bulk_create(evidence, batch_size=2000)
    EvidenceRevision.objects.bulk_create(
        [
            EvidenceRevision(
                evidence=e,
                number=1,
                effective_date=now.date(),
                attributes={"level": rng.choice([1, 2, 2, 3, 3, 3, 4, 5])}
                if e.kind == "ads_audit"
                else {"minimum_level_met": True},
            )
            for e in evidence
        ],
        batch_size=2000,
    )

    User = get_user_model()
    users = {}
    for name, role, node in (
        ("ans", "ans_instructor", ans),
        ("ars.idf", "ars_instructor", next(a for a in arss if a.region_code == "11")),
    ):
        user = User.objects.create_user(name, password=hashlib.sha256(name.encode()).hexdigest())
        RoleAssignment.objects.create(user=user, organisation=node, role=role)
        users[name] = user
    return {
        "establishments": len(structures),
        "ghts": len(ghts),
        "candidates": len(candidates),
        "candidacies": len(candidacies),
        "declarations": len(declarations),
        "declared_items": len(declared_items),
        "reviews": len(reviews),
        "evidence": len(evidence),
        "users": users,
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(users: dict, runs: int) -> dict:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from careops.declarations import dashboards

    results = {}
    for name, user in users.items():
        TOTP.activate(user, generate_totp_secret())
        client = Client()
        client.force_login(user)
        for label, call in (
            (
                "figures",
                lambda u=user: dashboards.build(get_user_model().objects.get(pk=u.pk), "D2"),
            ),
            ("page", lambda c=client: c.get("/declarations/tableau-de-bord/?domaine=D2")),
        ):
            for _ in range(3):
                call()
            times, cpu = [], []
            for _ in range(runs):
                start, start_cpu = time.perf_counter(), time.process_time()
                out = call()
                times.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            if label == "page":
                assert out.status_code == 200, out.status_code
            counted = []

            def counter(execute, sql, params, many, context, counted=counted):
                counted.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(counter):
                call()
            results[f"{name} {label}"] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
                "cpu_p95_ms": round(percentile(cpu, 95), 1),
                "queries": len(counted),
            }
    return results


def write_results(summaries: list[dict], command: str) -> None:
    """Replace the dashboards section of RESULTS.md with one table per database."""
    d = summaries[0]["dataset"]
    lines = [
        "<!-- dashboards:start -->",
        "## Tableaux de bord des déclarations (declarations)",
        "",
        f"Machine : 2 cœurs, 24 Gio, partagée. Commande : `{command}`.",
        "",
        f"Jeu généré : {d['establishments']} établissements (plus {d['ghts']} GHT), "
        f"{d['candidates']} candidats potentiels, {d['candidacies']} candidatures D2, "
        f"{d['declarations']} déclarations figées ({d['declared_items']} statuts d'exigence), "
        f"{d['reviews']} avis d'instruction, {d['evidence']} audits (exposition et ADS), puis "
        f"ANALYZE. {summaries[0]['runs']} mesures par cas après 3 tours d'échauffement. "
        "« figures » : `dashboards.build` seul ; « page » : la page HTML complète "
        "(session, MFA, restriction, gabarit, graphiques SVG). Le temps CPU est celui du "
        "processus Python (qui contient SQLite, pas le serveur PostgreSQL).",
    ]
    for summary in summaries:
        lines += [
            "",
            f"### {summary['database']} — charge moyenne de la machine pendant la mesure : "
            f"{summary['load']} (load average 1 min, 2 cœurs ; d'autres suites tournaient)",
            "",
            "| cas | p50 (ms) | p95 (ms) | max (ms) | CPU p95 (ms) | requêtes | p95 < 150 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for case, r in summary["results"].items():
            verdict = "oui" if r["p95_ms"] < TARGET_MS else "NON"
            lines.append(
                f"| {case} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['cpu_p95_ms']} "
                f"| {r['queries']} | {verdict} |"
            )
    lines += ["<!-- dashboards:end -->"]
    replace_section("dashboards", "\n".join(lines) + "\n")


def run_each(args) -> None:
    """Run one child process per database (Django is configured once per process)."""
    summaries = []
    for database in args.databases.split(","):
        command = [
            sys.executable,
            __file__,
            "--establishments",
            str(args.establishments),
            "--runs",
            str(args.runs),
        ]
        if database != "sqlite":
            command += ["--database", database]
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        summaries.append(json.loads(done.stdout))
    print(json.dumps(summaries, indent=2, ensure_ascii=False))
    write_results(
        summaries, "python benchmarks/dashboards.py --write --databases " + args.databases
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--establishments", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--database", default=None)
    parser.add_argument(
        "--write",
        action="store_true",
        help="run on each of --databases in turn and update benchmarks/RESULTS.md",
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgres://postgres@127.0.0.1:5432/careops_bench_dash",
        help="with --write: comma-separated, 'sqlite' or a PostgreSQL URL",
    )
    args = parser.parse_args()
    if args.write:
        run_each(args)
        return
    configure(args.database)
    from django.core.management import call_command
    from django.db import connection

    created_db = None
    if args.database and args.database.startswith("postgres"):
        import psycopg

        base, name = args.database.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        created_db = (base, name)
    try:
        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        dataset = generate(args.establishments)
        with connection.cursor() as cursor:
            # fresh statistics, as autovacuum (PostgreSQL) or a routine ANALYZE would give
            cursor.execute("ANALYZE")
        generated = time.perf_counter() - start
        users = dataset.pop("users")
        load_before = os.getloadavg()[0]
        results = measure(users, args.runs)
        load = round((load_before + os.getloadavg()[0]) / 2, 1)
        summary = {
            "database": connection.vendor,
            "database_arg": args.database,
            "dataset": dataset,
            "generate_s": round(generated, 1),
            "runs": args.runs,
            "load": load,
            "results": results,
            "target_p95_ms": TARGET_MS,
            "ok": all(r["p95_ms"] < TARGET_MS for r in results.values()),
        }
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    finally:
        connection.close()
        if created_db:
            import psycopg

            base, name = created_db
            with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
