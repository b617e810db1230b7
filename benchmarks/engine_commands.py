"""Engine commands start like ``exposure scan``: without Django, importing only what they use.

    python benchmarks/engine_commands.py [--write] [--runs 7]

For each command, the whole process (``python -m careops.cli …``, as a user runs it) against the
same command run in-process once its modules are imported (the work alone): the difference is
what starting costs (Python, imports). Target (issue 14 item 7): at most 0.3 s. Runs alternated,
medians, load average noted. ``ad collect`` is measured against a closed LDAPS port (its work is
a refused connection: the figure is its start-up); ``backups verify`` on a fresh local restic
repository with one snapshot.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def process(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "careops.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    return time.perf_counter() - started


def in_process(args: list[str]) -> float:
    from careops import cli

    started = time.perf_counter()
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        contextlib.suppress(SystemExit),
    ):
        cli.main(list(args))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="careops-bench-cmd-"))
    env = {
        **os.environ,
        "CAREOPS_DATA_DIR": str(work / "data"),
        "CAREOPS_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    os.environ.update({k: env[k] for k in ("CAREOPS_DATA_DIR", "CAREOPS_DATABASE_URL")})
    try:
        workbook = work / "bia.xlsx"
        subprocess.run(
            [sys.executable, "-m", "careops.cli", "bia", "template", str(workbook), "--exemple"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
        )
        cases = [
            ("evaluate", ["evaluate", "docs/examples/d2-chu-exemple.yaml", "--json"]),
            ("bia analyze", ["bia", "analyze", str(workbook), "--json"]),
            (
                "ad collect (port fermé)",
                [
                    "ad",
                    "collect",
                    "--server",
                    "ldaps://127.0.0.1:1",
                    "--user",
                    "u",
                    "--password-file",
                    str(work / "pw"),
                    "--out",
                    str(work / "x.json.gz"),
                ],
            ),  # fmt: skip
        ]
        (work / "pw").write_text("secret\n")
        if shutil.which("restic"):
            repo = work / "restic"
            renv = {**env, "RESTIC_PASSWORD": "secret"}
            subprocess.run(["restic", "init", "--repo", str(repo)], env=renv, check=True,
                           capture_output=True)  # fmt: skip
            subprocess.run(["restic", "backup", "--repo", str(repo), str(REPO / "docs")],
                           env=renv, check=True, capture_output=True)  # fmt: skip
            config = work / "backups.yaml"
            config.write_text(
                f"repositories:\n  - name: r\n    driver: restic\n    location: {repo}\n"
                f"    password_file: {work / 'pw'}\n"
            )
            cases.append(("backups verify", ["backups", "verify", str(config), "--json"]))
        load_before = os.getloadavg()
        rows = []
        for label, args in cases:
            in_process(args)  # imports once: later in-process runs are the work alone
            procs, works = [], []
            for _ in range(options.runs):
                procs.append(process(args, env))
                works.append(in_process(args))
            p, w = statistics.median(procs), statistics.median(works)
            rows.append((label, p, w, p - w))
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "## Démarrage des commandes des moteurs (issue 14, point 7)",
        "",
        f"Machine : 2 cœurs partagés (charge 1/5/15 min avant : {', '.join(f'{x:.2f}' for x in load_before)} ; "
        f"après : {', '.join(f'{x:.2f}' for x in load_after)}). Commande : `python benchmarks/engine_commands.py --write` "
        f"({time.strftime('%Y-%m-%d %H:%M')}). Médianes de {options.runs} mesures alternées. Processus = `python -m careops.cli …` "
        "complet ; travail = la même commande dans un processus où ses modules sont déjà importés. Aucune n'importe Django.",
        "",
        "| commande | processus | travail | démarrage (écart) | cible ≤ 0,3 s |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| `{label}` | {p:.3f} s | {w:.3f} s | {d:.3f} s | {'atteinte' if d <= 0.3 else 'NON atteinte'} |"
            for label, p, w, d in rows
        ],
    ]
    section = "\n".join(lines)
    print(section)
    if options.write:
        path = REPO / "benchmarks" / "RESULTS.md"
        text = path.read_text(encoding="utf-8")
        block = f"<!-- engine-commands:start -->\n{section}\n<!-- engine-commands:end -->"
        pattern = re.compile(r"<!-- engine-commands:start -->.*?<!-- engine-commands:end -->", re.S)
        text = (
            pattern.sub(lambda _m: block, text)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + block + "\n"
        )
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
