"""A platform backup tampered with after the fact is refused by ``careops platform check`` and
``restore`` before anything is touched: a file added beside the listed ones, a symbolic link (which
would copy a file of the host into the evidence store), a manifest naming a path outside the
backup folder, a database file that the manifest does not list."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def archive(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    return out


def _refused(out, match):
    with pytest.raises(CommandError, match=match):
        call_command("careops_platform", "check", str(out))
    with pytest.raises(CommandError, match=match):
        call_command("careops_platform", "restore", str(out), "--force")


def _relist(out):
    """What a tamperer who knows the format does: recompute MANIFEST.sha256."""
    lines = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "MANIFEST.sha256"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(out).as_posix()}\n")
    (out / "MANIFEST.sha256").write_text("".join(lines))


def test_a_file_added_to_the_backup_is_refused(archive, settings):
    (archive / "storage" / "zz").mkdir(parents=True)
    (archive / "storage" / "zz" / "ajout.txt").write_text("injecté")
    _refused(archive, "absent du manifeste.*storage/zz/ajout.txt")
    assert not (settings.MEDIA_ROOT / "zz" / "ajout.txt").exists()


def test_a_symbolic_link_in_the_backup_is_refused_and_never_followed(archive, settings, tmp_path):
    secret = tmp_path / "secret-de-l-hote"
    secret.write_text("ne doit pas entrer dans le stockage")
    (archive / "storage" / "yy").mkdir(parents=True)
    os.symlink(secret, archive / "storage" / "yy" / "lien")
    _relist(archive)  # even listed with the right digest
    _refused(archive, "lien symbolique.*storage/yy/lien")
    assert not (settings.MEDIA_ROOT / "yy" / "lien").exists()


def test_a_manifest_naming_a_path_outside_the_backup_is_refused(archive, tmp_path):
    manifest = json.loads((archive / "manifest.json").read_text())
    outside = tmp_path / "ailleurs.sqlite3"
    outside.write_bytes((archive / manifest["database"]["file"]).read_bytes())
    manifest["database"]["file"] = "../ailleurs.sqlite3"
    (archive / "manifest.json").write_text(json.dumps(manifest))
    _relist(archive)
    with (archive / "MANIFEST.sha256").open("a") as handle:
        digest = hashlib.sha256(outside.read_bytes()).hexdigest()
        handle.write(f"{digest}  ../ailleurs.sqlite3\n")
    _refused(archive, "chemin hors de la sauvegarde.*../ailleurs.sqlite3")


def test_a_database_file_the_manifest_does_not_list_is_refused(archive):
    manifest = json.loads((archive / "manifest.json").read_text())
    manifest["database"]["file"] = "database/autre.sqlite3"
    (archive / "manifest.json").write_text(json.dumps(manifest))
    _relist(archive)
    _refused(archive, "base de données.*database/autre.sqlite3")


def test_a_stored_object_whose_content_no_longer_matches_its_name_is_refused_before_restoring(
    settings, tmp_path
):
    """The store's names are the SHA-256 of their content: a relisted manifest cannot hide a
    swapped object (restore would otherwise fail half-way, the database already replaced)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path / "media"
    name = default_storage.save("preuves/rapport.pdf", ContentFile(b"%PDF-1.4 preuve"))
    out = tmp_path / "sauvegarde"
    call_command("careops_platform", "backup", str(out))
    (out / "storage" / name).write_bytes(b"%PDF-1.4 autre contenu")
    _relist(out)
    _refused(out, f"storage/{name} \\(contenu différent de son nom\\)")


def test_an_unreadable_manifest_json_is_a_french_refusal(archive):
    (archive / "manifest.json").write_text("{ pas du json")
    _relist(archive)
    _refused(archive, "manifest.json illisible")


def test_a_manifest_json_without_its_facts_is_a_french_refusal(archive):
    manifest = json.loads((archive / "manifest.json").read_text())
    del manifest["encryption_key_fingerprint"]
    (archive / "manifest.json").write_text(json.dumps(manifest))
    _relist(archive)
    _refused(archive, "manifest.json incomplet \\(encryption_key_fingerprint\\)")


def test_a_backup_folder_inside_the_evidence_store_is_refused(settings, tmp_path):
    """It would copy itself into itself (its partial dump became a « stored object ») and every
    later backup would carry the earlier ones."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path / "media"
    default_storage.save("preuves/rapport.pdf", ContentFile(b"%PDF-1.4 preuve"))
    inside = settings.MEDIA_ROOT / "sauvegardes" / "nuit"
    with pytest.raises(CommandError, match="dans le stockage des preuves"):
        call_command("careops_platform", "backup", str(inside))
    assert not (settings.MEDIA_ROOT / "sauvegardes").exists()
