"""13.13 and 13.14 — what docs/backups.md promises for files named by a verify configuration:
``password_file`` is read up to its first line, and relative paths (the repository
``location`` too) are resolved from the configuration file's folder, whatever the current
folder — a borg restore with a relative location works although extraction runs in the
scratch folder."""

from __future__ import annotations

import json

import yaml
from django.core.management import call_command

from tests.backups.conftest import PASSWORD


def _config(world, repositories, systems):
    folder = world / "conf"
    folder.mkdir()
    # the password file's first line is the password; what follows is a comment for people
    (world / "password-commented").write_text(PASSWORD + "\nchangé le 2026-11-02 par la DSI\n")
    path = folder / "verify.yaml"
    path.write_text(
        yaml.safe_dump({"repositories": repositories, "systems": systems}, allow_unicode=True)
    )
    return path


def _run(path, capsys, elsewhere, monkeypatch) -> dict:
    monkeypatch.chdir(elsewhere)  # never the configuration's folder
    try:
        call_command("backups", "verify", str(path), "--json")
    except SystemExit:
        pass
    return json.loads(capsys.readouterr().out)


def test_restic_relative_location_and_password_file_first_line(
    world, tmp_path_factory, capsys, monkeypatch
):
    path = _config(
        world,
        [
            {
                "name": "restic-dpi",
                "driver": "restic",
                "location": "../restic",
                "password_file": "../password-commented",
                "cache_dir": "../cache",
            }
        ],
        [{"name": "dpi", "rpo_hours": 24, "repository": "restic-dpi", "match": {"host": "app01"}}],
    )
    report = _run(path, capsys, tmp_path_factory.mktemp("ailleurs"), monkeypatch)
    access = report["repositories"][0]["checks"][0]
    assert access["status"] == "ok", access["message"]
    assert report["repositories"][0]["location"] == "../restic"  # shown as written


def test_borg_restore_with_a_relative_location(
    world, backup_world, tmp_path_factory, capsys, monkeypatch
):
    path = _config(
        world,
        [
            {
                "name": "borg-dpi",
                "driver": "borg",
                "location": "../borg",
                "password_file": "../password-commented",
                "cache_dir": "../borg-home",
                "checks": {
                    "structure": False,
                    "restore": {
                        "system": "dpi",
                        "manifest": "../manifest.sha256",
                        "source_path": str(backup_world / "data" / "dpi"),
                    },
                },
            }
        ],
        [
            {
                "name": "dpi",
                "rpo_hours": 24,
                "repository": "borg-dpi",
                "match": {"archive_glob": "dpi-*"},
            }
        ],
    )
    report = _run(path, capsys, tmp_path_factory.mktemp("ailleurs"), monkeypatch)
    checks = {c["name"]: c for c in report["repositories"][0]["checks"]}
    assert checks["access"]["status"] == "ok", checks["access"]["message"]
    assert checks["restore"]["status"] == "ok", checks["restore"]["message"]
    assert "empreintes SHA-256 identiques" in checks["restore"]["message"]


def test_password_file_is_read_up_to_its_first_line(tmp_path):
    from careops.backups.engine.config import parse_config, read_secret

    (tmp_path / "p").write_text("premier-ligne\r\ncommentaire\n")
    config = parse_config({}, base_dir=str(tmp_path))
    assert read_secret(config, "p", None, "dépôt") == "premier-ligne"
