"""careops backs itself up: a platform backup restored into an empty installation gives the same
objective statuses, evidence hashes and frozen declarations (SQLite and PostgreSQL alike: the
suite runs on both), and careops' own restic verifier checks the scheduled copy (D2.O4)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careops.backups.engine.config import load_config
from careops.backups.engine.verify import run_verification
from tests.backups.conftest import require_tool
from tests.core.s3 import use_s3

pytestmark = pytest.mark.django_db(transaction=True)
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "backup"


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
    assert manifest["database"]["engine"] == connection.vendor  # SQLite and PostgreSQL runs
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


@pytest.fixture
def s3_store(s3_bucket, settings):
    """The evidence store on S3 (set before the installation's evidence is written)."""
    local = settings.STORAGES["default"]
    use_s3(settings)
    return local


def test_an_s3_store_is_backed_up_and_restored_into_a_local_installation(
    s3_store, installation, settings, tmp_path
):
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["storage"]["objects"] == 2 and "seau S3" in manifest["storage"]["source"]
    call_command("flush", interactive=False, verbosity=0)
    settings.STORAGES = {**settings.STORAGES, "default": s3_store}
    settings.MEDIA_ROOT = tmp_path / "dossier-local-vide"
    call_command("careops_platform", "restore", str(out))
    assert _installation_state() == installation
    assert len(list(settings.MEDIA_ROOT.rglob("*"))) >= 2


def test_a_tampered_backup_is_refused_before_anything_is_touched(installation, tmp_path):
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    victim = next(p for p in (out / "storage").rglob("*") if p.is_file())
    victim.write_bytes(b"remplace")
    with pytest.raises(CommandError, match="Sauvegarde altérée : 1 fichier"):
        call_command("careops_platform", "restore", str(out), "--force")
    with pytest.raises(CommandError, match="altérée"):
        call_command("careops_platform", "check", str(out))


def test_a_corrupted_object_is_left_out_and_named_the_rest_is_backed_up(
    installation, settings, tmp_path, capsys
):
    from careops.compliance.models import EvidenceFile

    victim = EvidenceFile.objects.order_by("pk").first()
    (settings.MEDIA_ROOT / victim.file.name).write_bytes(b"abime")
    out = tmp_path / "sauvegarde"
    with pytest.raises(SystemExit) as exit_code:
        call_command("careops_platform", "backup", str(out))
    assert exit_code.value.code == 1
    assert "1 objet(s) altéré(s), non copiés" in capsys.readouterr().err
    storage = json.loads((out / "manifest.json").read_text())["storage"]
    assert storage["corrupted"] == [victim.file.name] and storage["objects"] == 1
    assert not storage["missing"]


def test_an_upload_waiting_for_its_task_is_not_backed_up(installation, tmp_path):
    """Transient uploads (personal data read by a task, then deleted) stay out of backups."""
    from django.core.files.base import ContentFile

    from careops.core import storage

    waiting = storage.current().save("transient/hospiconnect/abc/x", ContentFile(b"nom;rpps\n"))
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    assert not (out / "storage" / waiting).exists()
    assert not (out / "storage" / "transient").exists()
    assert installation["hashes"]  # the evidence itself is there:
    assert len(list((out / "storage").rglob("*"))) > 0


def test_backup_refuses_a_folder_that_is_not_empty(installation, tmp_path):
    (tmp_path / "occupé").mkdir()
    (tmp_path / "occupé" / "autre").write_text("x")
    with pytest.raises(CommandError, match="n'est pas un dossier vide"):
        call_command("careops_platform", "backup", str(tmp_path / "occupé"))


def _installation_for_a_process(seed: Path, data_dir: Path) -> dict[str, str]:
    """Environment of a ``careops`` process that sees this test's installation: its evidence
    store copied into DATA_DIR/media and, on SQLite, its database (the backup's copy)."""
    shutil.copytree(seed / "storage", data_dir / "media")
    env = {"CAREOPS_DATA_DIR": str(data_dir), "CAREOPS_QUEUE_URL": "immediate"}
    if connection.vendor == "sqlite":
        shutil.copyfile(seed / "database" / "careops.sqlite3", data_dir / "careops.sqlite3")
    else:  # the test database itself (this test commits: transaction=True)
        db = connection.settings_dict
        env["CAREOPS_DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env


def test_the_shipped_restic_schedule_passes_careops_own_verifier(installation, tmp_path):
    """deploy/backup/careops-platform-backup.sh, run as the timer runs it (platform backup into
    the staging folder, check, restic backup, forget), then careops' own verifier with the
    shipped deploy/backup/careops-platform-verify.yaml: structure, data, restore compared with
    the platform backup's manifest, freshness — careops proves its own D2.O4."""
    restic = require_tool("restic")
    seed = tmp_path / "seed"
    call_command("careops_platform", "backup", str(seed))
    data_dir = tmp_path / "data"
    env = _installation_for_a_process(seed, data_dir)
    staging, repo, password = tmp_path / "staging", tmp_path / "restic", tmp_path / "restic.pw"
    password.write_text("mot-de-passe-du-dépôt-careops\n")
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}:{Path(restic).parent}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "CAREOPS_BACKUP_STAGING": str(staging),
            "RESTIC_REPOSITORY": str(repo),
            "RESTIC_PASSWORD_FILE": str(password),
            "RESTIC_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    subprocess.run([restic, "init"], env=env, check=True, capture_output=True)
    run = subprocess.run(
        ["sh", str(DEPLOY / "careops-platform-backup.sh")], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Sauvegarde écrite" in run.stdout and "intacte" in run.stdout

    config = yaml.safe_load((DEPLOY / "careops-platform-verify.yaml").read_text())
    config.update(state_file=str(tmp_path / "etat.json"), work_dir=str(tmp_path / "travail"))
    repository = config["repositories"][0]
    repository.update(location=str(repo), password_file=str(password))
    repository["checks"]["restore"].update(
        manifest=str(staging / "MANIFEST.sha256"), source_path=str(staging)
    )
    (tmp_path / "travail").mkdir()
    (tmp_path / "verification.yaml").write_text(yaml.safe_dump(config))
    report = run_verification(load_config(str(tmp_path / "verification.yaml")))
    checks = {c.name: c for c in report.repositories[0].checks}
    assert report.status == "ok", {n: (c.status, c.message) for n, c in checks.items()}
    assert report.systems[0].status == "ok"  # fresh: within the 24 h RPO
    files = len((staging / "MANIFEST.sha256").read_text().splitlines())
    assert checks["restore"].details["compared_files"] == files
    assert "empreintes SHA-256 identiques au manifeste" in checks["restore"].message
