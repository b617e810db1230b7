"""Isolation matrix: for every role of ``role_users`` and every endpoint, what is out of the
user's scope is absent from lists and "not found" (404) everywhere else; what is in scope reads;
only the write roles write (the others get 403 on what they see).

The expectations come from REACH (the nodes each role's grant covers in tests/conftest.py) and
the role sets below, written out by hand; they are never computed with the restriction helper.
"""

from __future__ import annotations

import pytest

from careops.compliance.models import Assessment, Evidence
from careops.tenancy import finess
from careops.tenancy.models import Organisation
from tests.api.conftest import ASSESSMENT_NODES, DOMAIN, EVIDENCE_NODES, evidence_form, load_domain

ROLES = (
    "administrator",
    "ans_instructor",
    "ars_instructor",
    "ght_rssi",
    "es_rssi",
    "contributor",
    "reader",
)
ALL_NODES = (
    "ans", "ars_idf", "ars_ara", "ght", "ej_a", "ej_b",
    "eg_a1", "eg_a2", "eg_b1", "esms", "ej_other", "eg_other",
)  # fmt: skip
IDF_GHT = ("ght", "ej_a", "ej_b", "eg_a1", "eg_a2", "eg_b1")

REACH = {
    "administrator": set(ALL_NODES),  # on the ANS, whole tree
    "ans_instructor": set(ALL_NODES),  # on the ANS, whole tree
    "ars_instructor": {"ars_ara", "ej_other", "eg_other"},  # ARS Auvergne-Rhône-Alpes only
    "ght_rssi": set(IDF_GHT),  # the GHT and everything under it
    "es_rssi": {"ej_b", "eg_b1"},  # CH Bêta and its site
    "contributor": {"ej_b", "eg_b1"},  # CH Bêta and its site
    "reader": {"eg_b1"},  # the site alone, without subtree
}
CHANGE_ROLES = {"administrator", "ght_rssi", "es_rssi", "contributor"}  # evidence, assessments
MANAGE_ROLES = {"administrator", "ght_rssi", "es_rssi"}  # organisation tree


def read_expectation(role: str, nodes) -> dict[str, int]:
    return {node: 200 if node in REACH[role] else 404 for node in nodes}


def write_expectation(role: str, nodes, writers: set[str], success: int) -> dict[str, int]:
    """404 out of scope (existence does not leak), 403 in scope without the right."""
    return {
        node: 404 if node not in REACH[role] else success if role in writers else 403
        for node in nodes
    }


@pytest.fixture
def ctx(world, org_tree, role_users, api):
    class Context:
        tree = org_tree

        def __init__(self, role):
            self.role = role
            self.client = api(role_users[role])

        def node(self, name):
            return getattr(org_tree, name)

        def node_names(self, ids):
            by_id = {getattr(org_tree, n).pk: n for n in ALL_NODES}
            return {by_id[i] for i in ids}

    Context.world = world
    return Context


# --- reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_organisation_list(ctx, role):
    c = ctx(role)
    items = c.client.get("/api/organisations/").json()["items"]
    assert c.node_names(i["id"] for i in items) == REACH[role]


@pytest.mark.parametrize("role", ROLES)
def test_organisation_detail(ctx, role):
    c = ctx(role)
    seen = {n: c.client.get(f"/api/organisations/{c.node(n).pk}").status_code for n in ALL_NODES}
    assert seen == read_expectation(role, ALL_NODES)


@pytest.mark.parametrize("role", ROLES)
def test_evidence_list(ctx, role):
    c = ctx(role)
    items = c.client.get("/api/evidence").json()["items"]
    assert c.node_names(i["organisation"] for i in items) == REACH[role] & set(EVIDENCE_NODES)


@pytest.mark.parametrize("role", ROLES)
def test_evidence_list_filtered_on_a_node_out_of_scope_is_empty(ctx, role):
    c = ctx(role)
    for node in set(EVIDENCE_NODES) - REACH[role]:
        page = c.client.get("/api/evidence", organisation=c.node(node).pk).json()
        assert page == {"items": [], "count": 0}, node


@pytest.mark.parametrize("role", ROLES)
def test_evidence_detail(ctx, role):
    c = ctx(role)
    seen = {
        n: c.client.get(f"/api/evidence/{c.world.evidence[n].pk}").status_code
        for n in EVIDENCE_NODES
    }
    assert seen == read_expectation(role, EVIDENCE_NODES)


@pytest.mark.parametrize("role", ROLES)
def test_file_download(ctx, role):
    c = ctx(role)
    seen = {n: c.client.get(f"/api/files/{c.world.files[n].pk}") for n in EVIDENCE_NODES}
    assert {n: r.status_code for n, r in seen.items()} == read_expectation(role, EVIDENCE_NODES)
    for response in seen.values():
        if response.status_code == 200:
            assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")


@pytest.mark.parametrize("role", ROLES)
def test_assessment_list(ctx, role):
    c = ctx(role)
    items = c.client.get("/api/assessments").json()["items"]
    assert c.node_names(i["candidate"] for i in items) == REACH[role] & set(ASSESSMENT_NODES)


@pytest.mark.parametrize("role", ROLES)
def test_assessment_detail(ctx, role):
    c = ctx(role)
    seen = {
        n: c.client.get(f"/api/assessments/{c.world.assessments[n].pk}").status_code
        for n in ASSESSMENT_NODES
    }
    assert seen == read_expectation(role, ASSESSMENT_NODES)


