"""The ``careops`` command line, run as a user runs it (a subprocess)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "d2-chu-exemple.yaml"


def careops(*args, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "careops.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


# A database that cannot be reached: the commands below must not need one.
NO_DB = {"CAREOPS_DATABASE_URL": "postgres://nobody@127.0.0.1:1/absent"}


def test_shipped_referential_validates():
    result = careops("catalogue", "validate", env_extra=NO_DB)
    assert result.returncode == 0, result.stderr
    assert "Référentiel valide" in result.stdout


def test_malformed_referential_reports_file_and_line(tmp_path):
    bad = tmp_path / "d2-v9.yaml"
    bad.write_text("domain: D2\nversion: '9'\nstatus: published\ntitle: x\nitems: 12\n")
    result = careops("catalogue", "validate", str(bad), env_extra=NO_DB)
    assert result.returncode != 0
    assert f"{bad}:5" in result.stderr


def test_show_lists_domains_without_database():
    result = careops("catalogue", "show", "--json", env_extra=NO_DB)
    assert result.returncode == 0, result.stderr
    domains = {row["domain"] for row in json.loads(result.stdout)}
    assert {"D1", "D2", "D3", "HOSPICONNECT", "AAPMS"} <= domains


def test_evaluate_prints_statuses_and_reasons_as_json_without_database():
    result = careops("evaluate", str(EXAMPLE), "--json", env_extra=NO_DB)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["domain"] == "D2"
    ids = {r["id"] for r in output["results"]}
    assert {"D2.P1", "D2.O1.C", "D2.O4"} <= ids
    for row in output["results"]:
        assert row["status"] in {"met", "not_met", "partial", "missing_evidence", "not_applicable"}
        assert row["reasons"], row


def test_evaluate_refuses_unknown_objective_ids(tmp_path):
    dossier = tmp_path / "dossier.yaml"
    dossier.write_text(
        "domain: D2\ncandidate: {name: CH Test, kind: ej}\nas_of: 2026-02-01\n"
        "evidence:\n  - kind: pssi\n    date: 2024-01-01\n    objective: D2.O9.Z\n",
        encoding="utf-8",
    )
    result = careops("evaluate", str(dossier), env_extra=NO_DB)
    assert result.returncode != 0
    assert "D2.O9.Z" in result.stderr


def test_exposure_scan_starts_without_django():
    """``careops exposure scan`` is the engine alone: no database, and Django is never imported
    (a scan's wall time is the engine's plus a Python start-up)."""
    code = (
        "import sys\n"
        "from careops import cli\n"
        "try:\n"
        "    cli.main(['exposure', 'scan', '127.0.0.1', '--ports', '1', '--allow-private',"
        " '--json'])\n"
        "except SystemExit as exc:\n"
        "    sys.stderr.write(f'exit={exc.code} django={\"django\" in sys.modules}\\n')\n"
    )
    env = {**os.environ, **NO_DB}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert "exit=0 django=False" in result.stderr, result.stderr
    hosts = json.loads(result.stdout)["hosts"]
    assert [h["address"] for h in hosts] == ["127.0.0.1"]
    assert hosts[0]["services"] == []  # port 1 is closed on loopback


def _modules_after(args: list[str]) -> tuple[int, set[str], str]:
    """Run ``careops ARGS`` in a fresh interpreter; its exit code and the heavy modules loaded."""
    code = (
        "import sys\n"
        "from careops import cli\n"
        "try:\n"
        f"    cli.main({args!r})\n"
        "except SystemExit as exc:\n"
        "    heavy = sorted(m for m in ('django', 'huey', 'redis', 'psycopg', 'sslyze')"
        " if m in sys.modules)\n"
        "    sys.stderr.write(f'exit={exc.code} heavy={\",\".join(heavy)}\\n')\n"
    )
    env = {**os.environ, **NO_DB}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    line = [x for x in result.stderr.splitlines() if x.startswith("exit=")][-1]
    exit_code, heavy = line.split(" ")
    loaded = set(filter(None, heavy.removeprefix("heavy=").split(",")))
    return int(exit_code.removeprefix("exit=")), loaded, result.stdout


def test_engine_commands_start_without_django_or_unused_imports(tmp_path):
    code, loaded, out = _modules_after(["evaluate", str(EXAMPLE), "--json"])
    assert (code, loaded) == (0, set()) and json.loads(out)["domain"] == "D2"
    workbook = tmp_path / "bia.xlsx"
    assert _modules_after(["bia", "template", str(workbook), "--exemple"])[:2] == (0, set())
    code, loaded, out = _modules_after(["bia", "analyze", str(workbook), "--json"])
    assert (code, loaded) == (0, set()) and json.loads(out)["valid"] is True
    (tmp_path / "pw").write_text("x\n")
    # a closed LDAPS port: a clear failure, still without Django
    code, loaded, _ = _modules_after(
        ["ad", "collect", "--server", "ldaps://127.0.0.1:1", "--user", "u",
         "--password-file", str(tmp_path / "pw"), "--out", str(tmp_path / "x.json.gz")]
    )  # fmt: skip
    assert (code, loaded) == (1, set())
    code, loaded, _ = _modules_after(["backups", "verify", str(tmp_path / "absent.yaml")])
    assert (code, loaded) == (1, set())


def test_help_is_careops_own_in_french():
    result = careops("--help", env_extra=NO_DB)
    assert result.returncode == 0
    text = result.stdout
    for expected in (
        "Plateforme :",
        "Moteurs d'audit",
        "careops exposure scan",
        "careops ad collect|analyze",
        "careops evaluate DOSSIER",
        "careops backups verify",
        "careops bia template",
        "careops run [--port 8000]",
    ):
        assert expected in text, expected
    assert "careops_run" not in text and "flush" not in text
    # each subcommand describes its options, in French
    ad = careops("ad", "collect", "--help", env_extra=NO_DB)
    assert ad.returncode == 0 and "fichier de collecte" in ad.stdout
    scan = careops("help", "exposure", "scan", env_extra=NO_DB)
    assert (
        scan.returncode == 0 and "--profile" in scan.stdout and "tous les ports TCP" in scan.stdout
    )
    # a Django command's help carries the name users type, not the internal one
    run = careops("run", "--help", env_extra=NO_DB)
    assert run.returncode == 0 and run.stdout.startswith("utilisation : careops run ")
    validate = careops("catalogue", "validate", "--help", env_extra=NO_DB)
    assert validate.stdout.startswith("utilisation : careops catalogue validate")
    assert "affiche cette aide et quitte" in validate.stdout


def test_argument_errors_are_said_in_french(tmp_path):
    missing = careops("maturity", "score", env_extra=NO_DB)
    assert missing.returncode == 2
    assert "careops maturity score : erreur : arguments obligatoires manquants" in missing.stderr
    wrong = careops("exposure", "scan", "--concurrency", "abc", "127.0.0.1", env_extra=NO_DB)
    assert wrong.returncode == 2
    assert "argument --concurrency : valeur invalide : 'abc'" in wrong.stderr
    assert "usage:" not in missing.stderr + wrong.stderr and "error:" not in wrong.stderr
    # a zero or negative pace used to hang the sweep: refused before anything is sent
    for option, value in (("--host-rate", "-5"), ("--rate", "0"), ("--per-host", "0")):
        refused = careops("exposure", "scan", option, value, "127.0.0.1", env_extra=NO_DB)
        assert refused.returncode == 2
        assert f"argument {option} : {value} : nombre strictement supérieur à 0" in refused.stderr
    retries = careops("exposure", "scan", "--retries", "-1", "127.0.0.1", env_extra=NO_DB)
    assert "nombre supérieur ou égal à 0 attendu" in retries.stderr


def test_command_errors_are_french_and_django_commands_pass_through(tmp_path):
    result = careops("bia", "analyze", str(tmp_path / "absent.xlsx"), env_extra=NO_DB)
    assert result.returncode == 1 and "careops bia : Introuvable" in result.stderr
    result = careops("catalogue", "show", "--json", env_extra=NO_DB)  # a Django command, aliased
    assert result.returncode == 0, result.stderr


def test_evaluate_says_non_eligible_before_any_status(tmp_path):
    """Issue 13.11 (PP): a mixed structure cannot apply to D1 bis; evaluate says so first."""
    dossier = tmp_path / "mixte.yaml"
    dossier.write_text(
        "domain: D1BIS\ncandidate: {name: Clinique mixte, kind: ej}\nas_of: 2026-03-02\n"
        "entities:\n"
        '  - {finess: "930000013", level: EG, weight: 1, finess_category: "146"}\n'
        '  - {finess: "930000021", level: EG, weight: 1, finess_category: "365"}\n',
        encoding="utf-8",
    )
    result = careops("evaluate", str(dossier), env_extra=NO_DB)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("Éligibilité : NON ÉLIGIBLE — « non éligible »")
    assert "structure mixte (catégories 146 et 365)" in lines[2]
    assert "Part de financement indicative : 0%" in result.stdout
    assert "part nulle : candidat non éligible au domaine" in result.stdout


def test_run_on_a_busy_port_says_so_in_french_and_fails(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = careops(
            "run",
            "--port",
            str(port),
            "--no-demo",
            env_extra={"CAREOPS_DATA_DIR": str(tmp_path), "CAREOPS_QUEUE_URL": "immediate"},
        )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "écoute sur" not in result.stdout
    assert f"Impossible d'écouter sur 127.0.0.1:{port}" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert "No directory at" not in result.stderr


def test_show_speaks_french(tmp_path):
    result = careops("catalogue", "show", "D2", env_extra=NO_DB)
    assert result.returncode == 0, result.stderr
    assert "[published]" not in result.stdout and "(publiée)" in result.stdout
    assert "guichet candidacy" not in result.stdout
    assert "guichet de candidature" in result.stdout


def test_run_starts_quietly_each_log_line_once(tmp_path):
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CAREOPS_DATA_DIR": str(tmp_path), "CAREOPS_QUEUE_URL": "immediate"}
    env.pop("CAREOPS_DATABASE_URL", None)  # its own SQLite in tmp_path, also in the PostgreSQL run
    process = subprocess.Popen(
        [sys.executable, "-m", "careops.cli", "run", "--port", str(port), "--no-demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if "écoute sur" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    output = "\n".join(lines)
    assert f"careops écoute sur http://127.0.0.1:{port}" in output, output
    assert "No directory at" not in output
    logged = [line.split(" ", 2)[2] for line in lines if line[:2] == "20"]  # without the time
    assert logged and len(logged) == len(set(logged)), output


def test_unknown_commands_and_bare_groups_are_answered_in_french():
    """A newcomer typing a group without its subcommand, or a wrong word, gets French help."""
    bare = careops("remote-access", env_extra=NO_DB)
    assert bare.returncode == 2
    assert "usage : careops remote-access check INVENTAIRE.xlsx" in bare.stderr
    asked = careops("remote-access", "--help", env_extra=NO_DB)
    assert asked.returncode == 0 and "careops remote-access check" in asked.stdout
    typo = careops("remote-access", "chek", env_extra=NO_DB)
    assert typo.returncode == 2 and "sous-commande inconnue « chek »" in typo.stderr
    unknown = careops("frobnicate", env_extra=NO_DB)
    assert unknown.returncode == 1
    assert "commande inconnue « frobnicate »" in unknown.stderr
    assert "Unknown command" not in bare.stderr + typo.stderr + unknown.stderr


def test_django_commands_describe_their_common_options_in_french():
    run = careops("run", "--help", env_extra=NO_DB)
    assert run.returncode == 0
    for french in ("port d'écoute", "niveau de détail", "affiche la pile d'appels complète"):
        assert french in run.stdout, french
    for english in ("Verbosity level", "Show program's version", "Display a full stack trace"):
        assert english not in run.stdout, english
    token = careops("token", "--help", env_extra=NO_DB)
    assert token.returncode == 0 and "Verbosity level" not in token.stdout


def test_output_piped_into_a_reader_that_stops_early_ends_without_a_traceback():
    """``careops evaluate … | head`` : the reader closes the pipe; no Python traceback follows."""
    process = subprocess.Popen(
        [sys.executable, "-m", "careops.cli", "evaluate", str(EXAMPLE), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, **NO_DB},
    )
    process.stdout.close()  # the reader is gone before the first line is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr


def test_refused_django_commands_speak_french_under_the_name_users_type(tmp_path):
    env = {**NO_DB, "CAREOPS_DATA_DIR": str(tmp_path / "data")}
    shown = careops("catalogue", "show", "D9", env_extra=env)
    assert shown.returncode == 1
    assert "careops catalogue : erreur : domaine inconnu : « D9 »" in shown.stderr
    missing = careops("platform", "check", str(tmp_path / "absent"), env_extra=env)
    assert missing.returncode == 1 and "careops platform : erreur :" in missing.stderr
    usage = careops("token", "create", env_extra=env)
    assert usage.returncode == 2
    assert "careops token create : erreur : arguments obligatoires manquants" in usage.stderr
    assert "IDENTIFIANT, --name" in usage.stderr and "username" not in usage.stderr
    for internal in ("CommandError", "careops_token", "careops_platform"):
        assert internal not in shown.stderr + missing.stderr + usage.stderr, internal


def test_evaluate_says_in_french_why_a_dossier_cannot_be_read(tmp_path):
    missing = careops("evaluate", str(tmp_path / "absent.yaml"), env_extra=NO_DB)
    assert missing.returncode == 1 and "absent.yaml: fichier introuvable" in missing.stderr
    binary = tmp_path / "binaire.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    unreadable = careops("evaluate", str(binary), env_extra=NO_DB)
    assert unreadable.returncode == 1 and "texte UTF-8 attendu" in unreadable.stderr
    assert "Errno" not in missing.stderr + unreadable.stderr


def test_careops_run_answers_beyond_a_hundred_idle_browser_connections():
    """Browsers keep their connections open: with 150 idle ones, a new visitor still gets an
    answer (waitress's default limit of 100 left them without one)."""
    import socket
    import threading

    from careops.core.management.commands.careops_run import _listen

    server = _listen("127.0.0.1", 0, 2)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(150)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=20) as visitor:
            visitor.sendall(
                b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert visitor.recv(64).startswith(b"HTTP/1.1 ")
    finally:
        for connection in idle:
            connection.close()
        server.close()
        server.task_dispatcher.shutdown()
