"""Fixtures of the web tests: the D2 referential, MFA-ready users, and a tree full of objects.

``world`` puts one assessment on every candidate of ``org_tree`` and one piece of evidence (with
one PDF file) on most nodes, so that each page can be checked for what it must and must not show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

CANDIDACY = dt.date(2024, 6, 1)

# Candidates with an assessment, and nodes with a piece of evidence, by ``org_tree`` attribute.
CANDIDATES = ("ght", "ej_a", "ej_b", "esms", "ej_other")
EVIDENCE_NODES = ("ght", "ej_a", "eg_a1", "ej_b", "eg_b1", "esms", "ej_other", "eg_other")


def pdf_bytes(marker: str = "") -> bytes:
    """A small, real PDF; ``marker`` makes its content (hence its SHA-256) unique."""
    return (
        b"%PDF-1.4\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%" + marker.encode() + b"\n%%EOF\n"
    )


def pdf_upload(name: str = "pssi.pdf", marker: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(marker), "application/pdf")


def evidence_title(key: str) -> str:
    """The title of the evidence on node ``key``; brackets keep titles from containing others."""
    return f"PSSI [{key}]"


def load_d2():
    """Load the D2 referential file and return its current version.

    Only D2 is loaded: other domain files are edited by other people meanwhile, and these tests
    need nothing else from them.
    """
    from careops.catalogue import services
    from careops.catalogue.engine import loader
    from careops.catalogue.models import ReferentialVersion

    services.load_paths([loader.default_directory() / "d2-v1.yaml"])
    return ReferentialVersion.objects.get(domain="D2", is_current=True)


def enable_totp(user):
    """Give the user a TOTP authenticator, as if they had gone through the set-up page."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters live in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def d2(db):
    return load_d2()


@pytest.fixture
def users(role_users) -> dict:
    """``role_users``, with a TOTP authenticator for the roles the MFA middleware insists on."""
    from django.conf import settings

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
    for key in CANDIDATES:
        w.assessments[key] = services.open_assessment(None, w.orgs[key], d2, CANDIDACY)
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
    return w
