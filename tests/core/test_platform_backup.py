"""careops backs itself up: a platform backup restored into an empty installation gives the same
objective statuses, evidence hashes and frozen declarations (SQLite and PostgreSQL alike: the
suite runs on both), and careops' own restic verifier checks the scheduled copy (D2.O4)."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from careops.backups.engine.config import load_config
from careops.backups.engine.verify import run_verification
from tests.backups.conftest import require_tool

pytestmark = pytest.mark.django_db(transaction=True)


def _installation_state() -> dict:
    """What a user relies on: statuses (stored and recomputed), evidence bytes, declarations."""
    from careops.compliance.models import Assessment, EvidenceFile, ItemStatus
    from careops.compliance.services import evaluate_assessment
    from careops.core.storage import hash_stream
    from careops.declarations.models import Declaration, DeclaredItem

    stored = sorted(
        ItemStatus.objects.values_list("assessment__candidate__name", "item_code", "status")
    )
    recomputed = sorted(
        (a.candidate.name, s.item_code, s.status)
        for a in Assessment.objects.select_related("candidate")
        for s in evaluate_assessment(a)
    )
    hashes = []
    for record in EvidenceFile.objects.order_by("pk"):
        with record.file.open("rb") as handle:
            hashes.append((record.original_name, record.sha256, hash_stream(handle)[0]))
    declarations = sorted(
        (d.content_sha256, d.verify(), json.dumps(d.snapshot, sort_keys=True))
        for d in Declaration.objects.all()
    )
    frozen = sorted(DeclaredItem.objects.values_list("item_code", "status"))
    return {
        "statuses": stored,
        "recomputed": recomputed,
        "hashes": hashes,
        "declarations": declarations,
        "frozen": frozen,
    }


@pytest.fixture
def installation(declared, org_tree, version, settings, tmp_path):
    """A GHT with evidence, an evaluated assessment and a filed (frozen) declaration."""
    from careops.compliance.services import open_assessment

    open_assessment(None, org_tree.ej_a, version)
    state = _installation_state()
    assert state["hashes"] and state["declarations"] and state["statuses"]
    return state


def test_restore_into_an_empty_installation_gives_the_same_statuses_hashes_and_declarations(
    installation, settings, tmp_path, capsys
):
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    printed = capsys.readouterr()
    assert "La clé de chiffrement n'est pas dans la sauvegarde" in printed.out
    assert "base de données" in printed.err  # progress shown
    manifest = json.loads((out / "manifest.json").read_text())
    listed = (out / "MANIFEST.sha256").read_text()
    assert manifest["database"]["file"] in listed and "manifest.json" in listed
    assert manifest["storage"]["objects"] == 2 and not manifest["storage"]["missing"]
    assert {v["domain"] for v in manifest["referential"]} == {"D2"}

    with pytest.raises(CommandError, match="n'est pas vide"):
        call_command("careops_platform", "restore", str(out))

    call_command("flush", interactive=False, verbosity=0)  # an empty installation…
    settings.MEDIA_ROOT = tmp_path / "media-vide"  # …with an empty evidence store
    call_command("careops_platform", "restore", str(out))
    assert "Restauration terminée" in capsys.readouterr().out
    assert _installation_state() == installation


def test_a_tampered_backup_is_refused_before_anything_is_touched(installation, tmp_path):
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    victim = next(p for p in (out / "storage").rglob("*") if p.is_file())
    victim.write_bytes(b"remplace")
    with pytest.raises(CommandError, match="Sauvegarde altérée : 1 fichier"):
        call_command("careops_platform", "restore", str(out), "--force")
    with pytest.raises(CommandError, match="altérée"):
        call_command("careops_platform", "check", str(out))


def test_backup_refuses_a_folder_that_is_not_empty(installation, tmp_path):
    (tmp_path / "occupé").mkdir()
    (tmp_path / "occupé" / "autre").write_text("x")
    with pytest.raises(CommandError, match="n'est pas un dossier vide"):
        call_command("careops_platform", "backup", str(tmp_path / "occupé"))


def test_the_restic_copy_of_a_platform_backup_passes_careops_own_verifier(installation, tmp_path):
    """The documented schedule (deploy/backup/careops-platform-backup.sh): platform backup into a
    staging folder, restic backup of it; careops' verifier then checks the repository and
    restores it against the platform backup's own manifest (D2.O4)."""
    restic = require_tool("restic")
    staging = tmp_path / "staging"
    call_command("careops_platform", "backup", str(staging))
    password = tmp_path / "restic.pw"
    password.write_text("mot-de-passe-du-dépôt-careops\n")
    repo = tmp_path / "restic"
    env = {"RESTIC_PASSWORD_FILE": str(password), "PATH": "/usr/bin:/bin"}
    for command in (
        [restic, "init", "--repo", str(repo)],
        [restic, "backup", "--repo", str(repo), "--host", "careops", "--tag", "platform", "."],
    ):
        subprocess.run(command, cwd=staging, env=env, check=True, capture_output=True)
    config = tmp_path / "verification.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "repositories": [
                    {
                        "name": "careops-plateforme",
                        "driver": "restic",
                        "location": str(repo),
                        "password_file": str(password),
                        "checks": {
                            "structure": True,
                            "data": {"cycle": 1},
                            "restore": {
                                "system": "careops",
                                "manifest": str(staging / "MANIFEST.sha256"),
                                "source_path": str(staging),
                            },
                        },
                    }
                ],
                "systems": [
                    {
                        "name": "careops",
                        "rpo_hours": 24,
                        "rto_hours": 4,
                        "repository": "careops-plateforme",
                        "match": {"host": "careops", "tags": ["platform"]},
                    }
                ],
            }
        )
    )
    report = run_verification(load_config(str(config)))
    checks = {c.name: c for c in report.repositories[0].checks}
    assert report.status == "ok", {n: (c.status, c.message) for n, c in checks.items()}
    files = len((staging / "MANIFEST.sha256").read_text().splitlines())
    assert checks["restore"].details["compared_files"] == files
    assert "empreintes SHA-256 identiques au manifeste" in checks["restore"].message
