"""Fixtures of the declaration tests: a small test domain whose windows straddle both DST
changes, users per role (two ARS regions), and helpers to walk a dossier through the workflow.

Windows of the test domain (Europe/Paris):
- candidacy: 26/10/2025 (autumn DST change) → 29/03/2026 (spring DST change), inclusive;
- declaration: 30/03/2026 09:00 → 25/10/2026 (autumn DST change), inclusive;
- ARS instruction from 01/04/2026 to 31/12/2026, ANS to 31/03/2027, payment to 30/06/2027.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.web.helpers import enable_totp, pdf_bytes

UTC = dt.UTC
# Instants inside each window (UTC).
APPLY_AT = dt.datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
VALIDATE_AT = dt.datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
FILE_AT = dt.datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
REVIEW_AT = dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
DECIDE_AT = dt.datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
PAY_AT = dt.datetime(2027, 4, 1, 8, 0, tzinfo=UTC)

DOMAIN = {
    "domain": "D2",
    "version": "1",
    "status": "published",
    "title": "Continuité (domaine de test des déclarations)",
    "windows": {
        "candidacy": {"opens": "2025-10-26", "closes": "2026-03-29"},
        "declaration": {"opens": "2026-03-30T09:00", "closes": "2026-10-25"},
        "ars_instruction": {"opens": "2026-04-01", "closes": "2026-12-31"},
        "ans_instruction": {"opens": "2026-04-01", "closes": "2027-03-31"},
        "payment": {"opens": "2026-04-01", "closes": "2027-06-30"},
    },
    "evidence_kinds": {
        "pssi": {"label": "PSSI", "noun": "la PSSI"},
        "pca": {"label": "Plan de continuité", "noun": "le plan de continuité"},
        "backup_test": {"label": "Test de restauration", "noun": "le test de restauration"},
    },
    "eligibility": {"candidate_kinds": ["ght", "ej"]},
    "funding": {
        "envelope_eur": 1000000,
        "ceiling": {"basis": "plafond fixé à la validation", "to_confirm": True},
        "modulation": {
            "mode": "proportional",
            "weights": {"D2.O1.B": 2},
            "prerequisites_gate": True,
        },
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
            "title": "Plan de continuité",
            "criteria": [{"type": "document", "evidence_kind": "pca"}],
        },
        {
            "id": "D2.O1.B",
            "kind": "objective",
            "parent": "D2.O1",
            "title": "Test de restauration",
            "criteria": [{"type": "document", "evidence_kind": "backup_test"}],
        },
    ],
}


def load_domain(domain: dict, directory):
    from careops.catalogue import services
    from careops.catalogue.models import ReferentialVersion

    path = directory / f"{domain['domain'].lower()}-v{domain['version']}.yaml"
    path.write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False), "utf-8")
    services.load_paths([path])
    return ReferentialVersion.objects.get(domain=domain["domain"], version=domain["version"])


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def version(db, tmp_path):
    return load_domain(DOMAIN, tmp_path)


def upload(name: str, marker: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(marker), "application/pdf")


def add_evidence(organisation, kind: str, title: str, marker: str, day=dt.date(2026, 1, 5)):
    from careops.compliance import services

    return services.create_evidence(
        None,
        organisation,
        kind,
        title,
        services.RevisionInput(effective_date=day, files=[upload(f"{kind}.pdf", marker)]),
    )


@dataclass
class People:
    rssi: object
    ars: object  # ARS Île-de-France: the GHT's region
    ars_other: object  # ARS Auvergne-Rhône-Alpes
    ans: object
    contributor: object
    reader: object


@pytest.fixture
def people(org_tree, make_user) -> People:
    t = org_tree
    found = People(
        rssi=make_user("ght_rssi", t.ght, username="rssi.ght"),
        ars=make_user("ars_instructor", t.ars_idf, username="ars.idf"),
        ars_other=make_user("ars_instructor", t.ars_ara, username="ars.ara"),
        ans=make_user("ans_instructor", t.ans, username="ans"),
        contributor=make_user("contributor", t.ej_a, username="contrib"),
        reader=make_user("reader", t.ght, username="lecteur"),
    )
    for user in (found.ars, found.ars_other, found.ans):
        enable_totp(user)
    return found


@pytest.fixture
def evidence(org_tree, version):
    """PSSI and continuity plan on the GHT (P1 and O1.A met); no restore test (O1.B missing)."""
    return {
        "pssi": add_evidence(org_tree.ght, "pssi", "PSSI du GHT", "pssi"),
        "pca": add_evidence(org_tree.ght, "pca", "PCA du GHT", "pca"),
    }


@pytest.fixture
def validated(org_tree, version, people, evidence):
    """The GHT's candidacy, applied and validated by its ARS with a 100 000 € ceiling."""
    from careops.declarations import services

    candidacy = services.apply(people.rssi, org_tree.ght, version, now=APPLY_AT)
    return services.validate_candidacy(people.ars, candidacy, "100000", now=VALIDATE_AT)


@pytest.fixture
def declared(validated, people):
    from careops.declarations import services

    services.file_declaration(
        people.rssi, validated, "Mme Claire Martin", "Directrice générale", True, now=FILE_AT
    )
    validated.refresh_from_db()
    return validated


def ans_concur(people, declaration, now=DECIDE_AT, **verdicts):
    """The ANS gives its opinion on every item still without one: « conforme » unless
    ``verdicts`` names another (item code with "_" for "." → (verdict, message))."""
    from careops.declarations import services
    from careops.declarations.choices import Level, Verdict

    current = services.current_reviews(declaration, Level.ANS)
    wanted = {k.replace("_", "."): v for k, v in verdicts.items()}
    for item in services.reviewable_items(declaration):
        code = item["id"]
        if code in current and current[code].verdict != Verdict.COMPLEMENT and code not in wanted:
            continue
        verdict, message = wanted.get(code, (Verdict.COMPLIANT, ""))
        services.review_item(people.ans, declaration, code, verdict, message, now=now)
