"""Container tooling of the slow deployment tests: podman as this machine needs it, the images
built with the shipped scripts, podman's Docker-compatible API for docker-compose, and the
health checks that podman's systemd timers would run.

This machine (docs/deployment.md, "Conteneurs / Containers"): no overlay (vfs storage), hybrid
cgroups (runc, cgroupfs; crun refuses them), podman's default rlimits above the machine's (they
are lowered), and no systemd as PID 1 (podman cannot create its health-check timers).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.deploy.helpers import ROOT

DEPLOY = ROOT / "deploy"
HELPER_FOLDERS = ("/usr/lib/podman", "/usr/libexec/podman")  # netavark, aardvark-dns
PODMAN_OPTS = ["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"]
SERVICES_IMAGE = "localhost/careops-services:bookworm"
# podman's engine settings for this machine, given to the API service through CONTAINERS_CONF
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
[network]
network_backend = "netavark"
"""


def require_tools(*names: str) -> None:
    """Skip loudly when a tool is missing; fail when CI is set (.ci/run installs them)."""
    helpers = [Path(folder) / name for folder in HELPER_FOLDERS for name in names]
    found = {path.name for path in helpers if path.exists()}
    missing = [name for name in names if shutil.which(name) is None and name not in found]
    if not missing:
        return
    message = f"{', '.join(missing)} absent (paquets Debian de .ci/run)"
    if os.environ.get("CI"):
        pytest.fail(f"OUTILS DE CONTENEURS ABSENTS en CI : {message}")
    pytest.skip(f"!!! OUTILS DE CONTENEURS ABSENTS — {message}")


def podman(*args: str, timeout: float = 600, env: dict[str, str] | None = None):
    return subprocess.run(
        ["podman", *PODMAN_OPTS, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def build(script: str, image: str | None = None) -> None:
    """Run deploy/container/<script> (the image, or the services image) or fail with its output."""
    env = {**os.environ, "PODMAN_OPTS": " ".join(PODMAN_OPTS), "PYTHON": sys.executable}
    if image:
        env["CAREOPS_IMAGE"] = image
    result = subprocess.run(
        ["sh", str(DEPLOY / "container" / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


class ApiService:
    """``podman system service`` on a private socket, with this machine's engine settings."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.socket = folder / "podman.sock"
        self.conf = folder / "containers.conf"
        self.conf.write_text(CONTAINERS_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(self.conf)}
        self.log = folder / "podman-service.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["podman", *PODMAN_OPTS, "system", "service", "--time=0", f"unix://{self.socket}"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"podman system service did not start: {self.log_text()}")
            time.sleep(0.1)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def podman(self, *args: str, timeout: float = 600):
        return podman(*args, timeout=timeout, env=self.env)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


class HealthChecks(threading.Thread):
    """Run the health checks of a compose project's containers at their own interval, as
    podman's systemd timers do on a host with systemd (this machine has none: podman logs
    "unable to get systemd connection to add healthchecks" and the health stays "starting",
    so a ``depends_on: condition: service_healthy`` would wait for ever)."""

    def __init__(self, api: ApiService, project: str):
        super().__init__(daemon=True)
        self.api, self.project = api, project
        self.done = threading.Event()
        self.due: dict[str, float] = {}
        self.interval: dict[str, float | None] = {}
        self.runs = 0

    def _interval(self, container: str) -> float | None:
        if container not in self.interval:
            result = self.api.podman(
                "inspect", "--format", "{{json .Config.Healthcheck}}", container
            )
            if result.returncode != 0:  # gone, or not yet there: asked again next time
                return None
            check = json.loads(result.stdout or "null")
            if not check or not check.get("Test") or check["Test"][0] == "NONE":
                self.interval[container] = None
            else:
                self.interval[container] = (check.get("Interval") or 30e9) / 1e9
        return self.interval[container]

    def run(self) -> None:
        label = f"label=com.docker.compose.project={self.project}"
        while not self.done.wait(1):
            try:
                self._check(label)
            except subprocess.TimeoutExpired:  # a loaded machine: try again at the next turn
                continue

    def _check(self, label: str) -> None:
        listed = self.api.podman("ps", "-q", "--no-trunc", "--filter", label, timeout=120)
        for container in listed.stdout.split():
            interval = self._interval(container)
            if interval is None:
                continue
            now = time.monotonic()
            due = self.due.setdefault(container, now + 2)
            if now >= due:
                self.api.podman("healthcheck", "run", container, timeout=120)
                self.runs += 1
                self.due[container] = time.monotonic() + interval

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=180)
