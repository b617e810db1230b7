"""``careops declaration export``: the dossier ZIP and its SHA-256 manifest; CSV and Excel."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command

from careops.declarations import dashboards, exports


def test_export_writes_a_verifiable_dossier(declared, org_tree, people, tmp_path):
    out = tmp_path / "dossier.zip"
    printed = io.StringIO()
    call_command(
        "declaration",
        "export",
        str(org_tree.ght.pk),
        "d2",
        str(out),
        "--user",
        "ars.idf",
        stdout=printed,
    )
    declaration = declared.declaration
    assert declaration.content_sha256 in printed.getvalue()
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"resume.pdf", "resume.html", "instantane.json", "MANIFEST.sha256"} <= names
        assert archive.read("resume.pdf").startswith(b"%PDF")
        manifest = archive.read("MANIFEST.sha256").decode()
        lines = [line for line in manifest.splitlines() if not line.startswith("#")]
        assert len(lines) == len(names) - 1
        for line in lines:
            digest, path = line.split("  ", 1)
            assert hashlib.sha256(archive.read(path)).hexdigest() == digest
        evidence = [n for n in names if n.startswith("preuves/")]
        assert len(evidence) == 2
        assert (
            hashlib.sha256(archive.read("instantane.json")).hexdigest()
            == declaration.content_sha256
        )
        assert "Mme Claire Martin" in archive.read("resume.html").decode()


def test_export_explains_what_is_missing(validated, org_tree, people, tmp_path):
    out = str(tmp_path / "x.zip")
    with pytest.raises(CommandError, match="aucune déclaration"):
        call_command("declaration", "export", str(org_tree.ght.pk), "D2", out, "--user", "ars.idf")
    with pytest.raises(CommandError, match="introuvable"):
        call_command("declaration", "export", "999999999", "D2", out, "--user", "ars.idf")
    with pytest.raises(CommandError, match="compte introuvable"):
        call_command("declaration", "export", str(org_tree.ght.pk), "D2", out, "--user", "nobody")


def test_csv_and_excel_exports(declared, people):
    from openpyxl import load_workbook

    from careops.declarations import services

    data = exports.rows(services.visible(people.ars))
    text = exports.to_csv(data)
    assert text.startswith("\ufeffRégion;Candidat") and "GHT Test Val-de-Seine" in text
    book = load_workbook(io.BytesIO(exports.to_xlsx(data, dashboards.build(people.ars))))
    assert book.sheetnames == [
        "Candidatures",
        "Par catégorie",
        "Par région",
        "Atteinte par objectif",
    ]
    assert book["Candidatures"]["B2"].value == "GHT Test Val-de-Seine"
    assert exports.rows(services.visible(people.ars_other)) == []
