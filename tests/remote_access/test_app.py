"""The remote-access workspace end to end: inventory import/export, bulk edit, reviews as D3
evidence, the vendor role's isolation and the RSSI's decision on attestations."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from careops.compliance.models import Evidence
from careops.remote_access import services
from careops.remote_access.models import AccessPath, Attestation, Review
from tests.conftest import PASSWORD
from tests.remote_access.helpers import inventory_bytes, vendor_path
from tests.remote_access.test_engine import SWANCTL_WEAK

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_inventory_page_lists_paths_with_inherited_priority_after_a_review(client, scene):
    login(client, scene.rssi)
    services.run_review(scene.rssi, scene.tree.ej_a)
    page = client.get("/acces-distants/").content.decode()
    assert "RA-BIO-01" in page and "RA-TT-01" in page and "RA-B-01" in page
    assert "P1" in page  # the DPI serves the emergency department (P1)
    assert 'aria-current="page"' in page and "Accès distants" in page


def test_import_creates_and_updates_paths_and_links_bia_targets(client, scene):
    login(client, scene.rssi)
    rows = [
        vendor_path(ref="RA-BIO-01", name="IRM (renommé)", targets=["DPI"]),
        vendor_path(ref="RA-NEW", name="Labo", targets=["SIL"]),
    ]
    upload = io.BytesIO(inventory_bytes(rows))
    upload.name = "inventaire.xlsx"
    response = client.post(
        "/acces-distants/import/", {"organisation": scene.tree.ej_a.pk, "workbook": upload}
    )
    assert response.status_code == 302
    bio = AccessPath.objects.get(organisation=scene.tree.ej_a, ref="RA-BIO-01")
    assert bio.name == "IRM (renommé)" and bio.activation == "on_demand"
    new = AccessPath.objects.get(ref="RA-NEW")
    assert [r.code for r in new.targets.all()] == ["SIL"]
    assert services.PriorityResolver().path_priority(new) == "P2"


def test_bad_import_saves_nothing_and_says_why_in_french(client, scene):
    login(client, scene.rssi)
    rows = [vendor_path(ref="RA-BIO-01", name="Ne doit pas être enregistré", targets=["INCONNU"])]
    upload = io.BytesIO(inventory_bytes(rows))
    upload.name = "inventaire.xlsx"
    page = client.post(
        "/acces-distants/import/", {"organisation": scene.tree.ej_a.pk, "workbook": upload}
    )
    text = page.content.decode()
    assert "a été enregistré :" in text and "ressource(s) du BIA inconnue(s) : INCONNU" in text
    assert AccessPath.objects.get(ref="RA-BIO-01").name == "Télémaintenance IRM"
    junk = io.BytesIO(b"not a workbook")
    junk.name = "x.xlsx"
    text = client.post(
        "/acces-distants/import/", {"organisation": scene.tree.ej_a.pk, "workbook": junk}
    ).content.decode()
    assert "illisible comme classeur Excel" in text


def test_exports_neutralise_formula_injection(client, scene):
    AccessPath.objects.filter(pk=scene.bio.pk).update(name="=cmd|' /C calc'!A0", vendor="+33 1 23")
    login(client, scene.rssi)
    response = client.get("/acces-distants/export.csv")
    # a BOM, as in every careops CSV: without it French Excel shows « RÃ©fÃ©rence »
    assert response.content.startswith("\ufeffRéférence;Nom;".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    by_ref = {r[0]: r for r in rows[1:]}
    assert by_ref["RA-BIO-01"][1] == "'=cmd|' /C calc'!A0" and by_ref["RA-BIO-01"][3] == "'+33 1 23"
    xlsx = load_workbook(io.BytesIO(client.get("/acces-distants/export.xlsx").content)).active
    names = [xlsx.cell(r, 2).value for r in range(2, xlsx.max_row + 1)]
    assert "'=cmd|' /C calc'!A0" in names
    header = [c.value for c in xlsx[1]]
    priority = {
        xlsx.cell(r, 1).value: xlsx.cell(r, header.index("Priorité héritée") + 1).value
        for r in range(2, xlsx.max_row + 1)
    }
    assert priority["RA-BIO-01"] == "P1" and priority["RA-TT-01"] == "P4"


def test_bulk_edit_changes_only_checked_paths_the_user_may_change(client, scene):
    login(client, scene.rssi)
    client.post(
        "/acces-distants/modification-en-masse/",
        {"paths": [scene.bio.pk, scene.staff.pk], "field": "activation", "value": "time_bound"},
    )
    assert set(
        AccessPath.objects.filter(activation="time_bound").values_list("ref", flat=True)
    ) == {"RA-BIO-01", "RA-TT-01"}
    response = client.post(
        "/acces-distants/modification-en-masse/",
        {"paths": [scene.bio.pk], "field": "activation", "value": "toujours"},
        follow=True,
    )
    assert "Valeur « toujours » non admise." in response.content.decode()
    # CH Bêta's RSSI cannot touch CH Alpha's paths: they are not even visible
    login(client, scene.es_rssi_b)
    client.post(
        "/acces-distants/modification-en-masse/",
        {"paths": [scene.bio.pk], "field": "activation", "value": "permanent"},
    )
    assert AccessPath.objects.get(pk=scene.bio.pk).activation == "time_bound"


def test_review_with_vpn_config_becomes_d3_evidence_and_builds_a_trend(client, scene):
    first = services.run_review(
        scene.rssi, scene.tree.ej_a, vpn_files=[("swanctl.conf", SWANCTL_WEAK.encode())]
    )
    bio = next(p for p in first.result["paths"] if p["ref"] == "RA-BIO-01")
    checks = {c["code"]: c for c in bio["checks"]}
    assert checks["A3"]["status"] == "fail" and checks["A3"]["source"] == "vpn"
    assert checks["A11"]["source"] == "vpn" and "10.0.0.0/8" in checks["A11"]["reason"]
    assert bio["priority"] == "P1" and bio["blocked"]
    evidence = Evidence.objects.get(pk=first.evidence_id)
    assert (evidence.kind, evidence.source) == ("remote_access_review", "remote_access")
    assert evidence.item_codes == ["D3.O1", "D3.O2"]
    assert evidence.current.attributes["score"] == first.score
    assert "do-not-keep-me" not in json.dumps(first.result) + json.dumps(first.sources)
    AccessPath.objects.filter(pk=scene.bio.pk).update(auth_factors=["totp"], through_bastion=True)
    second = services.run_review(
        scene.rssi, scene.tree.ej_a, vpn_files=[("swanctl.conf", SWANCTL_WEAK.encode())]
    )
    assert second.score > first.score
    login(client, scene.rssi)
    page = client.get(f"/acces-distants/revues/{second.pk}/").content.decode()
    assert "Carte des contrôles" in page and "<svg" in page and "A3 fail → pass" in page
    assert "<script" not in page.split("</header>")[1]


def test_review_refuses_bad_sources_and_keeps_nothing(scene):
    with pytest.raises(ValidationError) as caught:
        services.run_review(
            scene.rssi,
            scene.tree.ej_a,
            vpn_files=[("swanctl.conf", b"connections { x {")],
            bastion_files=[("h.csv", b"a,b\n")],
        )
    messages = caught.value.message_dict
    assert "accolade ouvrante non refermée" in messages["vpn"][0]
    assert "Username" in messages["bastion"][0]
    assert not Review.objects.exists()


def test_vendor_sees_and_attests_only_their_own_path(client, scene):
    login(client, scene.vendor)
    services.run_review(scene.rssi, scene.tree.ej_a)
    page = client.get("/acces-distants/").content.decode()
    assert "RA-BIO-01" in page and "RA-TT-01" not in page and "RA-B-01" not in page
    assert "Notes par établissement" not in page
    assert client.get(f"/acces-distants/{scene.staff.pk}/").status_code == 404
    assert client.get(f"/acces-distants/{scene.other.pk}/").status_code == 404
    review = Review.objects.get()
    assert client.get(f"/acces-distants/revues/{review.pk}/").status_code == 404
    assert client.get("/acces-distants/export.csv").content.decode().count("\n") == 1  # header only
    assert client.get(f"/acces-distants/{scene.bio.pk}/modifier/").status_code == 404
    # the vendor role opens nothing else of the establishment
    assert client.get("/sauvegardes/").status_code == 200
    assert "CH Alpha" not in client.get("/organisations/").content.decode()
    data = client.get("/api/remote-access/paths").json()
    assert data["count"] == 1 and data["items"][0]["ref"] == "RA-BIO-01"
    assert client.get("/api/remote-access/reviews").json()["count"] == 0
    response = client.post(f"/acces-distants/{scene.staff.pk}/attester/", {"technicians": "X"})
    assert response.status_code == 404
    client.post(
        f"/acces-distants/{scene.bio.pk}/attester/",
        {
            "contract_security_clauses": "on",
            "workstation_requirements": "on",
            "technicians": "Jean Dupont\nAna Martin",
        },
    )
    attestation = Attestation.objects.get()
    assert attestation.path == scene.bio and attestation.technicians == "Jean Dupont\nAna Martin"
    # a vendor cannot decide on their own attestation
    assert (
        client.post(
            f"/acces-distants/attestations/{attestation.pk}/decision/", {"decision": "accept"}
        ).status_code
        == 404
    )
    assert Attestation.objects.get().status == "pending"


def test_rssi_accepts_or_rejects_attestations(client, scene):
    first = services.submit_attestation(scene.vendor, scene.bio, True, True, "Jean Dupont")
    second = services.submit_attestation(scene.vendor, scene.bio, False, True, "Ana Martin")
    login(client, scene.rssi)
    page = client.get("/acces-distants/").content.decode()
    assert "Attestations fournisseur à examiner" in page
    response = client.post(
        f"/acces-distants/attestations/{second.pk}/decision/", {"decision": "reject"}, follow=True
    )
    assert "Indiquez le motif du refus." in response.content.decode()
    client.post(
        f"/acces-distants/attestations/{second.pk}/decision/",
        {"decision": "reject", "comment": "clauses absentes"},
    )
    client.post(f"/acces-distants/attestations/{first.pk}/decision/", {"decision": "accept"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("accepted", "rejected")
    bio = AccessPath.objects.get(pk=scene.bio.pk)
    assert bio.contract_security_clauses is True and bio.workstation_requirements is True
    evidence = Evidence.objects.get(kind="vendor_attestation")
    assert evidence.item_codes == ["D3.O1"] and evidence.current.attributes["technicians"] == [
        "Jean Dupont"
    ]
    # CH Bêta's RSSI cannot decide on CH Alpha's attestations
    third = services.submit_attestation(scene.vendor, scene.bio, True, True, "Léa")
    login(client, scene.es_rssi_b)
    assert (
        client.post(
            f"/acces-distants/attestations/{third.pk}/decision/", {"decision": "accept"}
        ).status_code
        == 404
    )


def test_api_paths_reviews_and_attestations(client, scene):
    login(client, scene.rssi)
    data = client.get("/api/remote-access/paths").json()
    assert set(data) == {"items", "count"} and data["count"] == 3
    created = client.post(
        "/api/remote-access/paths",
        {
            "organisation": scene.tree.ej_a.pk,
            "ref": "RA-API",
            "name": "SSH admin",
            "population": "it_admin_remote",
            "technology": "ssh",
            "auth_factors": ["fido2"],
            "internet_exposed": False,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["auth_factors"] == ["fido2"]
    bad = client.post(
        "/api/remote-access/paths",
        {
            "organisation": scene.tree.ej_a.pk,
            "ref": "RA-X",
            "name": "x",
            "population": "inconnue",
            "technology": "ssh",
        },
        content_type="application/json",
    )
    assert bad.status_code == 422 and "population" in bad.json()["detail"]
    review = client.post(
        "/api/remote-access/reviews",
        {
            "organisation": scene.tree.ej_a.pk,
            "vpn_configs": [
                {
                    "name": "swanctl.conf",
                    "content_base64": base64.b64encode(SWANCTL_WEAK.encode()).decode(),
                }
            ],
        },
        content_type="application/json",
    )
    assert review.status_code == 201, review.content
    body = review.json()
    assert body["paths_count"] == 3 and body["result"]["paths"][0]["checks"][0]["code"] == "A1"
    imported = client.post(
        "/api/remote-access/inventory/import",
        {
            "organisation": scene.tree.ej_a.pk,
            "workbook_base64": base64.b64encode(
                inventory_bytes([vendor_path(ref="RA-XLSX", targets=["DPI"])])
            ).decode(),
        },
        content_type="application/json",
    )
    assert imported.status_code == 201 and imported.json() == {"created": 1, "updated": 0}
    refused = client.post(
        "/api/remote-access/inventory/import",
        {"organisation": scene.tree.ej_a.pk, "workbook_base64": base64.b64encode(b"x").decode()},
        content_type="application/json",
    )
    assert refused.status_code == 422 and "illisible" in refused.json()["detail"]
    outsider = client.post(
        "/api/remote-access/reviews",
        {"organisation": scene.tree.ej_other.pk},
        content_type="application/json",
    )
    assert outsider.status_code == 404
    login(client, scene.es_rssi_b)
    assert client.get(f"/api/remote-access/paths/{scene.bio.pk}").status_code == 404
    assert client.get("/api/remote-access/paths").json()["count"] == 1


def test_import_refuses_values_the_database_cannot_hold(scene):
    rows = [vendor_path(ref="RA-LONG", name="x" * 300)]
    with pytest.raises(ValidationError) as caught:
        services.import_inventory(scene.rssi, scene.tree.ej_a, inventory_bytes(rows))
    assert "« RA-LONG »" in caught.value.message_dict["workbook"][0]
    assert not AccessPath.objects.filter(ref="RA-LONG").exists()


def test_vendor_home_page_shows_nothing_of_the_establishment(client, scene):
    login(client, scene.vendor)
    page = client.get("/").content.decode()
    assert client.get("/").status_code == 200 and "CH Alpha" not in page


def test_demo_seeds_two_paths_reaching_the_demo_bia(db):
    from django.core.management import call_command

    call_command("careops_demo", stdout=io.StringIO())
    call_command("careops_demo", stdout=io.StringIO())  # idempotent
    paths = {p.ref: p for p in AccessPath.objects.all()}
    assert set(paths) == {"RA-BIO-01", "RA-TT-01"}
    resolver = services.PriorityResolver()
    assert resolver.path_priority(paths["RA-BIO-01"]) == "P1"


def test_review_evidence_reaches_the_d3_assessment_items_which_stay_to_confirm(client, scene):
    from careops.catalogue import services as catalogue
    from careops.catalogue.models import ReferentialVersion
    from careops.compliance import services as compliance

    catalogue.load_default()
    version = ReferentialVersion.objects.get(domain="D3", version="0.1")
    assessment = compliance.open_assessment(scene.rssi, scene.tree.ej_a, version)
    review = services.run_review(scene.rssi, scene.tree.ej_a)
    dossier = compliance.build_dossier(assessment)
    kinds = [e["kind"] for e in dossier["evidence"]]
    assert "remote_access_review" in kinds
    statuses = {s.item_code: s for s in compliance.evaluate_assessment(assessment)}
    assert set(statuses) >= {"D3.O1", "D3.O2"}
    login(client, scene.rssi)
    page = client.get(f"/evaluations/{assessment.pk}/exigences/D3.O1/").content.decode()
    assert "La revue des accès distants de careops" in page  # expected evidence, to confirm
    evidence_page = client.get(f"/preuves/{review.evidence_id}/").content.decode()
    assert review.evidence.title in evidence_page and "D3.O1" in evidence_page
