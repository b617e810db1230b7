"""Where the CPU of a page goes (issue 18, part 6): each page kind of benchmarks/national.py
rendered in-process (Django's test client, the whole middleware stack) on the national
database, timed in CPU seconds, its SQL queries counted, and profiled with cProfile; the
profile's own time is summed by layer (templates, ORM, database driver, careops code, gettext,
WhiteNoise, middleware and the rest of Django).

Usage:
    python benchmarks/national_profile.py [--database postgres://…/careops_national] [--runs 20]
The database is the one benchmarks/national.py generated (run it first, or with its
--establishments option for a smaller one). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from national import PG, environment, journeys, percentile, setup_django  # noqa: E402

LAYERS = [
    ("templates", ("django/template", "django/templatetags")),
    ("ORM", ("django/db/models",)),
    ("SQL compile/execute", ("django/db/backends", "django/db/utils")),
    ("psycopg", ("psycopg",)),
    ("gettext", ("gettext", "django/utils/translation")),
    ("whitenoise", ("whitenoise",)),
    ("auth/session/allauth", ("django/contrib/auth", "django/contrib/sessions", "allauth")),
    ("careops", ("careops/",)),
    ("django other", ("django/",)),
]


def layer(filename: str) -> str:
    for name, markers in LAYERS:
        if any(m in filename for m in markers):
            return name
    return "python/other"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=f"{PG}/careops_national")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    env = environment(args.database, Path(tempfile.mkdtemp(prefix="careops-prof-")), "prof")
    env["CAREOPS_QUEUE_URL"] = "immediate"
    setup_django(env)
    from django.db import connection
    from django.test import Client

    users = journeys(8)
    pages = {}
    for user in users:
        for kind, path in user["pages"]:
            pages.setdefault(kind, (path, user["cookie"]))
    out = {}
    for kind, (path, cookie) in pages.items():
        client = Client(HTTP_HOST="careops.test")
        client.cookies["sessionid"] = cookie
        for _ in range(3):
            response = client.get(path)
        assert response.status_code == 200, (kind, response.status_code)
        cpu, wall, sql = [], [], []
        for _ in range(args.runs):
            spent = [0.0]

            def timed(execute, query, params, many, context, spent=spent):
                began = time.perf_counter()
                try:
                    return execute(query, params, many, context)
                finally:
                    spent[0] += time.perf_counter() - began

            start, began = time.process_time(), time.perf_counter()
            with connection.execute_wrapper(timed):
                client.get(path)
            cpu.append((time.process_time() - start) * 1000)
            wall.append((time.perf_counter() - began) * 1000)
            sql.append(spent[0] * 1000)
        queries = []
        with connection.execute_wrapper(
            lambda ex, sql, p, m, c, seen=queries: seen.append(sql) or ex(sql, p, m, c)
        ):
            client.get(path)
        profile = cProfile.Profile(time.process_time)  # CPU, not waits
        profile.enable()
        for _ in range(5):
            client.get(path)
        profile.disable()
        stats = pstats.Stats(profile).stats
        by_layer: dict[str, float] = {}
        total = 0.0
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
            by_layer[layer(filename)] = by_layer.get(layer(filename), 0.0) + tottime
            total += tottime
        out[kind] = {
            "path": path,
            "cpu_p50_ms": round(statistics.median(cpu), 1),
            "cpu_p95_ms": round(percentile(cpu, 95), 1),
            "wall_p50_ms": round(statistics.median(wall), 1),
            "sql_p50_ms": round(statistics.median(sql), 1),
            "queries": len(queries),
            "profile_share": {
                k: f"{100 * v / total:.0f} %"
                for k, v in sorted(by_layer.items(), key=lambda kv: -kv[1])
                if v / total >= 0.02
            },
            "top": [
                f"{Path(f).name}:{n} {100 * tt / total:.0f} %"
                for (f, _l, n), (_c, _n, tt, _ct, _cl) in sorted(
                    stats.items(), key=lambda kv: -kv[1][2]
                )[:6]
            ],
        }
        print(kind, json.dumps(out[kind], ensure_ascii=False), flush=True)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write:
        write_results(out, args, load_start)


def write_results(out: dict, args, load_start: str) -> None:
    from results import replace_section

    load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "<!-- national-profile:start -->",
        "## Où part le CPU d'une page (national_profile)",
        "",
        f"Machine : 2 cœurs, **partagée** (charge moyenne 1/5/15 min : {load_start} au début, "
        f"{load_end} à la fin : les temps CPU sont gonflés par la contention). Commande : "
        f"`python benchmarks/national_profile.py --database {args.database.rsplit('/', 1)[1]} "
        f"--runs {args.runs} --write`. Page rendue dans le processus (client de test de Django, "
        "toute la pile de middlewares), temps CPU du processus, durée réelle et part de cette "
        "durée passée dans les requêtes SQL (attente de PostgreSQL comprise) ; profil cProfile "
        "en temps CPU, temps propre des fonctions regroupé par couche (≥ 2 %).",
        "",
        "| Page | CPU p50 (ms) | CPU p95 (ms) | durée p50 (ms) | dont SQL (ms) | requêtes SQL "
        "| répartition du CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, row in out.items():
        share = ", ".join(f"{k} {v}" for k, v in row["profile_share"].items())
        lines.append(
            f"| {kind} | {row['cpu_p50_ms']} | {row['cpu_p95_ms']} | {row['wall_p50_ms']} | "
            f"{row['sql_p50_ms']} | {row['queries']} | {share} |"
        )
    lines += ["<!-- national-profile:end -->", ""]
    replace_section("national-profile", "\n".join(lines))


if __name__ == "__main__":
    main()
