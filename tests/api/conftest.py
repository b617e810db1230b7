"""Fixtures of the API tests: an authenticated client per user, a small referential version,
evidence and assessments spread over the organisation tree of ``org_tree``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
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
    "facts": {"has_pca": {"label": "Un plan de continuité existe", "type": "bool"}},
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
def _media_per_test(settings, tmp_path):
    """Each test stores its uploads in its own folder, so "nothing was saved" can be checked."""
    settings.MEDIA_ROOT = tmp_path / "media"


def load_domain(domain: dict[str, Any], directory):
    """Load a referential file through the catalogue loader, the only writer of those tables."""
    from careops.catalogue import services
    from careops.catalogue.models import ReferentialVersion

    path = directory / f"{domain['domain'].lower()}-v{domain['version']}.yaml"
    path.write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False), "utf-8")
    services.load_paths([path])
    return ReferentialVersion.objects.get(domain=domain["domain"], version=domain["version"])


@pytest.fixture
def referential(db, tmp_path):
    """The test referential version D2 v1, loaded from a YAML file."""
    return load_domain(DOMAIN, tmp_path)


def pdf_upload(name: str = "pssi.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class Api:
    """A test client authenticated with a real API token of ``user``."""

    def __init__(self, user):
        from careops.core import tokens
        from careops.core.middleware import user_needs_mfa_setup
        from tests.web.helpers import enable_totp

        if user_needs_mfa_setup(user):  # tokens of MFA roles work only once MFA is enrolled
            enable_totp(user)
        self.user = user
        _, value = tokens.issue(user, "tests")
        self.client = Client(headers={"Authorization": f"Bearer {value}"})

    def get(self, path: str, **params):
        return self.client.get(path, params)

    def post(self, path: str, data: dict):
        return self.client.post(path, data, content_type="application/json")

    def patch(self, path: str, data: dict):
        return self.client.patch(path, data, content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(path)

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
    # opened after the evidence, so that each is evaluated once
    for name in ASSESSMENT_NODES:
        result.assessments[name] = services.open_assessment(
            None, getattr(org_tree, name), referential, candidacy_date=dt.date(2025, 11, 3)
        )
    return result
