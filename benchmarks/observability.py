"""Observability overhead benchmark (issue 18, part 4): the same pages served with and without the
request-id and metrics middleware, requests interleaved in one process, in the same run.

Measures: what counting every request (latency histogram per route name, request id, log
context) adds to real pages, in the default single-process mode (``careops run``) and in the
multi-process mode of production (``CAREOPS_METRICS_DIR``, files shared by gunicorn workers);
what the two middleware cost alone around an empty view; and how long an uncached scrape of
/metrics (database and queue figures) takes on the demo data.

Usage:
    python benchmarks/observability.py [--runs 300] [--write]
A fresh SQLite database with the demo in a temporary folder; one child process per mode; prints
a JSON summary; --write updates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from results import replace_section  # noqa: E402 (benchmarks/results.py, beside this script)

OBSERVABILITY = ("careops.core.logs.RequestIdMiddleware", "careops.core.metrics.MetricsMiddleware")
PAGES = (
    ("connexion (anonyme)", "/accounts/login/", None),
    ("API /api/system/me (jeton)", "/api/system/me", "token"),
    ("cockpit / (RSSI GHT)", "/", "session"),
)


def environment(data_dir: str, metrics_dir: str = "") -> dict:
    env = {
        **os.environ,
        "CAREOPS_DATA_DIR": data_dir,
        "CAREOPS_QUEUE_URL": "immediate",
        "CAREOPS_EMAIL_URL": "locmem://",
        "CAREOPS_CACHE_URL": "locmem://",
        "CAREOPS_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "CAREOPS_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "careops.settings",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if metrics_dir:
        env["CAREOPS_METRICS_DIR"] = metrics_dir
    return env


def prepare() -> None:
    """Child: migrate, load the referential and the demo into CAREOPS_DATA_DIR."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("catalogue", "load", verbosity=0)
    call_command("careops_demo", verbosity=0)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


def measure(runs: int) -> dict:
    """Child: each page, requests alternating between a handler without and one with the
    observability middleware (who goes first alternates too)."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client, override_settings
    from django.test.client import ClientHandler

    from careops.core import tokens

    user = get_user_model().objects.get(username="rssi.ght")
    _, token = tokens.issue(user, "benchmark")
    handlers = {"on": ClientHandler(enforce_csrf_checks=False)}
    handlers["on"].load_middleware()
    without = [m for m in settings.MIDDLEWARE if m not in OBSERVABILITY]
    with override_settings(MIDDLEWARE=without):
        handlers["off"] = ClientHandler(enforce_csrf_checks=False)
        handlers["off"].load_middleware()
    clients = {}
    for variant, handler in handlers.items():
        for _label, _url, auth in PAGES:
            client = Client(headers={"Authorization": f"Bearer {token}"} if auth == "token" else {})
            client.handler = handler
            if auth == "session":
                client.force_login(user)
            clients[(variant, auth)] = client
    results = {}
    for label, url, auth in PAGES:
        times = {"off": [], "on": []}
        for n in range(runs + 5):
            order = ("off", "on") if n % 2 else ("on", "off")
            for variant in order:
                client = clients[(variant, auth)]
                start = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (url, response.status_code)
                assert ("X-Request-ID" in response) is (variant == "on")
                if n >= 5:  # warm-up
                    times[variant].append(elapsed)
        off, on = statistics.median(times["off"]), statistics.median(times["on"])
        results[label] = {
            "off_p50_ms": round(off, 3),
            "on_p50_ms": round(on, 3),
            "off_p95_ms": round(percentile(times["off"], 95), 3),
            "on_p95_ms": round(percentile(times["on"], 95), 3),
            "overhead_ms": round(on - off, 3),
            "ratio": round(on / off, 3),
        }
    results["middleware seul"] = middleware_alone(20000)
    scrape = Client()
    with override_settings(METRICS={**settings.METRICS, "state_ttl": 0}):
        durations = []
        for _ in range(20):
            start = time.perf_counter()
            answer = scrape.get("/metrics", REMOTE_ADDR="127.0.0.1")
            durations.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200
    results["scrape /metrics"] = {
        "p50_ms": round(statistics.median(durations), 1),
        "bytes": len(answer.content),
    }
    return results


def middleware_alone(calls: int) -> dict:
    """The two middleware around a view that does nothing, against that view alone: the cost
    per request without the page's own noise (median of 5 batches, microseconds)."""
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import resolve

    from careops.core.logs import RequestIdMiddleware
    from careops.core.metrics import MetricsMiddleware

    def view(request):
        request.resolver_match = match
        return HttpResponse("ok")

    match = resolve("/organisations/1/")
    wrapped = RequestIdMiddleware(MetricsMiddleware(view))
    request = RequestFactory().get("/organisations/1/")
    batches = {"off": [], "on": []}
    for _ in range(5):
        for variant, handler in (("off", view), ("on", wrapped)):
            start = time.perf_counter()
            for _ in range(calls):
                handler(request)
            batches[variant].append((time.perf_counter() - start) / calls * 1e6)
    off, on = statistics.median(batches["off"]), statistics.median(batches["on"])
    return {"off_us": round(off, 2), "on_us": round(on, 2), "overhead_us": round(on - off, 2)}


