"""restic (Debian 12: 0.14) on real repositories created by the tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from careops.backups.engine.verify import VerifyState, run_verification
from tests.backups.conftest import PASSWORD, wait_for
from tests.backups.helpers import check, restic_config

DATA = "data/dpi"


def test_fresh_system_passes_and_stale_snapshot_beyond_rpo_fails(world):
    report = run_verification(restic_config(world))
    repo = report.repositories[0]
    assert repo.snapshot_count == 2
    assert check(repo, "access").status == "ok"
    assert check(repo, "integrity").status == "ok"
    systems = {s.name: s for s in report.systems}
    assert systems["dpi"].status == "ok"
    assert systems["dpi"].age_hours < 1
    stale = check(systems["rh"], "freshness")
    assert stale.status == "failed"
    assert "au-delà de la PDMA" in stale.message
    assert 71 < systems["rh"].age_hours < 73


def _corrupt_one_pack(world: Path) -> None:
    packs = sorted(p for p in (world / "restic" / "data").rglob("*") if p.is_file())
    biggest = max(packs, key=lambda p: p.stat().st_size)
    with open(biggest, "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02\x03\x04\x05")


def test_rotating_data_subsets_catch_a_corrupted_pack_within_one_cycle(world):
    _corrupt_one_pack(world)
    config = restic_config(world, data={"cycle": 3})
    state = VerifyState()
    outcomes = []
    for _ in range(3):
        report = run_verification(config, state=state)
        outcomes.append(check(report.repositories[0], "integrity"))
    assert [o.details["subset"] for o in outcomes] == ["1/3", "2/3", "3/3"]
    assert outcomes[-1].details["cycle_coverage"] == 1.0
    failed = [o for o in outcomes if o.status == "failed"]
    assert failed, "la corruption n'a pas été détectée sur un cycle complet"
    assert "erreurs d'intégrité" in failed[0].message


def test_state_file_advances_the_subset_between_runs(world):
    config = restic_config(world, data={"cycle": 2})
    first = check(run_verification(config).repositories[0], "integrity")
    second = check(run_verification(config).repositories[0], "integrity")
    assert (first.details["subset"], second.details["subset"]) == ("1/2", "2/2")
    assert first.status == second.status == "ok"


def test_restore_matches_the_backup_time_manifest(world):
    config = restic_config(
        world,
        structure=False,
        restore={"system": "dpi", "manifest": "manifest.sha256", "target": "scratch"},
    )
    report = run_verification(config)
    restored = check(report.repositories[0], "restore")
    assert restored.status == "ok", restored.message
    assert restored.details["compared_files"] == 35
    assert restored.details["restore_seconds"] > 0
    assert "empreintes SHA-256 identiques" in restored.message
    dpi = next(s for s in report.systems if s.name == "dpi")
    assert check(dpi, "restore").status == "ok"


def test_restore_detects_a_file_differing_from_the_manifest(world):
    manifest = (world / "manifest.sha256").read_text().splitlines()
    manifest[0] = "0" * 64 + manifest[0][64:]
    (world / "manifest.sha256").write_text("\n".join(manifest) + "\n")
    config = restic_config(
        world, structure=False, restore={"system": "dpi", "manifest": "manifest.sha256"}
    )
    restored = check(run_verification(config).repositories[0], "restore")
    assert restored.status == "failed"
    assert "1 fichier(s) différent(s)" in restored.message


def test_restore_from_a_corrupted_repository_says_the_data_is_damaged(world):
    """A damaged pack is a failed restore whose message names the damage, not just a code."""
    _corrupt_one_pack(world)
    config = restic_config(
        world, structure=False, restore={"system": "dpi", "manifest": "manifest.sha256"}
    )
    report = run_verification(config)
    restored = check(report.repositories[0], "restore")
    assert restored.status == "failed"
    assert "données du dépôt altérées" in restored.message
    assert "restic check --read-data" in restored.message
    dpi = next(s for s in report.systems if s.name == "dpi")
    assert check(dpi, "restore").status == "failed"


def test_restore_to_a_failing_target_is_a_failure_not_a_success(world):
    (world / "not-a-folder").write_text("un fichier bloque la cible")
    config = restic_config(
        world,
        structure=False,
        restore={"system": "dpi", "manifest": "manifest.sha256", "target": "not-a-folder/sub"},
    )
    restored = check(run_verification(config).repositories[0], "restore")
    assert restored.status == "failed"
    assert "restauration impossible" in restored.message


def test_wrong_password_verifies_nothing(world):
    (world / "password").write_text("pas-le-bon\n")
    report = run_verification(restic_config(world, data={"cycle": 1}))
    repo = report.repositories[0]
    assert [c.name for c in repo.checks] == ["access"]
    assert repo.checks[0].status == "error"
    assert "mot de passe du dépôt refusé" in repo.checks[0].message
    assert all(s.status == "error" for s in report.systems)
    assert all("non vérifié" in s.checks[0].message for s in report.systems)


def test_missing_repository_is_reported_in_french(world, tmp_path):
    config = restic_config(world)
    config.repositories[0].location = str(tmp_path / "nowhere")
    report = run_verification(config)
    access = check(report.repositories[0], "access")
    assert access.status == "error"
    assert access.details["kind"] == "missing_repository"
    assert "aucun dépôt à cet emplacement" in access.message


def test_repository_locked_by_another_process_is_not_verified(world):
    import os

    env = dict(os.environ, RESTIC_REPOSITORY=str(world / "restic"), RESTIC_PASSWORD=PASSWORD)
    holder = subprocess.Popen(  # noqa: S603
        ["restic", "--no-cache", "backup", "--stdin", "--stdin-filename", "flux.bin", "-q"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_for(lambda: any((world / "restic" / "locks").iterdir()))
        report = run_verification(restic_config(world))
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    integrity = check(report.repositories[0], "integrity")
    assert integrity.status == "error"
    assert integrity.details["kind"] == "locked"
    assert "verrouillé" in integrity.message
    assert report.status == "error"


def test_password_never_appears_on_the_command_line(world, monkeypatch):
    from careops.backups.engine import tools

    seen = []
    original = tools.run

    def spy(args, env, **kwargs):
        seen.append((list(args), dict(env)))
        return original(args, env, **kwargs)

    monkeypatch.setattr(tools, "run", spy)
    run_verification(restic_config(world))
    assert seen
    for args, env in seen:
        assert not any(PASSWORD in a for a in args)
        assert PASSWORD not in env.values()
