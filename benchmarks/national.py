"""Scale-out with failures (issue 18, part 6): the national data set on PostgreSQL, two web
nodes (``careops serve``) and two workers (``careops worker``) behind nginx (the shipped site
file, ``deploy/nginx/careops.conf``) on Redis, under 100 simulated users who pause 5 s between
pages, mixing RSSI journeys (cockpit, evidence library, exposure findings, declaration) and
instructor journeys (regional dashboard, declarations queue). During the paced run one web node
and one worker are killed (SIGKILL) while tasks flow through the queue.

Claims: p95 < 300 ms per page kind and zero errors, the proxy retrying what the dead node
dropped; every task enqueued completes, once (its write committed exactly once), none lost.
Then the saturation throughput: closed-loop clients without pauses, concurrency doubling, the
requests per second at which p95 crosses 1 s, per core of the machine. During both, the CPU
spent by each part (web nodes, PostgreSQL backends of the database, nginx, workers, this load
generator) and by the whole machine is read from /proc, per request: the generator shares the
cores, and so may other users of the machine. Each simulated user keeps its connection open
between pages, as a browser does. Baseline in the same
run: today's single ``careops run`` (waitress, 8 threads) under the same loads.

Usage:
    python benchmarks/national.py [--establishments 3000] [--findings 200000] [--duration 150]
        [--users 100] [--think 5] [--reuse] [--write]
--reuse keeps the database of the previous run (careops_national) instead of generating it
(the generation takes several minutes). Ports 18200-18299, Redis DB 5.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import replace_section  # noqa: E402 (benchmarks/results.py, beside this script)

from tests.deploy.helpers import base_env, nginx_site, serve, stop, wait_for  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/5"
PORTS = {"https": 18200, "http": 18201, "web1": 18210, "web2": 18211, "waitress": 18220}
HOST = "careops.test"
TARGET_P95 = 0.300
SATURATION_P95 = 1.0
SECRET = "national-benchmark-" + "k" * 40  # the same on every node (sessions)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


def environment(database: str, data_dir: Path, queue_name: str) -> dict[str, str]:
    return base_env(
        data_dir,
        DJANGO_SETTINGS_MODULE="careops.settings",
        PYTHONUNBUFFERED="1",
        CAREOPS_DATABASE_URL=database,
        CAREOPS_QUEUE_URL=REDIS,
        CAREOPS_QUEUE_NAME=queue_name,
        CAREOPS_SECRET_KEY=SECRET,
        CAREOPS_ALLOWED_HOSTS=f"{HOST},127.0.0.1,localhost",
        CAREOPS_TRUSTED_PROXY_COUNT="1",
        CAREOPS_TASK_LEASE_SECONDS="5",
        CAREOPS_EMAIL_URL="locmem://",
    )


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def prepare(database: str, env: dict[str, str], args) -> dict:
    """Create, migrate and fill the database (or reuse it); the journeys' URLs and sessions."""
    import psycopg

    name = database.rsplit("/", 1)[1]
    have_template = True
    if not args.reuse:
        # a migrated, referential-loaded template is kept beside the database: cloning it takes
        # a second, migrating takes minutes (migrate runs again after cloning, a no-op if current)
        template = f"{name}_template"
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            have = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
            have_template = have.fetchone() is not None
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if have_template:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                conn.execute(f'CREATE DATABASE "{name}"')
    # a reused database too: the code may have new migrations since it was filled
    for command in (["migrate", "--no-input", "-v0"], ["catalogue", "load"]):
        subprocess.run(
            [sys.executable, "-m", "careops.cli", *command], env=env, check=True, cwd=ROOT
        )
    if not args.reuse and not have_template:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
    setup_django(env)
    summary = {}
    if not args.reuse:
        from national_data import generate

        start = time.perf_counter()
        summary = generate(args.establishments, args.findings)
        summary["seconds"] = round(time.perf_counter() - start, 1)
        Path(env["CAREOPS_DATA_DIR"], "dataset.json").write_text(json.dumps(summary))
    return {"dataset": summary, "journeys": journeys(args.users)}


