"""Attack: a reader granted on the GHT node alone downloads the declaration ZIP and gets the
files of the GHT's establishments, which the evidence pages refuse them (issue 11.7).

Every export of the dossier (web, API, CLI) filters each file through ``scope.restrict``.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from careops.compliance.models import EvidenceFile
from careops.tenancy import scope
from tests.conftest import PASSWORD
from tests.declarations import conftest as declarations
from tests.web.helpers import enable_totp

# the declaration tests' fixtures: a GHT whose filed declaration freezes its evidence
_media = declarations._media
version = declarations.version
people = declarations.people
evidence = declarations.evidence
validated = declarations.validated
declared = declarations.declared


@pytest.fixture
def child_evidence(org_tree, version):
    """A PSSI of an establishment under the GHT: part of the GHT's dossier."""
    return declarations.add_evidence(
        org_tree.ej_a, "pssi", "PSSI du CH Alpha [secret]", "alpha-secret"
    )


@pytest.fixture
def filed(child_evidence, declared):
    return declared


@pytest.fixture
def node_reader(org_tree, make_user):
    return make_user("reader", org_tree.ght, subtree=False, username="lecteur.noeud")


def names(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return set(archive.namelist())


def child_file_name(child_evidence) -> str:
    return f"preuves/E{child_evidence.pk}r1-pssi.pdf"


def test_the_child_file_is_out_of_the_node_readers_reach(filed, node_reader, child_evidence):
    # the premise: the evidence pages refuse this file to the node-only reader
    files = EvidenceFile.objects.filter(revision__evidence=child_evidence)
    assert files.exists() and not scope.restrict(files, node_reader).exists()
    frozen = {e["evidence"] for e in filed.declaration.snapshot["evidence"]}
    assert child_evidence.pk in frozen


def test_node_reader_web_download_leaves_the_child_files_out(filed, node_reader, child_evidence):
    client = Client()
    assert client.login(username=node_reader.username, password=PASSWORD)
    response = client.get(f"/declarations/{filed.pk}/dossier.zip")
    assert response.status_code == 200
    got = names(response.content)
    assert child_file_name(child_evidence) not in got
    assert any(n.startswith("preuves/") for n in got)  # the GHT's own files are there
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "hors de vos droits" in archive.read("MANIFEST.sha256").decode()


def test_node_reader_api_download_leaves_the_child_files_out(filed, node_reader, child_evidence):
    client = Client()
    assert client.login(username=node_reader.username, password=PASSWORD)
    response = client.get(f"/api/declarations/candidacies/{filed.pk}/dossier.zip")
    assert response.status_code == 200
    assert child_file_name(child_evidence) not in names(response.content)


def test_node_reader_cli_export_leaves_the_child_files_out(
    filed, node_reader, child_evidence, org_tree, tmp_path
):
    out = tmp_path / "dossier.zip"
    errors = io.StringIO()
    call_command(
        "declaration",
        "export",
        str(org_tree.ght.pk),
        "D2",
        str(out),
        "--user",
        node_reader.username,
        stdout=io.StringIO(),
        stderr=errors,
    )
    assert child_file_name(child_evidence) not in names(out.read_bytes())
    assert "hors des droits" in errors.getvalue()


def test_subtree_holder_gets_every_file(filed, people, child_evidence, org_tree, tmp_path):
    out = tmp_path / "dossier.zip"
    call_command(
        "declaration",
        "export",
        str(org_tree.ght.pk),
        "D2",
        str(out),
        "--user",
        people.rssi.username,
        stdout=io.StringIO(),
    )
    assert child_file_name(child_evidence) in names(out.read_bytes())


def test_cli_refuses_a_declaration_the_account_cannot_see(filed, org_tree, make_user, tmp_path):
    outsider = make_user("ars_instructor", org_tree.ars_ara, username="ars.autre")
    enable_totp(outsider)
    with pytest.raises(CommandError, match="aucune déclaration"):
        call_command(
            "declaration",
            "export",
            str(org_tree.ght.pk),
            "D2",
            str(tmp_path / "x.zip"),
            "--user",
            outsider.username,
        )
    assert not (tmp_path / "x.zip").exists()
