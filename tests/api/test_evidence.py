"""/api/evidence and /api/files: deposit evidence with its files, revise it, download a file."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from careops.compliance.models import Evidence, EvidenceFile, EvidenceRevision
from careops.core.models import AuditEvent
from tests.api.conftest import PDF_BYTES, evidence_form, pdf_upload


def stored_files(settings) -> list:
    return (
        [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
        if settings.MEDIA_ROOT.exists()
        else []
    )


def test_create_with_a_pdf_keeps_its_hash_and_serves_it_back(org_tree, role_users, api, settings):
    user = role_users["es_rssi"]
    client = api(user)
    response = client.post_form("/api/evidence", evidence_form(org_tree.ej_b))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["organisation"], body["kind"], body["title"]) == (
        org_tree.ej_b.pk,
        "pssi",
        "PSSI 2026",
    )
    assert body["item_codes"] == ["D2.P1"]
    assert body["current_revision"] == 1
    [revision] = body["revisions"]
    assert revision["effective_date"] == "2026-01-15"
    assert revision["validated_by"] == "management_body"
    assert revision["attributes"] == {"version": "3.1"}
    assert revision["author"] == user.username
    [file] = revision["files"]
    assert file["name"] == "pssi.pdf"
    assert file["size"] == len(PDF_BYTES)
    assert file["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert file["content_type"] == "application/pdf"
    assert file["url"] == f"/api/files/{file['id']}"
    stored = EvidenceFile.objects.get(pk=file["id"])
    assert stored.file.read() == PDF_BYTES
    assert AuditEvent.objects.filter(action="evidence.create", actor=user).exists()

    download = client.get(file["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="pssi.pdf"'


def test_download_keeps_a_non_ascii_name_as_an_attachment(org_tree, role_users, api):
    client = api(role_users["es_rssi"])
    form = evidence_form(org_tree.ej_b, files=[pdf_upload("procédure sauvegarde.pdf")])
    file = client.post_form("/api/evidence", form).json()["revisions"][0]["files"][0]
    download = client.get(file["url"])
    assert download["Content-Disposition"].startswith("attachment; filename*=utf-8''proc%C3%A9dure")


def exe_upload():
    return SimpleUploadedFile("outil.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([exe_upload()], "« outil.exe » : type de fichier non accepté. Types acceptés : pdf,"),
        ([pdf_upload(), exe_upload()], "« outil.exe » : type de fichier non accepté."),
        (
            [SimpleUploadedFile("faux.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")],
            "« faux.pdf » : le contenu ne correspond pas à un fichier .pdf.",
        ),
        ([SimpleUploadedFile("vide.pdf", b"", "application/pdf")], "« vide.pdf » est vide."),
    ],
    ids=["exe", "pdf-and-exe", "disguised", "empty"],
)
def test_refused_files_save_nothing(org_tree, role_users, api, settings, files, message):
    response = api(role_users["es_rssi"]).post_form(
        "/api/evidence", evidence_form(org_tree.ej_b, files=files)
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert message in body["detail"]
    assert message in body["errors"]["files"][0]
    assert not Evidence.objects.exists()
    assert not EvidenceFile.objects.exists()
    assert stored_files(settings) == []
    assert not AuditEvent.objects.filter(action="evidence.create").exists()


def test_oversized_file_is_refused(org_tree, role_users, api, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    big = pdf_upload("gros.pdf", PDF_BYTES + b"%" + b"0" * 2048)
    response = api(role_users["es_rssi"]).post_form(
        "/api/evidence", evidence_form(org_tree.ej_b, files=[big])
    )
    assert response.status_code == 422
    assert "« gros.pdf » dépasse la taille maximale" in response.json()["detail"]
    assert not Evidence.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"attributes": "{pas du json"}, "attributes", "Les attributs doivent être un objet JSON"),
        ({"attributes": "[1, 2]"}, "attributes", "Les attributs doivent être un objet JSON"),
        ({"validated_by": "maire"}, "validated_by", "« maire » n'est pas une validation connue"),
        (
            {"effective_date": "2026-02-01", "expires_on": "2026-01-01"},
            "expires_on",
            "La date d'expiration précède la date d'effet.",
        ),
        ({"effective_date": "2099-01-01"}, "effective_date", "plus d'un an dans le futur"),
        ({"item_codes": ["pas un code"]}, "item_codes", "identifiant invalide"),
        ({"kind": "  "}, "kind", "Le type de preuve est obligatoire."),
    ],
)
def test_invalid_fields_are_refused_in_french(org_tree, role_users, api, fields, field, message):
    response = api(role_users["es_rssi"]).post_form(
        "/api/evidence", evidence_form(org_tree.ej_b, **fields)
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert message in body["detail"]
    assert any(message in m for m in body["errors"][field])
    assert not Evidence.objects.exists()


def test_missing_effective_date_is_refused(org_tree, role_users, api):
    form = evidence_form(org_tree.ej_b)
    del form["effective_date"]
    response = api(role_users["es_rssi"]).post_form("/api/evidence", form)
    assert response.status_code == 422
    assert not Evidence.objects.exists()


def test_item_codes_are_normalised(org_tree, role_users, api):
    form = evidence_form(org_tree.ej_b, item_codes=["d2.p1", "D2.03.A, D2.O1.B", "D2.P1"])
    body = api(role_users["es_rssi"]).post_form("/api/evidence", form).json()
    assert body["item_codes"] == ["D2.P1", "D2.O3.A", "D2.O1.B"]


def test_entities_must_lie_under_the_organisation(org_tree, role_users, api):
    client = api(role_users["ght_rssi"])
    form = evidence_form(org_tree.ej_a, entities=[org_tree.eg_a1.pk, org_tree.eg_a2.pk])
    response = client.post_form("/api/evidence", form)
    assert response.status_code == 201, response.content
    assert response.json()["revisions"][0]["entities"] == [org_tree.eg_a1.pk, org_tree.eg_a2.pk]

    form = evidence_form(org_tree.ej_a, entities=[org_tree.eg_b1.pk])
    response = client.post_form("/api/evidence", form)
    assert response.status_code == 422
    assert response.json()["errors"]["entities"] == [
        "Les entités couvertes doivent appartenir à l'organisation de la preuve."
    ]


def test_entities_out_of_scope_are_refused_like_unknown_ones(org_tree, role_users, api):
    form = evidence_form(org_tree.ej_b, entities=[org_tree.eg_other.pk])
    response = api(role_users["es_rssi"]).post_form("/api/evidence", form)
    assert response.status_code == 422
    assert "entities" in response.json()["errors"]


def test_revision_adds_a_version_and_keeps_the_earlier_one(world, role_users, api):
    evidence = world.evidence["ej_b"]
    first = EvidenceRevision.objects.get(evidence=evidence)
    user = role_users["contributor"]
    new_pdf = PDF_BYTES.replace(b"595 842", b"842 595")
    response = api(user).post_form(
        f"/api/evidence/{evidence.pk}/revisions",
        {
            "effective_date": "2026-02-01",
            "expires_on": "2027-02-01",
            "validated_by": "rssi",
            "attributes": json.dumps({"version": "4"}),
            "comment": "révision annuelle",
            "files": [pdf_upload("pssi-v4.pdf", new_pdf)],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["current_revision"] == 2
    assert [r["number"] for r in body["revisions"]] == [2, 1]
    latest, earlier = body["revisions"]
    assert latest["expires_on"] == "2027-02-01"
    assert latest["comment"] == "révision annuelle"
    assert latest["files"][0]["sha256"] == hashlib.sha256(new_pdf).hexdigest()
    assert earlier["files"][0]["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    first_again = EvidenceRevision.objects.get(pk=first.pk)
    assert (first_again.effective_date, first_again.attributes) == (
        first.effective_date,
        first.attributes,
    )
    assert AuditEvent.objects.filter(action="evidence.revise", actor=user).exists()


def test_refused_revision_saves_nothing(world, role_users, api, settings):
    evidence = world.evidence["ej_b"]
    before = sorted(stored_files(settings))
    response = api(role_users["contributor"]).post_form(
        f"/api/evidence/{evidence.pk}/revisions",
        {"effective_date": "2026-02-01", "files": [exe_upload()]},
    )
    assert response.status_code == 422
    assert "type de fichier non accepté" in response.json()["detail"]
    assert evidence.revisions.count() == 1
    assert sorted(stored_files(settings)) == before


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"ght", "ej_a", "ej_b", "ej_b-pca", "eg_b1", "esms", "ej_other"}),
        ({"organisation": "ej_b"}, {"ej_b", "ej_b-pca"}),
        ({"kind": "pca"}, {"ej_b-pca"}),
        ({"kind": "pssi", "organisation": "ej_other"}, {"ej_other"}),
    ],
)
def test_list_filters(world, org_tree, role_users, api, params, expected):
    client = api(role_users["administrator"])
    client.post_form("/api/evidence", evidence_form(org_tree.ej_b, kind="pca", title="ej_b-pca"))
    query = {k: getattr(org_tree, v).pk if k == "organisation" else v for k, v in params.items()}
    items = client.get("/api/evidence", **query).json()["items"]
    names = {item["title"].removeprefix("PSSI — ") for item in items}
    assert names == expected


def test_unknown_file_is_404(org_tree, role_users, api):
    assert api(role_users["administrator"]).get("/api/files/987654").status_code == 404


def test_an_evidence_kind_no_current_referential_knows_is_refused(
    org_tree, role_users, api, referential
):
    """The page offers only the referentials' kinds; the API refuses the others, in French."""
    response = api(role_users["es_rssi"]).post_form(
        "/api/evidence", evidence_form(org_tree.ej_b, kind="n_importe_quoi")
    )
    assert response.status_code == 422, response.content
    assert "Type de preuve inconnu « n_importe_quoi »" in response.json()["errors"]["kind"][0]
    assert not Evidence.objects.exists()