def child(args: list[str], env: dict) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(done.stderr)
    return done.stdout


def write_results(summary: dict, command: str) -> None:
    lines = [
        "<!-- observability:start -->",
        "## Observabilité : coût du middleware de métriques et de l'identifiant de requête",
        "",
        f"Commande : `{command}` — machine partagée (2 cœurs, d'autres ingénieurs au travail), "
        f"charge moyenne au départ {summary['load_before']}, à la fin {summary['load_after']}. "
        "Mêmes pages, même processus, requêtes alternées entre un gestionnaire sans et un "
        "gestionnaire avec `RequestIdMiddleware` + `MetricsMiddleware` (réglages par défaut), "
        f"{summary['runs']} requêtes de chaque côté par page, client de test Django (sans réseau).",
        "",
        "| mode | page | sans (p50 / p95 ms) | avec (p50 / p95 ms) | surcoût p50 | ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    scrapes, alone = [], []
    for mode, pages in summary["modes"].items():
        for label, row in pages.items():
            if label == "scrape /metrics":
                scrapes.append(f"{mode} : {row['p50_ms']} ms ({row['bytes']} octets)")
                continue
            if label == "middleware seul":
                alone.append(f"{mode} : {row['overhead_us']} µs par requête")
                continue
            lines.append(
                f"| {mode} | {label} | {row['off_p50_ms']:.2f} / {row['off_p95_ms']:.2f} | "
                f"{row['on_p50_ms']:.2f} / {row['on_p95_ms']:.2f} | "
                f"{row['overhead_ms']:+.3f} ms | {row['ratio']:.3f} |"
            )
    lines += [
        "",
        "Coût propre des deux middleware autour d'une vue vide (médiane de 5 lots de 20 000 "
        "appels, sans le bruit des pages) : " + " ; ".join(alone) + ".",
        "",
        "Collecte de /metrics sans cache (requêtes en base et file, démo) : " + " ; ".join(scrapes),
        "<!-- observability:end -->",
    ]
    replace_section("observability", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--child", choices=["prepare", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "prepare":
        prepare()
        return
    if args.child == "measure":
        sys.stdout.write(json.dumps(measure(args.runs)))
        return
    load_before = round(os.getloadavg()[0], 2)
    base = tempfile.mkdtemp(prefix="careops-bench-observability-")
    data_dir = os.path.join(base, "data")
    child(["--child", "prepare"], environment(data_dir))
    modes = {}
    for mode, metrics_dir in (
        ("un processus", ""),
        ("multi-processus (CAREOPS_METRICS_DIR)", os.path.join(base, "metrics")),
    ):
        output = child(
            ["--child", "measure", "--runs", str(args.runs)], environment(data_dir, metrics_dir)
        )
        modes[mode] = json.loads(output)
    summary = {
        "runs": args.runs,
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 2),
        "modes": modes,
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if args.write:
        write_results(summary, "python benchmarks/observability.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
