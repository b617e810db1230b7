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

from tests.deploy.containers import podman, require_tools
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
        image = service["image"].replace("${CAREOPS_IMAGE:-", "").rstrip("}")
        assert image.startswith("localhost/"), name  # no registry
        for dependency in service.get("depends_on", {}):
            assert dependency in services
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"]
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"]
    web = services["web"]
    assert web["command"][0] == "serve"
    # published on the host's loopback for its nginx unless CAREOPS_WEB_PUBLISH says otherwise
    assert web["ports"] == ["${CAREOPS_WEB_PUBLISH:-127.0.0.1:8000}:8000"]
    assert "/readyz" in " ".join(web["healthcheck"]["test"])
    assert services["worker"]["command"][-1] == "--no-periodic"
    assert services["scheduler"]["command"] == ["scheduler"]
    environment = web["environment"]
    assert environment["CAREOPS_ENV"] == "production"
    for name in ("SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL"):
        assert environment[f"CAREOPS_{name}_FILE"].startswith("/run/secrets/")


def test_compose_file_suits_docker_compose_1_29_and_podman():
    """What compose 1.29 and podman 4.3's Docker API need (docs/deployment.md, "Conteneurs")."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert "name" not in compose  # compose 1.29 refuses it: the name is in deploy/.env
    assert "COMPOSE_PROJECT_NAME=careops" in (DEPLOY / ".env").read_text().splitlines()
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test", ["NONE"])
        if test[0] == "CMD":  # podman's Docker API splits CMD arguments at spaces
            assert not any(" " in argument for argument in test), name
    for name in ("worker", "scheduler"):  # the image's check is the web server's /healthz
        assert compose["services"][name]["healthcheck"] == {"disable": True}


def test_docker_compose_accepts_the_compose_file(tmp_path):
    require_tools("docker-compose")
    for name in ("compose.yaml", ".env"):
        shutil.copy(DEPLOY / name, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREOPS_", "COMPOSE_"))}
    result = subprocess.run(
        ["docker-compose", "config"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    web = config["services"]["web"]
    assert web["image"] == "localhost/careops:latest"
    assert web["ports"] == ["127.0.0.1:8000:8000/tcp"]  # the default: the host's loopback
    assert config["services"]["worker"]["depends_on"] == {"web": {"condition": "service_healthy"}}


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


@pytest.mark.slow
def test_the_image_builds_without_a_registry_and_answers_healthz(careops_image):
    name = f"careops-test-{os.getpid()}"
    # runc, not crun (crun refuses hybrid cgroups); --ulimit: podman's default limits are above
    # what this machine grants, lowering them is allowed (docs/deployment.md, "Conteneurs")
    run = podman(
        *["--runtime", "runc", "run", "-d", "--rm", "--name", name, "--network", "host"],
        *["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"],
        *["-e", "CAREOPS_WEB_BIND=127.0.0.1:18105", "-e", "CAREOPS_WEB_WORKERS=1", careops_image],
    )
    assert run.returncode == 0, run.stderr
    try:
        answer = wait_for("http://127.0.0.1:18105/healthz", timeout=300)
        assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    finally:
        podman("rm", "-f", "-v", name, timeout=300)  # -v: the image's VOLUME too