@pytest.mark.parametrize("role", ROLES)
def test_referential_is_readable_by_all(ctx, referential, role):
    c = ctx(role)
    assert c.client.get("/api/referential/versions").json()["count"] == 1
    assert c.client.get(f"/api/referential/versions/{referential.pk}").status_code == 200


# --- writes --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_evidence_create(ctx, role):
    c = ctx(role)
    before = Evidence.objects.count()
    seen = {
        n: c.client.post_form("/api/evidence", evidence_form(c.node(n))).status_code
        for n in EVIDENCE_NODES
    }
    expected = write_expectation(role, EVIDENCE_NODES, CHANGE_ROLES, 201)
    assert seen == expected
    assert Evidence.objects.count() == before + list(expected.values()).count(201)


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("revision.pdf", b"%PDF-1.4\n%revision\n", "application/pdf")


@pytest.mark.parametrize("role", ROLES)
def test_revision_create(ctx, role):
    c = ctx(role)
    seen = {}
    for n in EVIDENCE_NODES:
        evidence = c.world.evidence[n]
        response = c.client.post_form(
            f"/api/evidence/{evidence.pk}/revisions",
            {"effective_date": "2026-02-01", "files": _pdf()},
        )
        seen[n] = response.status_code
        assert evidence.revisions.count() == (2 if response.status_code == 201 else 1)
    assert seen == write_expectation(role, EVIDENCE_NODES, CHANGE_ROLES, 201)


@pytest.mark.parametrize("role", ROLES)
def test_assessment_create(ctx, role, tmp_path):
    c = ctx(role)
    version = load_domain({**DOMAIN, "version": "2"}, tmp_path)
    candidates = ("ej_a", *ASSESSMENT_NODES)
    seen = {
        n: c.client.post(
            "/api/assessments", {"candidate": c.node(n).pk, "referential_version": version.pk}
        ).status_code
        for n in candidates
    }
    expected = write_expectation(role, candidates, CHANGE_ROLES, 201)
    assert seen == expected
    assert Assessment.objects.filter(referential_version=version).count() == list(
        expected.values()
    ).count(201)


@pytest.mark.parametrize("role", ROLES)
def test_assessment_patch(ctx, role):
    c = ctx(role)
    seen = {}
    for n in ASSESSMENT_NODES:
        assessment = c.world.assessments[n]
        response = c.client.patch(
            f"/api/assessments/{assessment.pk}", {"filing_date": "2026-03-31"}
        )
        seen[n] = response.status_code
        assessment.refresh_from_db()
        assert (assessment.filing_date is not None) == (response.status_code == 200)
    assert seen == write_expectation(role, ASSESSMENT_NODES, CHANGE_ROLES, 200)


# Where a new node may hang, and of which kind.
NEW_CHILDREN = {"ars_idf": "esms", "ars_ara": "ej", "ght": "ej", "ej_a": "eg", "ej_b": "eg"}


@pytest.mark.parametrize("role", ROLES)
def test_organisation_create(ctx, role):
    c = ctx(role)
    seen = {}
    for serial, (parent, kind) in enumerate(NEW_CHILDREN.items()):
        response = c.client.post(
            "/api/organisations/",
            {
                "parent": c.node(parent).pk,
                "kind": kind,
                "name": f"Nouveau {kind} sous {parent}",
                "finess": finess.with_key(f"930000{serial:02d}"),
            },
        )
        seen[parent] = response.status_code
        created = Organisation.objects.filter(parent=c.node(parent), name__startswith="Nouveau")
        assert created.exists() == (response.status_code == 201)
    assert seen == write_expectation(role, NEW_CHILDREN, MANAGE_ROLES, 201)


# --- the regional boundary, spelled out ----------------------------------------------------


def test_ars_instructor_of_ara_sees_nothing_of_the_idf_ght(ctx, org_tree):
    c = ctx("ars_instructor")
    idf = org_tree.ars_idf.path
    organisations = c.client.get("/api/organisations/", limit=500).json()["items"]
    assert organisations and not [o for o in organisations if o["path"].startswith(idf)]
    assert c.client.get("/api/organisations/", parent=org_tree.ght.pk).json()["count"] == 0
    evidence = c.client.get("/api/evidence").json()["items"]
    assert [e["organisation"] for e in evidence] == [org_tree.ej_other.pk]
    assessments = c.client.get("/api/assessments").json()["items"]
    assert [a["candidate"] for a in assessments] == [org_tree.ej_other.pk]
    for name in IDF_GHT:
        assert c.client.get(f"/api/organisations/{c.node(name).pk}").status_code == 404
    for name in ("ght", "ej_a", "ej_b", "eg_b1"):
        evidence = c.world.evidence[name]
        assert c.client.get(f"/api/evidence/{evidence.pk}").status_code == 404
        assert c.client.get(f"/api/files/{c.world.files[name].pk}").status_code == 404
        response = c.client.post_form(
            f"/api/evidence/{evidence.pk}/revisions",
            {"effective_date": "2026-02-01", "files": _pdf()},
        )
        assert response.status_code == 404
        assert response.json() == {"detail": "Ressource introuvable."}
    for name in ("ght", "ej_b"):
        assessment = c.world.assessments[name]
        assert c.client.get(f"/api/assessments/{assessment.pk}").status_code == 404
    # the instructor reads its own region
    assert c.client.get(f"/api/evidence/{c.world.evidence['ej_other'].pk}").status_code == 200
