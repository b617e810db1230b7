"""Real restic and borg repositories, and a moto S3 server on loopback, for the backup tests."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from careops.backups.engine import restore
from careops.backups.engine.borg import BorgRepository
from careops.backups.engine.restic import ResticRepository

PASSWORD = "mot-de-passe-du-dépôt-2026"


def require_tool(name: str) -> str:
    """The tool's path; without it, skip loudly (fail when CI is set)."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} absent : installer le paquet Debian « {name} » (.ci/run le fait)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip("OUTIL ABSENT — " + message)


def make_data(root: Path, seed: int = 7) -> Path:
    """A small hospital-like tree: imaging, a database dump, reports (~1.5 MiB)."""
    rng = random.Random(seed)
    for folder in ("imaging", "db", "docs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for i in range(4):
        (root / "imaging" / f"img_{i}.dcm").write_bytes(rng.randbytes(256 * 1024))
    (root / "db" / "dpi.dump").write_bytes(rng.randbytes(400 * 1024))
    for i in range(30):
        (root / "docs" / f"cr_{i}.txt").write_text(f"patient={i};ipp={rng.randint(1, 10**6)}\n")
    return root


@pytest.fixture(scope="session")
def backup_world(tmp_path_factory):
    """One restic and one borg repository: a fresh system (app01) and a stale one (old01)."""
    require_tool("restic")
    require_tool("borg")
    base = tmp_path_factory.mktemp("backups")
    data = make_data(base / "data" / "dpi")
    stale_data = make_data(base / "data" / "rh", seed=9)
    (base / "manifest.sha256").write_text(restore.write_manifest(restore.build_manifest(data)))
    (base / "password").write_text(PASSWORD + "\n")
    # restic reads --time in local time, borg reads --timestamp in UTC.
    three_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    local = three_days_ago.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    utc = three_days_ago.strftime("%Y-%m-%dT%H:%M:%S")
    restic = ResticRepository(str(base / "restic"), PASSWORD)
    restic.init()
    restic.backup([str(stale_data)], host="old01", tags=["rh"], when=local)
    restic.backup([str(data)], host="app01", tags=["dpi"])
    borg = BorgRepository(str(base / "borg"), PASSWORD, base_dir=str(base / "borg-home"))
    borg.init(append_only=True)
    borg.backup("rh-1", [str(stale_data)], when=utc)
    borg.backup("dpi-1", [str(data)])
    return base


@pytest.fixture
def world(backup_world, tmp_path):
    """A private copy of the session repositories (tests may corrupt or lock them)."""
    for name in ("restic", "borg", "data", "manifest.sha256", "password"):
        source = backup_world / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, symlinks=True)
        else:
            shutil.copy2(source, tmp_path / name)
    return tmp_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """A moto S3 server on 127.0.0.1 (an emulator of the Object Lock API)."""
    try:
        import moto.server  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("moto[server] absent (dépendance de test)")
        pytest.skip("OUTIL ABSENT — moto[server] non installé : pip install -e '.[test]'")
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()  # noqa: S310
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("le serveur moto n'a pas démarré en 30 s")
            time.sleep(0.1)  # bounded polling of the server's readiness
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate, timeout: float = 20.0) -> None:
    """Poll ``predicate`` until true (bounded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition non atteinte dans le délai")
        time.sleep(0.05)
