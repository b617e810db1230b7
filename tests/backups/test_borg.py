"""borg 1.2 on real repositories created by the tests."""

from __future__ import annotations

import os
import subprocess

from careops.backups.engine.borg import BorgRepository
from careops.backups.engine.immutability import probe_borg_append_only
from careops.backups.engine.verify import run_verification
from tests.backups.conftest import PASSWORD, wait_for
from tests.backups.helpers import borg_config, check


def test_borg_freshness_integrity_and_append_only(world):
    config = borg_config(world, data={"cycle": 1}, append_only=True)
    report = run_verification(config)
    repo = report.repositories[0]
    assert repo.tool_version.startswith("1.")
    assert repo.snapshot_count == 2
    assert check(repo, "integrity").status == "ok"
    assert "--verify-data" in check(repo, "integrity").message
    assert check(repo, "append_only").status == "ok"
    systems = {s.name: s for s in report.systems}
    assert systems["dpi"].status == "ok"
    assert systems["rh"].status == "failed"
    assert 71 < systems["rh"].age_hours < 73.5


def test_borg_repository_without_append_only_fails_the_probe(tmp_path):
    repo = BorgRepository(str(tmp_path / "plain"), PASSWORD, base_dir=str(tmp_path / "home"))
    repo.init(append_only=False)
    result = probe_borg_append_only(repo)
    assert result.status == "failed"
    assert "append_only = 0" in result.message


def test_borg_verify_data_catches_a_corrupted_segment(world):
    segments = sorted(
        (p for p in (world / "borg" / "data").rglob("*") if p.is_file() and p.name.isdigit()),
        key=lambda p: p.stat().st_size,
    )
    with open(segments[-1], "r+b") as handle:
        handle.seek(segments[-1].stat().st_size // 2)
        handle.write(b"\xff\x00\xff\x00\xff\x00")
    result = check(
        run_verification(borg_config(world, data={"cycle": 1})).repositories[0], "integrity"
    )
    assert result.status == "failed"


def test_borg_restore_matches_manifest(world, backup_world):
    config = borg_config(
        world,
        structure=False,
        restore={
            "system": "dpi",
            "manifest": "manifest.sha256",
            "source_path": str(backup_world / "data" / "dpi"),
        },
    )
    restored = check(run_verification(config).repositories[0], "restore")
    assert restored.status == "ok", restored.message
    assert restored.details["compared_files"] == 35


def test_borg_wrong_passphrase_missing_and_locked(world, tmp_path):
    (world / "password").write_text("mauvaise\n")
    wrong = check(run_verification(borg_config(world)).repositories[0], "access")
    assert (wrong.status, wrong.details["kind"]) == ("error", "wrong_password")
    assert "phrase secrète" in wrong.message

    (world / "password").write_text(PASSWORD + "\n")
    config = borg_config(world)
    config.repositories[0].location = str(tmp_path / "absent")
    missing = check(run_verification(config).repositories[0], "access")
    assert (missing.status, missing.details["kind"]) == ("error", "missing_repository")

    env = dict(os.environ, BORG_PASSPHRASE=PASSWORD, BORG_BASE_DIR=str(tmp_path / "h2"))
    holder = subprocess.Popen(  # noqa: S603
        ["borg", "with-lock", str(world / "borg"), "cat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_for(lambda: (world / "borg" / "lock.exclusive").exists())
        report = run_verification(borg_config(world))
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    locked = check(report.repositories[0], "access")
    assert (locked.status, locked.details["kind"]) == ("error", "locked")
    assert all(s.status == "error" for s in report.systems)