def journeys(count: int) -> list[dict]:
    """``count`` simulated users: 3 in 4 RSSI of an establishment with a declaration, the
    rest ARS instructors; each with a session cookie and its pages."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from careops.declarations.models import Declaration
    from careops.tenancy.models import RoleAssignment

    rng = random.Random(6)
    declared = dict(
        Declaration.objects.values_list("candidacy__candidate_id", "candidacy_id")[:5000]
    )
    rssi = list(
        RoleAssignment.objects.filter(role="es_rssi", organisation_id__in=declared).values_list(
            "user_id", "organisation_id"
        )
    )
    instructors = list(
        RoleAssignment.objects.filter(role="ars_instructor").values_list("user_id", flat=True)
    )
    assert rssi and instructors, "no data: run without --reuse first"
    users = get_user_model().objects
    out = []
    for n in range(count):
        client = Client()
        if n % 4 != 3:
            user_id, org = rng.choice(rssi)
            pages = [
                ("cockpit RSSI", "/"),
                ("preuves", "/preuves/"),
                ("constats d'exposition", f"/exposition/organisations/{org}/"),
                ("déclaration", f"/declarations/{declared[org]}/"),
            ]
        else:
            user_id = rng.choice(instructors)
            pages = [
                ("tableau de bord régional", "/declarations/tableau-de-bord/?domaine=D2"),
                ("file d'instruction", "/declarations/"),
                ("cockpit instructeur", "/"),
            ]
        client.force_login(users.get(pk=user_id))
        out.append({"cookie": client.cookies["sessionid"].value, "pages": pages})
    return out


async def warm(bases: list[str], users: list[dict], rounds: int = 3) -> None:
    """Every page kind a few times on every node (a node in production is warm: its processes
    have imported the views and templates before users arrive)."""
    pages = {kind: (path, user) for user in users for kind, path in user["pages"]}
    for base in bases:
        for _ in range(rounds):
            async with asyncio.TaskGroup() as group:
                for path, user in pages.values():

                    async def one(path=path, user=user, base=base):
                        async with client_for(base, user) as client:
                            with contextlib.suppress(Exception):
                                await client.get(path, timeout=120)

                    group.create_task(one())


class Recorder:
    def __init__(self):
        self.samples: list[tuple[float, str, float, int]] = []  # (at, kind, seconds, status)
        self.errors: list[str] = []

    def add(self, kind: str, seconds: float, status: int, detail: str = "") -> None:
        self.samples.append((time.monotonic(), kind, seconds, status))
        if status != 200:
            self.errors.append(f"{kind}: {status} {detail}"[:300])

    def table(self) -> dict:
        kinds: dict[str, list[float]] = {}
        for _, kind, seconds, _status in self.samples:
            kinds.setdefault(kind, []).append(seconds)
        return {
            kind: {
                "n": len(v),
                "p50_ms": round(statistics.median(v) * 1000, 1),
                "p95_ms": round(percentile(v, 95) * 1000, 1),
                "max_ms": round(max(v) * 1000, 1),
            }
            for kind, v in sorted(kinds.items())
        }


async def fetch(client, recorder: Recorder, kind: str, path: str) -> None:
    import httpx

    start = time.perf_counter()
    try:
        response = await client.get(path)
        status, detail = response.status_code, response.headers.get("location", "")
    except httpx.HTTPError as exc:
        status, detail = 0, repr(exc)
    recorder.add(kind, time.perf_counter() - start, status, detail)


def client_for(base: str, user: dict):
    import httpx

    return httpx.AsyncClient(
        base_url=base,
        verify=False,  # noqa: S501 — the benchmark's own self-signed certificate on loopback
        headers={"Host": HOST},
        cookies={"sessionid": user["cookie"]},
        timeout=30,
        follow_redirects=False,
        # a browser keeps its connection open between pages (minutes; nginx: 75 s): httpx's
        # default (5 s, the users' pause) would make about every other page a new TLS handshake
        limits=httpx.Limits(keepalive_expiry=60),
    )


async def paced(base: str, users: list[dict], seconds: float, think: float, events) -> Recorder:
    """Every user loops on its journey, pausing ``think`` s (±20 %) between pages."""
    recorder = Recorder()
    deadline = time.monotonic() + seconds

    async def user_loop(user: dict, index: int) -> None:
        rng = random.Random(index)
        await asyncio.sleep(rng.uniform(0, think))  # arrivals spread over one pause
        async with client_for(base, user) as client:
            step = index
            while time.monotonic() < deadline:
                kind, path = user["pages"][step % len(user["pages"])]
                await fetch(client, recorder, kind, path)
                step += 1
                await asyncio.sleep(think * rng.uniform(0.8, 1.2))

    async def timeline() -> None:
        start = time.monotonic()
        for at, action in events:
            await asyncio.sleep(max(0, start + at - time.monotonic()))
            await asyncio.to_thread(action)  # database writes off the event loop

    await asyncio.gather(timeline(), *(user_loop(u, i) for i, u in enumerate(users)))
    return recorder


async def closed_loop(base: str, users: list[dict], concurrency: int, seconds: float) -> dict:
    recorder = Recorder()
    deadline = time.monotonic() + seconds

    async def loop(index: int) -> None:
        user = users[index % len(users)]
        async with client_for(base, user) as client:
            step = index
            while time.monotonic() < deadline:
                kind, path = user["pages"][step % len(user["pages"])]
                await fetch(client, recorder, kind, path)
                step += 1

    start = time.monotonic()
    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    elapsed = time.monotonic() - start
    times = [s[2] for s in recorder.samples]
    return {
        "concurrency": concurrency,
        "n": len(times),
        "rps": round(len(times) / elapsed, 1),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(percentile(times, 95) * 1000, 1),
        "errors": len(recorder.errors),
    }


async def saturation(base: str, users: list[dict], steps: list[int], seconds: float) -> dict:
    """Concurrency doubling until p95 crosses 1 s: the throughput there (interpolated)."""
    rows = []
    for concurrency in steps:
        rows.append(await closed_loop(base, users, concurrency, seconds))
        if rows[-1]["p95_ms"] > SATURATION_P95 * 1000:
            break
    knee = rows[-1]["rps"]
    if len(rows) > 1 and rows[-1]["p95_ms"] > SATURATION_P95 * 1000:
        lo, hi = rows[-2], rows[-1]
        span = (SATURATION_P95 * 1000 - lo["p95_ms"]) / max(1e-9, hi["p95_ms"] - lo["p95_ms"])
        knee = round(lo["rps"] + span * (hi["rps"] - lo["rps"]), 1)
    crossed = rows[-1]["p95_ms"] > SATURATION_P95 * 1000
    return {"steps": rows, "saturation_rps": knee, "crossed": crossed}


class Tasks:
    """Tasks sent through the queue during the run (as the web nodes enqueue theirs)."""

    def __init__(self, queue_name: str):
        from careops.core.queue import DurableRedisHuey
        from careops.core.tasks import ping_worker

        self.queue = DurableRedisHuey(queue_name, url=REDIS)
        self.queue._registry.register(ping_worker.task_class)
        self.ids: list[int] = []

    def send(self, count: int, hold: float) -> None:
        from careops.core.models import WorkerPing
        from careops.core.tasks import ping_worker

        for _ in range(count):
            ping = WorkerPing.objects.create(requested_by_pid=os.getpid())
            self.queue.enqueue(ping_worker.s(ping.pk, hold=hold))
            self.ids.append(ping.pk)

    def outcome(self, timeout: float = 120) -> dict:
        from careops.core.models import TaskRecord, WorkerPing

        deadline = time.monotonic() + timeout
        pings = WorkerPing.objects.filter(pk__in=self.ids)
        while time.monotonic() < deadline and pings.filter(done=True).count() < len(self.ids):
            time.sleep(0.5)
        runs = list(pings.values_list("runs", flat=True))
        records = TaskRecord.objects.filter(name__endswith="ping_worker")
        return {
            "enqueued": len(self.ids),
            "done": sum(1 for r in runs if r >= 1),
            "lost": sum(1 for r in runs if r == 0),
            "run_twice": sum(1 for r in runs if r > 1),
            "resumed_after_kill": records.filter(attempt__gt=1).count(),
        }


class CpuMeter:
    """CPU seconds spent by each part of the deployment between two readings (``/proc``): the
    web nodes (their process groups), the workers, nginx, the PostgreSQL backends serving the
    benchmark's database, this load generator, and the whole machine (other users included).
    A process that dies between two readings (the killed node) loses its share."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, database: str):
        self.database = database

    @staticmethod
    def _processes() -> dict[int, tuple[int, float]]:
        """pid → (process group, CPU seconds)."""
        out = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                text = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            out[int(entry.name)] = (
                int(fields[2]),
                (int(fields[11]) + int(fields[12])) / CpuMeter.TICK,
            )
        return out

    def _postgres(self) -> set[int]:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
            )
            return {row[0] for row in rows}

    @staticmethod
    def _machine() -> float:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return (sum(values) - values[3] - values[4]) / CpuMeter.TICK  # minus idle and iowait

    def read(self) -> dict:
        return {
            "at": time.monotonic(),
            "procs": self._processes(),
            "pg": self._postgres(),
            "machine": self._machine(),
        }

    def between(self, start: dict, end: dict, groups: dict[str, set[int]]) -> dict[str, float]:
        """CPU seconds per part: ``groups`` maps a part to process groups (or, for "postgres",
        "generator", the pids found at the readings)."""
        spent: dict[str, float] = {}
        pg = start["pg"] | end["pg"]
        for pid, (group, cpu) in end["procs"].items():
            before = start["procs"].get(pid, (group, 0.0))[1]
            part = next((name for name, ids in groups.items() if group in ids), None)
            if pid in pg:
                part = "postgres"
            elif pid == os.getpid():
                part = "generator"
            if part is not None:
                spent[part] = spent.get(part, 0.0) + cpu - before
        spent["machine"] = end["machine"] - start["machine"]
        spent["seconds"] = end["at"] - start["at"]
        return {k: round(v, 2) for k, v in spent.items()}


