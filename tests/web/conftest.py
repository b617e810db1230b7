"""Fixtures of the web tests: the D2 referential, MFA-ready users, and a tree full of objects.

``world`` puts one assessment on every candidate of ``org_tree`` and one piece of evidence (with
one PDF file) on most nodes, so that each page can be checked for what it must and must not show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.conf import settings

from tests.web.helpers import enable_totp, evidence_title, load_d2, pdf_bytes, pdf_upload

CANDIDACY = dt.date(2024, 6, 1)

# Candidates with an assessment, and nodes with a piece of evidence, by ``org_tree`` attribute.
CANDIDATES = ("ght", "ej_a", "ej_b", "esms", "ej_other")
EVIDENCE_NODES = ("ght", "ej_a", "eg_a1", "ej_b", "eg_b1", "esms", "ej_other", "eg_other")


@pytest.fixture
def d2(db):
    return load_d2()


@pytest.fixture
def users(role_users) -> dict:
    """``role_users``, with a TOTP authenticator for the roles the MFA middleware insists on."""

    for role, user in role_users.items():
        if role in settings.MFA_REQUIRED_ROLES:
            enable_totp(user)
    return role_users


@dataclass
class World:
    """Everything ``world`` created, by node key (an ``org_tree`` attribute name)."""

    tree: object
    version: object
    orgs: dict = field(default_factory=dict)
    assessments: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    contents: dict = field(default_factory=dict)


@pytest.fixture
def world(org_tree, d2) -> World:
    from careops.compliance import services

    keys = [name for name in vars(org_tree)]
    w = World(tree=org_tree, version=d2, orgs={k: getattr(org_tree, k) for k in keys})
    for key in EVIDENCE_NODES:
        upload = pdf_upload(f"pssi-{key}.pdf", marker=key)
        w.contents[key] = pdf_bytes(key)
        w.evidence[key] = services.create_evidence(
            None,
            w.orgs[key],
            "pssi",
            evidence_title(key),
            services.RevisionInput(
                effective_date=dt.date(2022, 7, 10),
                validated_by="legal_representative",
                files=[upload],
            ),
            item_codes=["D2.P1"],
        )
        w.files[key] = w.evidence[key].revisions.get().files.get()
    # opened last, so that each assessment is evaluated once, with all the evidence in place
    for key in CANDIDATES:
        w.assessments[key] = services.open_assessment(None, w.orgs[key], d2, CANDIDACY)
    return w
