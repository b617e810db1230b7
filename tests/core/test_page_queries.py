"""The pages of the national load test (benchmarks/national.py) run a number of SQL queries that
does not depend on how many establishments, audits, findings and evidence there are: the same
page, the same user, before and after adding establishments under the user's GHT and region
(each with its evidence, an exposure audit and findings, an AD audit), runs as many queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_org
from tests.declarations.conftest import add_evidence

pytestmark = pytest.mark.django_db


def add_establishments(parent, count: int, start: int) -> None:
    from careops.directory.models import Audit, Domain
    from careops.exposure.models import Finding, ScanRun

    now = timezone.now()
    for i in range(start, start + count):
        ej = make_org(parent, "ej", f"CH {i}", f"9400{i:04d}", category="public")
        add_evidence(ej, "pssi", f"PSSI {i}", f"pssi-{i}")
        run = ScanRun.objects.create(
            organisation=ej, status="done", scope={}, started_at=now, finished_at=now
        )
        for n in range(3):
            Finding.objects.create(
                organisation=ej,
                fingerprint=f"{i}-{n}",
                rule=f"EXP-{n:03d}",
                severity="high",
                host=f"198.51.100.{n}",
                title="Service exposé",
                first_run=run,
                last_run=run,
                first_seen=now,
                last_seen=now,
            )
        domain = Domain.objects.create(organisation=ej, name=f"ad{i}.test")
        Audit.objects.create(domain=domain, source="oradad", status="done", level=3)


def queries(user, path: str) -> int:
    client = Client()
    client.force_login(user)
    client.get(path)  # first request: per-process caches filled
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def test_national_pages_query_counts_do_not_grow_with_establishments(declared, people, org_tree):
    ght = org_tree.ght.pk
    pages = [
        (people.rssi, "/"),
        (people.rssi, "/preuves/"),
        (people.rssi, f"/exposition/organisations/{ght}/"),
        (people.rssi, f"/declarations/{declared.pk}/"),
        (people.ars, "/declarations/tableau-de-bord/?domaine=D2"),
        (people.ars, "/declarations/"),
        (people.ars, "/"),
    ]
    add_establishments(org_tree.ght, 1, 0)
    before = {path + user.username: queries(user, path) for user, path in pages}
    add_establishments(org_tree.ght, 6, 1)
    add_establishments(org_tree.ars_idf, 6, 7)
    after = {path + user.username: queries(user, path) for user, path in pages}
    assert after == before
