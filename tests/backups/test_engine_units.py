"""Pure engine pieces: time parsing, rotation, manifests, job reports, config, error mapping."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careops.backups.engine import borg, errors, integrity, restic, restore
from careops.backups.engine.config import parse_config
from careops.backups.engine.errors import ConfigError
from careops.backups.engine.freshness import freshness
from careops.backups.engine.jobreports import last_success, parse_job_report
from careops.backups.engine.timeparse import parse_time

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=dt.UTC)


def test_restic_times_with_nanoseconds_and_z_are_parsed():
    parsed = parse_time("2026-11-27T08:00:00.123456789Z")
    assert parsed == dt.datetime(2026, 11, 27, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert parse_time("2026-11-27T09:00:00.5+01:00") == dt.datetime(
        2026, 11, 27, 8, 0, 0, 500000, tzinfo=dt.UTC
    )


def test_borg_naive_times_are_local():
    assert parse_time("2026-11-27T08:00:00.000000").tzinfo is not None


@given(st.integers(min_value=1, max_value=60))
def test_a_rotation_reads_every_subset_once_per_cycle(cycle):
    seen, previous = [], None
    for _ in range(cycle):
        previous = integrity.next_subset(previous, cycle)
        seen.append(previous)
    assert sorted(seen) == list(range(1, cycle + 1))
    assert integrity.next_subset(previous, cycle) == 1
    assert integrity.cycle_coverage(seen, cycle) == 1.0


def test_subset_for_day_stays_in_range():
    day = dt.date(2026, 11, 29)
    assert {integrity.subset_for_day(day + dt.timedelta(d), 7) for d in range(7)} == set(
        range(1, 8)
    )


def test_freshness_messages_are_french():
    ok = freshness(NOW - dt.timedelta(hours=3), 24, NOW)
    assert ok.status == "ok" and "≤ PDMA de 24,0 h" in ok.message
    late = freshness(NOW - dt.timedelta(days=3), 24, NOW)
    assert late.status == "failed" and "âgée de 3,0 j" in late.message
    assert freshness(None, 24, NOW).status == "failed"


def test_manifest_round_trip_and_comparison(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("x")
    (tmp_path / "y.bin").write_bytes(b"\x00" * 10)
    manifest = restore.build_manifest(tmp_path)
    assert restore.read_manifest(restore.write_manifest(manifest)) == manifest
    changed = dict(manifest, **{"y.bin": "0" * 64, "z": "1" * 64})
    assert restore.compare(changed, manifest) == {
        "missing": ["z"],
        "different": ["y.bin"],
        "unexpected": [],
    }
    with pytest.raises(ValueError, match="ligne 1"):
        restore.read_manifest("pas un manifeste\n")


def test_restic_errors_of_014_text_and_017_exit_codes():
    assert restic.classify(1, "Fatal: wrong password or no key found")[0] == errors.WRONG_PASSWORD
    assert restic.classify(12, "")[0] == errors.WRONG_PASSWORD
    assert restic.classify(10, "")[0] == errors.MISSING
    assert restic.classify(11, "")[0] == errors.LOCKED
    text = "unable to create lock in backend: repository is already locked by PID 1"
    assert restic.classify(1, text)[0] == errors.LOCKED
    assert restic.classify(1, "Is there a repository at the following location?")[0] == (
        errors.MISSING
    )
    assert restic.classify(3, "incomplete snapshot")[0] == errors.FAILED


def test_borg_errors_from_log_json():
    line = '{"type": "log_message", "msgid": "LockTimeout", "message": "Failed"}'
    assert borg.classify(2, line)[0] == errors.LOCKED
    assert borg.classify(2, "not json at all")[0] == errors.FAILED


def test_job_reports_json_and_csv_with_french_columns():
    jobs = parse_job_report(
        '{"jobs": [{"system": "pacs", "job": "PACS-nuit", "status": "Success",'
        ' "start": "2026-11-28T22:00:00Z", "end": "2026-11-28T23:10:00Z", "size": "1024"}]}'
    )
    assert jobs[0].status == "success" and jobs[0].size_bytes == 1024
    csv_text = (
        "Système;Tâche;Statut;Début;Fin;Message\n"
        "dpi;DPI-nuit;Réussi;2026-11-28 22:00:00+00:00;2026-11-28 23:00:00+00:00;\n"
        "dpi;DPI-nuit;Échec;2026-11-29 22:00:00+00:00;2026-11-29 22:05:00+00:00;bande pleine\n"
    )
    rows = parse_job_report(csv_text.encode("utf-8"))
    assert [r.status for r in rows] == ["success", "failed"]
    assert last_success(rows, "dpi").finished.hour == 23
    with pytest.raises(ConfigError, match="ligne 2"):
        parse_job_report("system,status\ndpi,ok\n")


def _base():
    return {
        "repositories": [{"name": "r", "driver": "restic", "location": "/x", "password_env": "P"}],
        "systems": [{"name": "dpi", "rpo_hours": 24, "repository": "r"}],
    }


def test_config_naming_an_unknown_system_is_refused_in_french():
    data = _base()
    data["repositories"][0]["checks"] = {"restore": {"system": "inconnu"}}
    with pytest.raises(ConfigError, match="le système « inconnu » n'est pas déclaré"):
        parse_config(data)
    data = _base()
    data["systems"][0]["repository"] = "absent"
    with pytest.raises(ConfigError, match="le dépôt « absent » n'est pas déclaré"):
        parse_config(data)


def test_config_field_errors_say_where():
    data = _base()
    data["repositories"][0]["driver"] = "tar"
    data["systems"][0]["typo"] = 1
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert "repositories.0.driver : valeur non permise" in str(caught.value)
    assert "systems.0.typo : champ inconnu" in str(caught.value)
    data = _base()
    del data["repositories"][0]["password_env"]
    with pytest.raises(ConfigError, match="password_file ou password_env"):
        parse_config(data)


def test_restored_root_is_found_for_absolute_and_relative_backups(tmp_path):
    (tmp_path / "abs" / "srv" / "data" / "dpi").mkdir(parents=True)
    (tmp_path / "rel" / "dpi").mkdir(parents=True)
    assert restore.locate_root(str(tmp_path / "abs"), "/srv/data/dpi").endswith("abs/srv/data/dpi")
    assert restore.locate_root(str(tmp_path / "rel"), "/srv/data/dpi").endswith("rel/dpi")
    assert restore.locate_root(str(tmp_path / "rel"), "/ailleurs") == str(tmp_path / "rel")


def test_restic_snapshots_of_014_and_017_are_read():
    old = (
        '[{"time":"2026-11-27T08:00:00.123456789+01:00","paths":["/d"],"hostname":"h",'
        '"id":"0bef3626aa","short_id":"0bef3626"}]'
    )
    new = (
        '[{"time":"2026-11-28T08:00:00Z","paths":["/d"],"hostname":"h","id":"aa11","short_id":"aa",'
        '"summary":{"files_new":3,"data_added":1024,"total_bytes_processed":4096}}]'
    )
    (first,) = restic.parse_snapshots(old)
    assert first.summary == {} and first.name == "0bef3626"
    (second,) = restic.parse_snapshots(new)
    assert second.summary["data_added"] == 1024
    assert restic.parse_snapshots("null") == []
    with pytest.raises(errors.BackupToolError):
        restic.parse_snapshots("{oops")
