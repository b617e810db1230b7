"""MariaDB named from what it sends, against the real server on loopback: its greeting, and the
error packet it sends an address it does not know ("Host … is not allowed to connect to this
MariaDB server", what an internet scanner usually gets)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time

import pytest

from careops.exposure.engine.scanner import ScanOptions, identify
from tests.exposure.conftest import need
from tests.exposure.test_engine_units import NOW

SERVER = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL = shutil.which("mariadb-install-db")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mariadb_datadir(tmp_path_factory):
    need("" if os.path.exists(SERVER) and INSTALL else "mariadb-server absent (voir .ci/run)")
    need("" if os.geteuid() == 0 else "mariadbd --user=root exige root")
    datadir = tmp_path_factory.mktemp("mariadb") / "data"
    subprocess.run(
        [INSTALL, "--no-defaults", f"--datadir={datadir}", "--user=root", "--skip-test-db"],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return datadir


def _serve(datadir, *extra: str):
    port = _free_port()
    process = subprocess.Popen(
        [SERVER, "--no-defaults", f"--datadir={datadir}", f"--port={port}",
         "--bind-address=127.0.0.1", f"--socket={datadir}/mysqld.sock",
         f"--pid-file={datadir}/mysqld.pid", "--user=root", "--skip-log-bin", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    end = time.monotonic() + 60
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        if process.poll() is not None:
            pytest.fail("mariadbd s'est arrêté au démarrage")
        time.sleep(0.1)
    process.kill()
    pytest.fail("mariadbd n'écoute pas après 60 s")


@pytest.mark.parametrize("refused", [False, True])
def test_mariadb_is_named_from_its_greeting_or_its_refusal(mariadb_datadir, refused):
    # --skip-name-resolve: 127.0.0.1 matches no account (root@localhost only) → error 1130
    process, port = _serve(mariadb_datadir, *(["--skip-name-resolve"] if refused else []))
    try:
        service = asyncio.run(identify("127.0.0.1", port, None, ScanOptions(), NOW))
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert (service.service, service.product) == ("mysql", "MariaDB")
    if refused:
        assert service.details["refused"] == 1130 and "MariaDB server" in service.banner
        assert service.confidence == "medium"
    else:
        assert service.version.startswith("10.") and service.confidence == "high"
        assert service.cpe.startswith("cpe:2.3:a:mariadb:mariadb:10.")