CPU_PARTS = {
    "web": "nœuds web",
    "postgres": "PostgreSQL",
    "nginx": "nginx",
    "workers": "workers",
    "generator": "générateur",
    "machine": "machine",
}


def per_request(cpu: dict[str, float], requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each part (the whole machine's included)."""
    return {
        part: round(1000 * seconds / max(1, requests), 1)
        for part, seconds in cpu.items()
        if part != "seconds"
    }


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--establishments", type=int, default=3000)
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--think", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=150.0, help="paced run, seconds")
    parser.add_argument("--steps", default="4,8,16,32,64", help="saturation concurrencies")
    parser.add_argument("--step-seconds", type=float, default=15.0)
    parser.add_argument("--database", default=f"{PG}/careops_national")
    parser.add_argument("--reuse", action="store_true", help="keep the previous run's data")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="careops-national-"))
    queue_name = f"national{secrets.token_hex(4)}"
    env = environment(args.database, folder / "data", queue_name)
    (folder / "data").mkdir()
    load_start = loadavg()
    prepared = prepare(args.database, env, args)
    if args.reuse:
        saved = Path(folder.parent).glob("careops-national-*/data/dataset.json")
        latest = max(saved, key=lambda p: p.stat().st_mtime, default=None)
        prepared["dataset"] = json.loads(latest.read_text()) if latest else {}
    users = prepared["journeys"]
    steps = [int(s) for s in args.steps.split(",")]
    results: dict = {"dataset": prepared["dataset"], "load_start": load_start}
    tasks = Tasks(queue_name)

    web = [f"127.0.0.1:{PORTS['web1']}", f"127.0.0.1:{PORTS['web2']}"]
    node_args = ["--workers", "2", "--threads", "4", "--no-access-log"]
    worker_cmd = [sys.executable, "-m", "careops.cli", "careops_worker", "-w", "2"]
    with contextlib.ExitStack() as stack:
        nodes = [stack.enter_context(serve(env, bind, *node_args)) for bind in web]
        workers = []
        for n in (1, 2):
            log = open(folder / f"worker{n}.log", "wb")  # noqa: SIM115 — closed with the stack
            stack.callback(log.close)
            workers.append(
                subprocess.Popen(  # noqa: S603
                    [*worker_cmd, *([] if n == 1 else ["--no-periodic"])],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            stack.callback(stop, workers[-1])
        proxy = stack.enter_context(
            nginx_site(folder / "nginx", web, https_port=PORTS["https"], http_port=PORTS["http"])
        )
        base = proxy.https
        asyncio.run(warm([f"http://{bind}" for bind in web], users))
        killed = {}

        def kill_web():
            os.killpg(nodes[0].process.pid, signal.SIGKILL)
            killed["web"] = time.monotonic()

        def kill_worker():
            os.kill(workers[0].pid, signal.SIGKILL)
            killed["worker"] = time.monotonic()

        def send(count=10, hold=1.0):
            return lambda: tasks.send(count, hold)

        d = args.duration
        events = [(d * k / 10, send()) for k in range(1, 9)]
        # a burst of longer tasks just before the worker dies: some are running when it does
        events += [(d * 0.43, send(10, hold=3.0)), (d * 0.4, kill_web), (d * 0.45, kill_worker)]
        events.sort(key=lambda e: e[0])
        start = time.monotonic()
        meter = CpuMeter(args.database.rsplit("/", 1)[1])
        groups = {
            "web": {node.process.pid for node in nodes},
            "workers": {worker.pid for worker in workers},
            "nginx": {proxy.process.pid},
        }
        before = meter.read()
        recorder = asyncio.run(paced(base, users, d, args.think, events))
        cpu = meter.between(before, meter.read(), groups)
        results["paced"] = {
            "pages": recorder.table(),
            "requests": len(recorder.samples),
            "errors": len(recorder.errors),
            "error_samples": recorder.errors[:5],
            # 0: no answer within the client's 30 s (overload), else the HTTP status
            "error_statuses": dict(
                Counter(e.split(": ", 1)[1].split(" ")[0] for e in recorder.errors)
            ),
            "after_web_kill": sum(1 for s in recorder.samples if s[0] >= killed["web"]),
            "load_end": loadavg(),
            "seconds": round(time.monotonic() - start),
            "cpu_seconds": cpu,
            "cpu_ms_per_request": per_request(cpu, len(recorder.samples)),
        }
        results["tasks"] = tasks.outcome()
        print(json.dumps(results, ensure_ascii=False, indent=1), flush=True)
        # saturation with both nodes: the killed one restarted
        stop(nodes[0].process)
        nodes[0] = stack.enter_context(serve(env, web[0], *node_args))
        asyncio.run(warm([f"http://{web[0]}"], users))
        time.sleep(11)  # nginx's fail_timeout: the restarted node back in the upstream
        groups["web"] = {node.process.pid for node in nodes}
        before = meter.read()
        results["saturation"] = asyncio.run(saturation(base, users, steps, args.step_seconds))
        cpu = meter.between(before, meter.read(), groups)
        served = sum(step["n"] for step in results["saturation"]["steps"])
        results["saturation"]["cpu_ms_per_request"] = per_request(cpu, served)
        results["saturation"]["load_end"] = loadavg()
        print(json.dumps(results["saturation"], indent=1), flush=True)

    if not args.no_baseline:
        # today's single process: careops run (waitress, 8 threads), no worker, same database
        port = PORTS["waitress"]
        log = open(folder / "waitress.log", "wb")  # noqa: SIM115
        run = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "careops.cli", "run", "--no-demo", "--no-worker"]
            + ["--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz", timeout=180, process=run)
            base = f"http://127.0.0.1:{port}"
            asyncio.run(warm([base], users))
            baseline = asyncio.run(paced(base, users, min(d, 60), args.think, []))
            results["baseline_paced"] = {
                "pages": baseline.table(),
                "errors": len(baseline.errors),
            }
            results["baseline_saturation"] = asyncio.run(
                saturation(base, users, steps, args.step_seconds)
            )
            results["baseline_saturation"]["load_end"] = loadavg()
        finally:
            stop(run)
            log.close()
    results["cores"] = os.cpu_count()
    print(json.dumps(results, ensure_ascii=False, indent=1))
    if args.write:
        write_results(results, args)


def shared(cpu: dict | None) -> str:
    """What share of the machine's CPU the benchmark's own processes used during a run."""
    if not cpu or not cpu.get("machine"):
        return ""
    ours = sum(v for k, v in cpu.items() if k in CPU_PARTS and k != "machine")
    share = round(100 * ours / cpu["machine"])
    if share >= 90:
        return " ; rien d'autre ne tournait pendant le parcours rythmé"
    return (
        f" ; pendant le parcours rythmé, les processus de l'essai n'ont pris que {share} % du "
        "CPU consommé sur la machine : le reste revient à d'autres utilisateurs (machine "
        "partagée), les durées en sont allongées"
    )


def write_results(r: dict, args) -> None:
    cores = r["cores"]
    d = r["dataset"]
    lines = [
        "<!-- national:start -->",
        "## Montée en charge avec pannes (national)",
        "",
        f"Machine : {cores} cœurs (charge moyenne 1/5/15 min au début : {r['load_start']} ; "
        f"à la fin du parcours rythmé : {r['paced']['load_end']}). Le générateur de charge "
        f"tourne sur les mêmes cœurs{shared(r['paced'].get('cpu_seconds'))}. Commande : "
        "`python benchmarks/national.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in (
                ("establishments", args.establishments),
                ("findings", args.findings),
                ("users", args.users),
                ("duration", args.duration),
            )
        )
        + (" --reuse" if getattr(args, "reuse", False) else "")
        + " --write`.",
        "",
        "Jeu national (PostgreSQL) : "
        + ", ".join(f"{k} {v}" for k, v in d.items() if k != "seconds")
        + (f" — généré en {d['seconds']} s." if "seconds" in d else "."),
        "",
        f"Déploiement : nginx (`deploy/nginx/careops.conf`, TLS) devant deux nœuds `careops "
        f"serve --workers 2 --threads 4`, deux `careops worker -w 2`, Redis, PostgreSQL. "
        f"{args.users} utilisateurs simulés (3 sur 4 RSSI, 1 sur 4 instructeurs ARS), "
        f"{args.think:g} s de pause (±20 %) entre deux pages, {args.duration:g} s ; à 40 % "
        "du temps un nœud web est tué (SIGKILL), à 45 % un worker.",
        "",
        "| Page | requêtes | p50 (ms) | p95 (ms) | max (ms) | objectif p95 < 300 ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind, row in r["paced"]["pages"].items():
        ok = "oui" if row["p95_ms"] < TARGET_P95 * 1000 else "**non**"
        lines.append(
            f"| {kind} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} | {ok} |"
        )
    p, t = r["paced"], r["tasks"]
    lines += [
        "",
        f"Erreurs : **{p['errors']}** sur {p['requests']} requêtes (par statut, 0 = pas de "
        f"réponse en 30 s : {p.get('error_statuses', {})}) ; {p['after_web_kill']} requêtes "
        "après la mort du nœud web, nginx relayant vers l'autre nœud. Tâches : "
        f"{t['enqueued']} envoyées, {t['done']} exécutées, **{t['lost']} perdues, "
        f"{t['run_twice']} exécutées deux fois** ; {t['resumed_after_kill']} reprises par "
        "l'autre worker après la mort du premier.",
        "",
        "CPU par requête, en ms (lu dans `/proc` : nœuds web, workers, nginx, processus "
        "PostgreSQL de la base de l'essai, générateur de charge ; « machine » : tous les "
        "processus de la machine, autres utilisateurs compris ; le nœud tué à 40 % du parcours "
        "emporte sa part, celle des nœuds web y est donc sous-estimée) :",
        "",
        "| Mesure | " + " | ".join(CPU_PARTS.values()) + " |",
        "|---|" + "---|" * len(CPU_PARTS),
    ]
    for label, cpu in (
        ("parcours rythmé", p.get("cpu_ms_per_request")),
        ("saturation (2 nœuds)", r.get("saturation", {}).get("cpu_ms_per_request")),
    ):
        if cpu:
            lines.append(
                f"| {label} | " + " | ".join(str(cpu.get(k, "—")) for k in CPU_PARTS) + " |"
            )
    lines += [
        "",
        "Débit à saturation (clients sans pause, concurrence croissante, débit où le p95 "
        "franchit 1 s) :",
        "",
        "| Déploiement | concurrence : req/s (p95 ms) | saturation req/s | par cœur |",
        "|---|---|---|---|",
    ]
    for label, key in (
        ("2 nœuds + nginx", "saturation"),
        ("`careops run` seul (waitress), référence", "baseline_saturation"),
    ):
        if key not in r:
            continue
        s = r[key]
        steps = ", ".join(f"{x['concurrency']} : {x['rps']} ({x['p95_ms']})" for x in s["steps"])
        mark = "" if s["crossed"] else " (p95 jamais au-dessus de 1 s : borne basse)"
        lines.append(
            f"| {label} | {steps} | {s['saturation_rps']}{mark} | "
            f"{round(s['saturation_rps'] / cores, 1)} |"
        )
    if "baseline_paced" in r:
        worst = max(v["p95_ms"] for v in r["baseline_paced"]["pages"].values())
        lines += [
            "",
            f"Référence au rythme des utilisateurs (60 s, même charge) : `careops run` seul, "
            f"p95 le plus haut {worst} ms, {r['baseline_paced']['errors']} erreurs.",
        ]
    lines += ["<!-- national:end -->", ""]
    replace_section("national", "\n".join(lines))


if __name__ == "__main__":
    main()
