"""11.9 — decompression bombs: every archive or compressed import is bounded (total size,
ratio, file count) with a French error, streams, and leaves no temporary file behind.

The attacks: a 200 KB ORADAD zip that expanded to 200 MB and stayed on disk, a 400 KB gzip AD
dump that took 1.1 GB of memory, and the same trick on tar.gz and on an xlsx workbook.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careops import archives
from careops.continuity.engine.workbook import WorkbookError, read_workbook
from careops.directory import services
from careops.directory.engine.dump import DumpError, load_dump
from careops.directory.engine.imports import load_oradad
from careops.directory.models import AuditSource, Domain

ZEROS = b"\0" * (1024 * 1024)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Temporary files of the code under test go here, to check none is left."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _zip_bomb(megabytes: int, name: str = "out/care/20261201-101010/tables.tsv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open(name, "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(ZEROS)
    return buffer.getvalue()


def test_oradad_zip_bomb_uploaded_through_the_app_is_refused_and_nothing_stays(
    org_tree, make_user, private_tmp, django_capture_on_commit_callbacks
):
    rssi = make_user("es_rssi", org_tree.ej_a)
    domain = services.save_domain(rssi, Domain(organisation=org_tree.ej_a, name="hop.test"))
    bomb = _zip_bomb(200)
    assert len(bomb) < 400_000  # ~200 KB that expands to 200 MiB
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_audit(
            rssi, domain, AuditSource.ORADAD, SimpleUploadedFile("oradad.zip", bomb)
        )
    run.refresh_from_db()
    assert run.status == "failed"
    assert "taux de compression anormal" in run.message
    assert list(private_tmp.iterdir()) == []


def test_oradad_tar_gz_bomb_is_refused_before_expanding(tmp_path, private_tmp):
    source = tmp_path / "oradad.tar.gz"
    info = tarfile.TarInfo("out/care/20261201-101010/tables.tsv")
    info.size = 3 * 1024**3  # 3 GiB announced: refused on the header, never decompressed
    with gzip.open(source, "wb") as out:
        out.write(info.tobuf(format=tarfile.GNU_FORMAT))
        for _ in range(8):
            out.write(ZEROS)
    assert source.stat().st_size < 100_000
    with pytest.raises(DumpError) as caught:
        load_oradad(source)
    assert "Mio une fois décompressé" in str(caught.value)
    assert list(private_tmp.iterdir()) == []


def test_gzip_dump_bomb_is_refused_within_bounded_memory(tmp_path):
    source = tmp_path / "collecte.json.gz"
    with gzip.open(source, "wb", compresslevel=9) as out:
        out.write(b'{"format": "careops-ad-dump", "pad": "')
        for _ in range(400):  # 400 MiB of zeros in ~400 KB
            out.write(b"0" * len(ZEROS))
        out.write(b'"}')
    assert source.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(DumpError) as caught:
            load_dump(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "taux de compression anormal" in str(caught.value)
    assert peak < 64 * 1024 * 1024, f"pic mémoire {peak / 2**20:.0f} Mio"


def test_xlsx_bomb_is_refused_before_openpyxl_reads_it():
    bomb = _zip_bomb(100, name="xl/worksheets/sheet1.xml")
    with pytest.raises(WorkbookError) as caught:
        read_workbook(io.BytesIO(bomb))
    assert "Classeur Excel (.xlsx) : import refusé" in str(caught.value)


def test_bia_import_in_the_app_reports_the_bomb_in_french(org_tree, make_user):
    from careops.continuity import services as continuity
    from careops.continuity.models import Campaign

    rssi = make_user("es_rssi", org_tree.ej_a)
    campaign = Campaign.objects.create(organisation=org_tree.ej_a, title="BIA 2026")
    outcome = continuity.import_workbook(
        rssi, campaign, io.BytesIO(_zip_bomb(100, name="xl/worksheets/sheet1.xml"))
    )
    assert not outcome.imported
    assert "refusé" in outcome.problems[0].message


def test_too_many_files_and_paths_outside_are_refused(tmp_path, private_tmp):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(30):
            archive.writestr(f"f{i}.tsv", "x")
    limits = archives.Limits(max_files=20)
    with archives.temporary_folder() as folder, pytest.raises(archives.ArchiveError) as caught:
        archives.extract(many, folder, limits, "Archive ORADAD")
    assert "plus de 20 fichiers" in str(caught.value)
    escape = tmp_path / "escape.zip"
    with zipfile.ZipFile(escape, "w") as archive:
        archive.writestr("../../evil.tsv", "x")
    with archives.temporary_folder() as folder, pytest.raises(archives.ArchiveError) as caught:
        archives.extract(escape, folder, archives.Limits(), "Archive ORADAD")
    assert "hors du dossier" in str(caught.value)
    assert not (tmp_path / "evil.tsv").exists()
    assert list(private_tmp.iterdir()) == []


def test_a_real_oradad_archive_still_imports(tmp_path):
    fixture = Path(__file__).parents[1] / "directory" / "data" / "oradad"
    source = tmp_path / "o.tar.gz"
    with tarfile.open(source, "w:gz") as archive:
        archive.add(fixture, arcname="out")
    dump = load_oradad(source)
    assert dump.objects
