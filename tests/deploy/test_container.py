"""Container files: the Containerfile and the compose file parsed and checked, the entry point
run directly, and (slow) the image built without any registry and answering /healthz."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deploy.helpers import ROOT, base_env, stop, wait_for

DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "container" / "entrypoint.sh"
INSTRUCTIONS = {
    "FROM", "ARG", "RUN", "COPY", "ENV", "USER", "WORKDIR", "VOLUME", "EXPOSE",
    "HEALTHCHECK", "ENTRYPOINT", "CMD",
}  # fmt: skip


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Containerfile, continuation lines joined."""
    logical, current = [], ""
    for line in path.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            logical.append(current.strip())
            current = ""
    assert not current, "unterminated continuation line"
    return [(text.split(None, 1)[0], text.split(None, 1)[1]) for text in logical]


@pytest.mark.parametrize("name", ["Containerfile", "container/Containerfile.services"])
def test_containerfiles_parse_and_copy_only_what_the_build_provides(name):
    steps = instructions(DEPLOY / name)
    assert {kind for kind, _ in steps} <= INSTRUCTIONS
    assert steps[0] == ("ARG", "BASE=localhost/careops-base:bookworm")
    assert steps[1] == ("FROM", "${BASE}")  # built from Debian's archive, never a registry
    for kind, args in steps:
        if kind == "COPY":
            source = args.split()[0]
            # build/ is made by the build script; the rest ships in deploy/
            assert source.startswith("build/") or (DEPLOY / source).exists(), source


def test_the_image_runs_unprivileged_behind_tini_with_a_health_check():
    steps = dict(instructions(DEPLOY / "Containerfile"))
    assert steps["USER"] == "10001:10001"
    assert json.loads(steps["ENTRYPOINT"]) == [
        "/usr/bin/tini",
        "--",
        "/usr/local/bin/careops-entrypoint",
    ]
    assert json.loads(steps["CMD"]) == ["serve"]
    assert "/healthz" in steps["HEALTHCHECK"]
    assert "--no-index" in steps["RUN"]  # nothing downloaded while building


def test_base_packages_are_listed_with_their_reason():
    for line in (DEPLOY / "container" / "base-packages.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            package, _, reason = line.partition("#")
            assert package.strip() and reason.strip(), line


def test_compose_file_describes_the_production_services():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "scheduler", "postgres", "redis", "s3"}
    for name, service in services.items():
        assert service["image"].startswith("localhost/"), name  # no registry
        for dependency in service.get("depends_on", {}):
            assert dependency in services
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"]
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"]
    web = services["web"]
    assert web["command"][0] == "serve" and web["ports"] == ["127.0.0.1:8000:8000"]
    assert "/readyz" in " ".join(web["healthcheck"]["test"])
    assert services["worker"]["command"][-1] == "--no-periodic"
    assert services["scheduler"]["command"] == ["scheduler"]
    environment = web["environment"]
    assert environment["CAREOPS_ENV"] == "production"
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL"):
        assert environment[f"CAREOPS_{name}_FILE"].startswith("/run/secrets/")


def _entrypoint_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = base_env(tmp_path, **extra)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    return env


def test_entrypoint_passes_any_command_to_careops(tmp_path):
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "serve", "--print-config"],
        env=_entrypoint_env(tmp_path, CAREOPS_WEB_BIND="0.0.0.0:8000"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["settings"]["bind"] == ["0.0.0.0:8000"]


def test_entrypoint_migrates_then_serves_a_ready_node(tmp_path):
    env = _entrypoint_env(
        tmp_path,
        CAREOPS_MIGRATE_ON_START="1",
        CAREOPS_WEB_BIND="127.0.0.1:18104",
        CAREOPS_WEB_WORKERS="1",
        CAREOPS_WEB_THREADS="2",
    )
    with open(tmp_path / "entrypoint.log", "wb") as log:
        process = subprocess.Popen(
            ["sh", str(ENTRYPOINT)], env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for("http://127.0.0.1:18104/healthz", timeout=600, process=process)
        ready = httpx.get("http://127.0.0.1:18104/readyz", timeout=30)
    finally:
        stop(process)
    assert ready.status_code == 200, ready.text


PODMAN_OPTS = "--storage-driver vfs --cgroup-manager cgroupfs"


@pytest.mark.slow
def test_the_image_builds_without_a_registry_and_answers_healthz(tmp_path):
    missing = [t for t in ("podman", "mmdebstrap", "runc") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"CONTAINER TOOLING MISSING: {', '.join(missing)} (apt packages in .ci/run)")
    image = "localhost/careops:test"
    env = {**os.environ, "PODMAN_OPTS": PODMAN_OPTS, "CAREOPS_IMAGE": image}
    env["PYTHON"] = sys.executable
    build = subprocess.run(
        ["sh", str(DEPLOY / "container" / "build.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    name = f"careops-test-{os.getpid()}"
    # runc, not crun (crun refuses hybrid cgroups); --ulimit: podman's default limits are above
    # what this machine grants, lowering them is allowed (docs/deployment.md, "Conteneurs")
    run = subprocess.run(
        ["podman", *PODMAN_OPTS.split(), "--runtime", "runc", "run", "-d", "--rm", "--name", name]
        + ["--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
        + ["-e", "CAREOPS_WEB_BIND=127.0.0.1:18105", "-e", "CAREOPS_WEB_WORKERS=1", image],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    try:
        answer = wait_for("http://127.0.0.1:18105/healthz", timeout=300)
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    finally:
        subprocess.run(
            ["podman", *PODMAN_OPTS.split(), "rm", "-f", name], capture_output=True, timeout=300
        )
