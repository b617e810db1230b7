"""``careops backups verify CONFIG.yaml [--json]`` with no database."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.management import CommandError, call_command


def _write_config(world, **extra):
    config = {
        "state_file": "state.json",
        "repositories": [
            {
                "name": "restic-dpi",
                "driver": "restic",
                "location": str(world / "restic"),
                "password_file": "password",
                "checks": {"data": {"cycle": 4}},
            }
        ],
        "systems": [
            {"name": "dpi", "rpo_hours": 24, "repository": "restic-dpi", "match": {"host": "app01"}}
        ],
        **extra,
    }
    path = world / "verify.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


def test_verify_json_output(world, capsys):
    call_command("backups", "verify", str(_write_config(world)), "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ok"
    repo = report["repositories"][0]
    assert [c["name"] for c in repo["checks"]] == ["access", "integrity"]
    assert repo["checks"][1]["details"]["subset"] == "1/4"
    assert report["systems"][0]["checks"][0]["status"] == "ok"
    assert json.loads((world / "state.json").read_text())["subsets"]["restic-dpi"] == [1]


def test_verify_text_output_and_exit_code_on_stale_system(world, capsys):
    path = _write_config(world)
    data = yaml.safe_load(path.read_text())
    data["systems"].append(
        {"name": "rh", "rpo_hours": 12, "repository": "restic-dpi", "match": {"host": "old01"}}
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(SystemExit) as exited:
        call_command("backups", "verify", str(path))
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "restic-dpi" in out and "EN ÉCHEC" in out and "au-delà de la PDMA" in out


def test_verify_refuses_a_config_naming_an_unknown_system(world):
    path = _write_config(world)
    data = yaml.safe_load(path.read_text())
    data["repositories"][0]["checks"]["restore"] = {"system": "pacs"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(CommandError, match="le système « pacs » n'est pas déclaré"):
        call_command("backups", "verify", str(path))
    assert not (world / "state.json").exists()


def test_manifest_command(tmp_path, capsys):
    (tmp_path / "f.txt").write_text("bonjour")
    call_command("backups", "manifest", str(tmp_path))
    assert capsys.readouterr().out.endswith("  f.txt\n")


def test_missing_config_file_is_reported_in_french(tmp_path):
    with pytest.raises(CommandError, match="fichier introuvable"):
        call_command("backups", "verify", str(tmp_path / "absent.yaml"))
