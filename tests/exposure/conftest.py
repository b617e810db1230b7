"""Exposure fixtures: the network-namespace lab (real nginx, OpenSSH, Redis, dcmtk, nftables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exposure import lab as lab_module

REPO = Path(__file__).resolve().parents[2]
# CISA's KEV catalogue of 2025-08-25 (public), shipped compressed with the tests
KEV_FILE = Path(
    os.environ.get(
        "CAREOPS_KEV_FILE",
        Path(__file__).with_name("data") / "known_exploited_vulnerabilities-2025-08-25.json.xz",
    )
)
NVD_SAMPLE = Path(__file__).with_name("data") / "nvd-sample.json"


def need(reason: str) -> None:
    """Skip loudly when a real component cannot exist here; fail instead under CI."""
    if not reason:
        return
    if os.environ.get("CI"):
        pytest.fail(f"composant réel indisponible en CI : {reason}")
    pytest.skip(f"!!! COMPOSANT RÉEL INDISPONIBLE : {reason} !!!")


@pytest.fixture(scope="session")
def kev_file() -> Path:
    need("" if KEV_FILE.exists() else f"instantané KEV absent ({KEV_FILE})")
    return KEV_FILE


@pytest.fixture(scope="session")
def vulndb_path(tmp_path_factory, kev_file) -> Path:
    from careops.exposure.engine.vulndb import import_feeds

    path = tmp_path_factory.mktemp("vulndb") / "vulndb.sqlite3"
    import_feeds(path, [kev_file], [NVD_SAMPLE])
    return path


@pytest.fixture(scope="session")
def lab():
    need(lab_module.available())
    running = lab_module.build()
    try:
        yield running
    finally:
        running.stop()


def cli_in_lab(lab, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``careops`` inside the lab's scanner namespace."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "careops.settings"}
    return subprocess.run(
        [*lab.exec_args("scanner"), sys.executable, "-m", "careops.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


@pytest.fixture(scope="session")
def lab_scan(lab, vulndb_path) -> dict:
    """One engine run over the three lab hosts, through the CLI, as JSON."""
    ports = "22,80,104,443,445,2575,3389,6379,8080,11112,9998,9999,27017"
    done = cli_in_lab(
        lab,
        "exposure",
        "scan",
        lab.legacy,
        lab.dropping,
        lab.modern,
        "--ports",
        ports,
        "--allow-private",
        "--json",
        "--vulndb",
        str(vulndb_path),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
