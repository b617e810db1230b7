"""The systemd units of deploy/systemd: parsed by systemd itself (``systemd-analyze verify``,
drop-in included), hardened (``systemd-analyze security --offline``), account created by
``systemd-sysusers``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.helpers import ROOT

UNITS = ["careops-web.service", "careops-worker.service", "careops-scheduler.service"]
SOURCE = ROOT / "deploy" / "systemd"
ANALYZE = shutil.which("systemd-analyze")

needs_systemd = pytest.mark.skipif(
    ANALYZE is None,
    reason="SYSTEMD-ANALYZE MISSING: install Debian's systemd package (listed in .ci/run)",
)


@pytest.fixture
def unit_dir(tmp_path) -> Path:
    """The shipped units with ExecStart pointing at this checkout's careops (verify checks
    that the program exists), and nothing else changed."""
    folder = tmp_path / "units"
    shutil.copytree(SOURCE, folder)
    careops = Path(sys.executable).with_name("careops")
    for unit in UNITS:
        path = folder / unit
        path.write_text(path.read_text().replace("/opt/careops/venv/bin/careops", str(careops)))
    return folder


def _analyze(unit_dir: Path, *args: str) -> subprocess.CompletedProcess:
    # the trailing ":" keeps systemd's own unit folders after ours (drop-ins load from ours)
    env = {"SYSTEMD_UNIT_PATH": f"{unit_dir}:", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    return subprocess.run([ANALYZE, *args], env=env, capture_output=True, text=True)


@needs_systemd
def test_units_and_their_shared_drop_in_parse_without_a_warning(unit_dir):
    result = _analyze(unit_dir, "verify", "--man=no", *UNITS)
    assert result.returncode == 0 and result.stderr == "", result.stderr


@needs_systemd
def test_the_shared_drop_in_is_read(unit_dir):
    """A mistake in the drop-in is reported: the units above were checked with it."""
    drop_in = unit_dir / "careops-.service.d" / "10-careops.conf"
    drop_in.write_text(drop_in.read_text() + "ProtectSystem=sometimes\n")
    result = _analyze(unit_dir, "verify", "--man=no", UNITS[0])
    assert "10-careops.conf" in result.stderr and "sometimes" in result.stderr


@needs_systemd
@pytest.mark.parametrize("unit", UNITS)
def test_units_are_hardened(unit_dir, unit):
    result = _analyze(unit_dir, "security", "--offline=true", unit)
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert level, result.stdout + result.stderr
    assert float(level.group(1)) <= 2.0, result.stdout  # systemd calls ≤ 2 "OK"
    text = (unit_dir / "careops-.service.d" / "10-careops.conf").read_text()
    for setting in (
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/careops",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "User=careops",
    ):
        assert setting in text


def test_the_service_account_is_created_by_sysusers(tmp_path):
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is None:
        pytest.skip("SYSTEMD-SYSUSERS MISSING: install Debian's systemd package")
    (tmp_path / "etc").mkdir()
    subprocess.run(
        [sysusers, f"--root={tmp_path}", str(SOURCE / "careops.sysusers.conf")],
        check=True,
        capture_output=True,
    )
    entry = next(
        line
        for line in (tmp_path / "etc" / "passwd").read_text().splitlines()
        if line.startswith("careops:")
    )
    assert entry.endswith(":/var/lib/careops:/usr/sbin/nologin")
