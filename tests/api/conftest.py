"""Fixtures of the API tests: an authenticated client per user, a small referential version,
evidence and assessments spread over the organisation tree of ``org_tree``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

# A real, minimal PDF document (one empty page).
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)

# The referential version the tests load: a prerequisite, a group with two objectives (one
# still to confirm). Written in the YAML field names, validated by the catalogue schema.
DOMAIN = {
    "domain": "D2",
    "version": "1",
    "status": "published",
    "title": "Continuité et reprise d'activité (tests)",
    "evidence_kinds": {
        "pssi": {"label": "PSSI", "noun": "la PSSI"},
        "pca": {"label": "Plan de continuité", "noun": "le plan de continuité"},
    },
    "items": [
        {
            "id": "D2.P1",
            "kind": "prerequisite",
            "title": "PSSI validée",
            "criteria": [{"type": "document", "evidence_kind": "pssi"}],
        },
        {"id": "D2.O1", "kind": "group", "title": "Continuité"},
        {
            "id": "D2.O1.A",
            "kind": "objective",
            "parent": "D2.O1",
            "title": "Plan de continuité formalisé",
            "criteria": [{"type": "document", "evidence_kind": "pca"}],
        },
        {
            "id": "D2.O1.B",
            "kind": "objective",
            "parent": "D2.O1",
            "title": "Exercice de crise",
            "to_confirm": True,
        },
    ],
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hash the fixtures' passwords cheaply: each test creates several users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _stand_in_evaluate(version_data: dict[str, Any], dossier: dict[str, Any]):
    """A minimal evaluator: a document criterion is met when evidence of its kind exists."""
    from careops.catalogue.bridge import Outcome

    kinds = {evidence["kind"] for evidence in dossier.get("evidence", [])}
    results = []
    for item in version_data.get("items", []):
        if item["kind"] == "group":
            continue
        wanted = [c["evidence_kind"] for c in item.get("criteria", []) if "evidence_kind" in c]
        if not wanted:
            results.append({"id": item["id"], "status": "not_applicable", "reasons": []})
        elif all(kind in kinds for kind in wanted):
            results.append({"id": item["id"], "status": "met", "reasons": ["preuve présente"]})
        else:
            reasons = [f"aucune preuve de type « {kind} »" for kind in wanted if kind not in kinds]
            results.append({"id": item["id"], "status": "missing_evidence", "reasons": reasons})
    met = sum(result["status"] == "met" for result in results)
    return Outcome(results=results, progress=met / len(results) if results else 0.0)


@pytest.fixture(autouse=True)
def evaluation(monkeypatch):
    """Use the real evaluator once careops.catalogue.bridge is wired to the engine; until then
    (it raises NotImplementedError) stand in for it, since writes recompute statuses."""
    from careops.catalogue import bridge

    try:
        bridge.evaluate({"items": []}, {"evidence": []})
    except NotImplementedError:
        monkeypatch.setattr(bridge, "evaluate", _stand_in_evaluate)
    except Exception:  # noqa: S110 — the real evaluator refused the empty input: it is wired
        pass


def make_version(domain: dict[str, Any]):
    """Store a referential version with its items, as the catalogue loader would."""
    from careops.catalogue.engine.loader import dump_domain
    from careops.catalogue.engine.schema import DomainVersion
    from careops.catalogue.models import Item, ReferentialVersion

    data = dump_domain(DomainVersion.model_validate(domain))
    version = ReferentialVersion.objects.create(
        domain=data["domain"],
        version=data["version"],
        status=data["status"],
        title=data["title"],
        source_file=f"tests/{data['domain']}-v{data['version']}.yaml",
        sha256=hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
        data=data,
        is_current=True,
    )
    for position, item in enumerate(data["items"]):
        Item.objects.create(
            version=version,
            code=item["id"],
            parent_code=item.get("parent") or "",
            kind=item["kind"],
            title=item["title"],
            to_confirm=item.get("to_confirm", False),
            position=position,
            data=item,
        )
    return version


@pytest.fixture
def referential(db):
    """The test referential version D2 v1."""
    return make_version(DOMAIN)


def pdf_upload(name: str = "pssi.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class Api:
    """A test client authenticated with a real API token of ``user``."""

    def __init__(self, user):
        from careops.core import tokens

        self.user = user
        _, value = tokens.issue(user, "tests")
        self.client = Client(headers={"Authorization": f"Bearer {value}"})

    def get(self, path: str, **params):
        return self.client.get(path, params)

    def post(self, path: str, data: dict):
        return self.client.post(path, data, content_type="application/json")

    def patch(self, path: str, data: dict):
        return self.client.patch(path, data, content_type="application/json")

    def post_form(self, path: str, data: dict):
        """Multipart POST; file objects in ``data`` are sent as uploads."""
        return self.client.post(path, data)


@pytest.fixture
def api():
    """Return a factory: api(user) → a client authenticated as that user by token."""
    return Api


def evidence_form(organisation, **extra) -> dict:
    """The multipart fields of a new piece of evidence on ``organisation``, with one PDF."""
    form = {
        "organisation": organisation.pk,
        "kind": "pssi",
        "title": "PSSI 2026",
        "item_codes": ["D2.P1"],
        "effective_date": "2026-01-15",
        "validated_by": "management_body",
        "attributes": json.dumps({"version": "3.1"}),
        "files": [pdf_upload()],
    }
    form.update(extra)
    return form


@dataclass
class World:
    """Objects spread over the tree, keyed by the attribute name of their organisation."""

    evidence: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)
    assessments: dict[str, Any] = field(default_factory=dict)


# Where the world puts evidence (one per node) and assessments (candidates only).
EVIDENCE_NODES = ("ght", "ej_a", "ej_b", "eg_b1", "esms", "ej_other")
ASSESSMENT_NODES = ("ght", "ej_b", "esms", "ej_other")


@pytest.fixture
def world(org_tree, referential) -> World:
    """One piece of evidence (with a PDF) on each of EVIDENCE_NODES, and an assessment on each
    of ASSESSMENT_NODES, written through the services as the system (no user)."""
    import datetime as dt

    from careops.compliance import services

    result = World()
    for name in ASSESSMENT_NODES:
        result.assessments[name] = services.open_assessment(
            None, getattr(org_tree, name), referential, candidacy_date=dt.date(2025, 11, 3)
        )
    for name in EVIDENCE_NODES:
        evidence = services.create_evidence(
            None,
            getattr(org_tree, name),
            "pssi",
            f"PSSI — {name}",
            services.RevisionInput(
                effective_date=dt.date(2026, 1, 15), files=[pdf_upload(f"pssi-{name}.pdf")]
            ),
            item_codes=["D2.P1"],
        )
        result.evidence[name] = evidence
        result.files[name] = evidence.current.files.get()
    return result
