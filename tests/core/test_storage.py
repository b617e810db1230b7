"""The evidence store: content-addressed, deduplicated, verified on every read; on a local folder
and on an S3 server (moto on loopback); the verified move from one to the other."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from careops.core import storage
from careops.core.storage_moves import migrate
from tests.core.s3 import use_s3
from tests.declarations.conftest import upload


def _evidence(organisation, marker: str, kind: str = "pssi"):
    from careops.compliance import services

    return services.create_evidence(
        None,
        organisation,
        kind,
        f"Preuve {marker}",
        services.RevisionInput(
            effective_date=dt.date(2026, 1, 5), files=[upload(f"{marker}.pdf", marker)]
        ),
    )


def _file(evidence):
    return evidence.current.files.get()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- local folder (the embedded default) ------------------------------------------------------


def test_local_store_names_files_by_sha256_and_keeps_identical_content_once(org_tree, media):
    first = _file(_evidence(org_tree.ght, "même"))
    second = _file(_evidence(org_tree.ej_a, "même"))
    digest = first.sha256
    assert first.file.name == second.file.name == f"evidence/{digest[:2]}/{digest}"
    assert [p.name for p in media.rglob("*") if p.is_file()] == [digest]
    assert (media / first.file.name).stat().st_mode & 0o777 == 0o600


def test_local_tampered_file_is_refused_with_a_french_error_and_a_log_line(org_tree, media, caplog):
    stored = _file(_evidence(org_tree.ght, "original"))
    (media / stored.file.name).write_bytes(b"%PDF-1.4 faux document")
    with caplog.at_level(logging.ERROR, logger="careops.storage"):
        with pytest.raises(storage.StoredObjectCorrupted, match="est altéré"):
            stored.file.open("rb")
    assert "objet altéré" in caplog.text and stored.file.name in caplog.text


def test_download_of_a_tampered_file_serves_no_byte_of_it(org_tree, media, make_user, client):
    stored = _file(_evidence(org_tree.ght, "original"))
    (media / stored.file.name).write_bytes(b"%PDF-1.4 contenu substitue")
    client.force_login(make_user("ght_rssi", org_tree.ght))
    response = client.get(reverse("compliance:file", args=[stored.pk]))
    assert response.status_code == 500
    assert "altéré" in response.content.decode()
    assert b"substitue" not in response.content


def test_readiness_check_of_the_local_folder(media):
    state = storage.check_reachable()
    assert state.ok and state.backend == "local" and str(media) in state.detail


# --- S3 (moto server on 127.0.0.1) ----------------------------------------------------------


def test_s3_store_uploads_under_the_sha256_and_reads_back_verified(
    org_tree, media, settings, s3_bucket, make_user, client
):
    s3, bucket = s3_bucket
    use_s3(settings)
    stored = _file(_evidence(org_tree.ght, "s3"))
    key = f"careops/evidence/{stored.sha256[:2]}/{stored.sha256}"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == stored.sha256
    assert not list(media.rglob("*")) if media.exists() else True  # nothing written locally
    client.force_login(make_user("ght_rssi", org_tree.ght))
    response = client.get(reverse("compliance:file", args=[stored.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == body
    again = _file(_evidence(org_tree.ej_b, "s3"))  # same bytes: one object
    assert again.file.name == stored.file.name
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_s3_tampered_object_is_never_served(org_tree, settings, s3_bucket, caplog):
    s3, bucket = s3_bucket
    use_s3(settings)
    stored = _file(_evidence(org_tree.ght, "s3-altéré"))
    s3.put_object(Bucket=bucket, Key=f"careops/{stored.file.name}", Body=b"autre chose")
    with caplog.at_level(logging.ERROR, logger="careops.storage"):
        with pytest.raises(storage.StoredObjectCorrupted):
            stored.file.open("rb")
    assert "objet altéré" in caplog.text


@pytest.mark.parametrize(
    ("sse", "kms_key"), [("AES256", ""), ("aws:kms", "arn:aws:kms:us-east-1:1:key/careops")]
)
def test_s3_server_side_encryption_is_asked_for(org_tree, settings, s3_bucket, sse, kms_key):
    store = use_s3(settings, sse=sse, kms_key_id=kms_key)
    name = store.save("evidence/x", ContentFile(b"preuve chiffree " + sse.encode()))
    head = store.head(name)
    assert head["ServerSideEncryption"] == sse
    if kms_key:
        assert head["SSEKMSKeyId"] == kms_key


def test_s3_readiness_check_names_an_absent_bucket(settings, s3_bucket):
    use_s3(settings)
    assert storage.check_reachable().ok
    use_s3(settings, bucket="seau-absent")
    state = storage.check_reachable()
    assert not state.ok and "seau-absent" in state.detail
    assert "test" not in state.detail.replace("seau", "")  # no key in the message


def test_s3_store_without_a_bucket_is_refused_at_start():
    from careops.config import DEFAULTS, ConfigError

    with pytest.raises(ConfigError, match="CAREOPS_STORAGE_BUCKET"):
        storage.storages_setting({**DEFAULTS, "STORAGE": "s3"})
    with pytest.raises(ConfigError, match="local ou s3"):
        storage.storages_setting({**DEFAULTS, "STORAGE": "ftp"})


# --- moving a local store to S3 ---------------------------------------------------------------


def test_migration_to_s3_resumes_after_a_crash_and_verifies_every_file(
    org_tree, media, settings, s3_bucket, capsys
):
    from careops.compliance.models import EvidenceFile

    for marker in ("a", "b", "c", "d"):
        _evidence(org_tree.ght, marker)
    # a file saved by an older careops under a suffixed name (Django's default on a clash)
    legacy = _file(_evidence(org_tree.ej_a, "ancien"))
    old_name = legacy.file.name + "_Ab12Cd3"
    FileSystemStorage(location=media).save(old_name, ContentFile(legacy.file.read()))
    EvidenceFile.objects.filter(pk=legacy.pk).update(file=old_name)

    destination = storage.build("s3")
    real_save, calls = destination._save, []

    def crash_on_third(name, content):
        calls.append(name)
        if len(calls) == 3:
            raise storage.StorageError("connexion coupée (simulée)")
        return real_save(name, content)

    destination._save = crash_on_third
    first = migrate(storage.build("local"), destination)
    assert first.copied == 4 and len(first.errors) == 1 and first.renamed == 1

    call_command("careops_storage", "migrate", "--to", "s3")
    out = capsys.readouterr().out
    assert "copiés et relus        : 1" in out
    assert "déjà présents, relus   : 4" in out
    legacy.refresh_from_db()  # the legacy name became content-addressed
    assert legacy.file.name == f"evidence/{legacy.sha256[:2]}/{legacy.sha256}"

    use_s3(settings)
    call_command("careops_storage", "verify")
    assert "vérifiés (SHA-256)     : 5" in capsys.readouterr().out
    assert (media / old_name).exists()  # the source is never deleted


def test_verify_reports_a_missing_and_a_corrupted_file(org_tree, media, capsys):
    gone = _file(_evidence(org_tree.ght, "perdu"))
    bad = _file(_evidence(org_tree.ght, "abîmé"))
    (media / gone.file.name).unlink()
    (media / bad.file.name).write_bytes(b"n'importe quoi")
    with pytest.raises(CommandError, match="2 fichier"):
        call_command("careops_storage", "verify")
    out = capsys.readouterr().out
    assert "absents : 1" in out and "altérés : 1" in out


def test_directory_import_is_stored_on_s3_and_read_back_verified_by_the_audit(
    org_tree, make_user, settings, s3_bucket, tmp_path, django_capture_on_commit_callbacks
):
    from careops.directory import services
    from careops.directory.models import AuditSource, AuditStatus, Domain
    from tests.directory.test_app import dump_upload

    s3, bucket = s3_bucket
    use_s3(settings)
    rssi = make_user("es_rssi", org_tree.ej_a)
    domain = services.save_domain(
        rssi, Domain(organisation=org_tree.ej_a, name="hop.test"), password="Lecture-seule-1!"
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_audit(rssi, domain, AuditSource.DUMP, dump_upload(tmp_path))
    run.refresh_from_db()
    assert run.status == AuditStatus.DONE and run.level == 5
    digest = storage.expected_digest(run.upload.name)
    assert run.upload.name == f"directory/imports/{digest[:2]}/{digest}"
    assert s3.head_object(Bucket=bucket, Key=f"careops/{run.upload.name}")["ContentLength"] > 0
