"""The compose stack for real (slow): deploy/compose.yaml as shipped, brought up by Debian's
docker-compose 1.29 against podman's Docker-compatible API (rootful, runc, netavark), with the
images of the shipped build scripts. The web container answers /readyz and the login page
through its published port, a task enqueued in the web container is run by the worker
container, and ``down -v`` removes everything.

Needs the Debian packages podman, runc, buildah, mmdebstrap, netavark, aardvark-dns and
docker-compose (.ci/run), and root (rootful podman: port publication, bridge network)."""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.deploy.containers import (
    DEPLOY,
    ApiService,
    HealthChecks,
    build,
    require_tools,
)
from tests.deploy.helpers import wait_for

pytestmark = pytest.mark.slow

PROJECT = "careopstest"  # not "careops": an operator's stack on this machine stays untouched
HOST = "careops.test"
CAREOPS_UID = 10001  # the image's user (deploy/Containerfile)
# what the host's nginx sends (deploy/nginx/careops-proxy.conf)
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
PING = """
import socket, time
from careops.core.models import WorkerPing
from careops.core.tasks import ping_worker
ping = WorkerPing.objects.create(requested_by_pid=0)
ping_worker(ping.pk)
deadline = time.monotonic() + 300
while not ping.done and time.monotonic() < deadline:
    time.sleep(0.2)
    ping.refresh_from_db()
print(f"PING done={ping.done} worker={ping.worker_host} web={socket.gethostname()}")
"""


def publish_address() -> str:
    """CAREOPS_COMPOSE_TEST_PUBLISH, else the shipped 127.0.0.1:8000 when free, else a free port
    (8000 is `careops run`'s default: a developer's instance may hold it)."""
    if os.environ.get("CAREOPS_COMPOSE_TEST_PUBLISH"):
        return os.environ["CAREOPS_COMPOSE_TEST_PUBLISH"]
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8000))
            return "127.0.0.1:8000"
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return f"127.0.0.1:{probe.getsockname()[1]}"


def write_secrets(folder: Path) -> None:
    """deploy/compose.yaml's secret files, as docs/deployment.md tells an operator to make them."""
    folder.mkdir(mode=0o700)
    password = secrets.token_urlsafe(24)
    values = {
        "secret_key": secrets.token_urlsafe(64),
        "encryption_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "database_url": f"postgres://careops:{password}@postgres:5432/careops",
        "postgres_password": password,
    }
    for name, value in values.items():
        path = folder / name
        path.write_text(value)
        path.chmod(0o600)
        if name != "postgres_password":  # read by root in the PostgreSQL container
            os.chown(path, CAREOPS_UID, CAREOPS_UID)


@pytest.fixture
def stack_folder(tmp_path):
    """The shipped compose file and .env, copied with their secrets into a folder of their own."""
    folder = tmp_path / "stack"
    folder.mkdir()
    for name in ("compose.yaml", ".env"):
        shutil.copy(DEPLOY / name, folder / name)
    write_secrets(folder / "secrets")
    return folder


@pytest.fixture
def api():
    folder = Path(tempfile.mkdtemp(prefix="careops-podman-"))  # short: a socket path
    service = ApiService(folder)
    yield service
    service.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_the_compose_stack_serves_and_runs_tasks(careops_image, stack_folder, api):
    require_tools("docker-compose", "netavark", "aardvark-dns", "iptables")
    if os.geteuid() != 0:
        message = "la pile compose de test a besoin de podman en root (réseau, ports publiés)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(f"!!! {message}")
    build("build-services.sh")  # layers cached by podman: quick when nothing changed
    publish = publish_address()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREOPS_", "COMPOSE_"))}
    env.update(
        DOCKER_HOST=api.docker_host,
        COMPOSE_HTTP_TIMEOUT="600",  # a loaded 2-core machine: stopping five containers is slow
        CAREOPS_IMAGE=careops_image,
        CAREOPS_HOST=HOST,
        CAREOPS_WEB_PUBLISH=publish,
        # the compose network's gateway: netavark's networks are 10.89.N.0/24
        CAREOPS_PROXY_ADDRESS="10.89.0.0/16",
    )

    def compose(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker-compose", "-p", PROJECT, *args],
            cwd=stack_folder, env=env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    checks = HealthChecks(api, PROJECT)
    checks.start()
    try:
        up = compose("up", "-d")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:] + api.log_text()
        services = set(compose("ps", "--services", "--filter", "status=running").stdout.split())
        assert services == {"web", "worker", "scheduler", "postgres", "redis"}

        base = f"http://{publish}"
        wait_for(f"{base}/healthz", timeout=300, headers=PROXY_HEADERS)
        ready = httpx.get(f"{base}/readyz", headers=PROXY_HEADERS, timeout=30)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok", "queue": "ok", "cache": "ok", "storage": "ok",
        }  # fmt: skip
        login = httpx.get(f"{base}/accounts/login/", headers=PROXY_HEADERS, timeout=30)
        assert login.status_code == 200
        assert 'name="password"' in login.text

        # a task enqueued in the web container, run by the worker container (Redis between them)
        ping = compose("exec", "-T", "web", "careops", "shell", "-c", PING, timeout=600)
        assert ping.returncode == 0, ping.stdout[-2000:] + ping.stderr[-2000:]
        found = re.search(r"PING done=(\w+) worker=(\S*) web=(\S+)", ping.stdout)
        assert found, ping.stdout
        worker_id = compose("ps", "-q", "worker").stdout.strip()
        assert found.group(1) == "True", ping.stdout
        assert found.group(2) == worker_id[:12] != found.group(3)
    finally:
        checks.stop()
        down = compose("down", "-v", timeout=1200)
        left = api.podman(
            "ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"
        ).stdout.split()
        if left:  # never leave the next run a half-removed stack
            api.podman("rm", "-f", *left)
    assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
    assert not left
    volumes = api.podman("volume", "ls", "-q").stdout.split()
    assert not [name for name in volumes if name.startswith(f"{PROJECT}_")]
    assert checks.runs > 0  # the health checks ran (service_healthy was really waited for)
