"""The pages of the three roles, their isolation, and the dashboard's bounded query count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client

from careops.declarations import dashboards
from tests.declarations.conftest import REVIEW_AT


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_establishment_ars_and_ans_pages(declared, people):
    url = f"/declarations/{declared.pk}/"
    rssi = client_for(people.rssi).get(url)
    assert rssi.status_code == 200
    body = rssi.content.decode()
    assert declared.declaration.content_sha256 in body and "intègre" in body
    assert "avis ARS sur une page" not in body
    with time_machine.travel(REVIEW_AT, tick=False):
        ars = client_for(people.ars).get(url).content.decode()
        ans = client_for(people.ans).get(url).content.decode()
    assert "Clore l'instruction ARS" in ars and "avis ARS sur une page" in ars
    assert "Rendre la décision" not in ans and "avis ANS sur une page" not in ans
    with time_machine.travel(dt.datetime(2027, 1, 2, 9, tzinfo=dt.UTC), tick=False):
        late = client_for(people.ars).get(url).content.decode()
    assert "Clore l'instruction ARS" not in late  # the ARS window closed on 31/12/2026
    assert client_for(people.ars_other).get(url).status_code == 404
    assert (
        client_for(people.ars_other).get(f"/declarations/{declared.pk}/dossier.zip").status_code
        == 404
    )
    zipped = client_for(people.ars).get(f"/declarations/{declared.pk}/dossier.zip")
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"
    listing = client_for(people.ars_other).get("/declarations/").content.decode()
    assert "GHT Test Val-de-Seine" not in listing


def test_refusals_are_shown_as_messages(validated, people):
    answer = client_for(people.ars_other).post(
        f"/declarations/{validated.pk}/validation/", {"ceiling_eur": "1"}
    )
    assert answer.status_code == 404
    with time_machine.travel(dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC), tick=False):
        answer = client_for(people.rssi).post(
            f"/declarations/{validated.pk}/depot/",
            {
                "representative_name": "X",
                "representative_title": "DG",
                "attested": "on",
                "confirmed": "on",
            },
            follow=True,
        )
    assert "Le guichet de déclaration est fermé" in answer.content.decode()


def test_dashboard_pages_and_exports(declared, people):
    page = client_for(people.ars).get("/declarations/tableau-de-bord/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Tableau de bord régional" in body and "<svg" in body
    assert re.search(r'<rect x="220" y="\d+" width="\d+(\.\d+)?" height="20"', body)
    national = client_for(people.ans).get("/declarations/tableau-de-bord/").content.decode()
    assert "Tableau de bord national" in national
    csv = client_for(people.ars).get("/declarations/tableau-de-bord/export.csv")
    assert "GHT Test Val-de-Seine" in csv.content.decode()
    other = client_for(people.ars_other).get("/declarations/tableau-de-bord/export.csv")
    assert "GHT Test Val-de-Seine" not in other.content.decode()
    xlsx = client_for(people.ans).get("/declarations/tableau-de-bord/export.xlsx")
    assert xlsx.content[:2] == b"PK"
    assert client_for(people.ans).get("/declarations/tableau-de-bord/export.exe").status_code == 404


@pytest.mark.parametrize("size", [1, 6])
def test_dashboard_query_count_does_not_grow(
    size, org_tree, version, people, django_assert_max_num_queries
):
    from careops.declarations import services
    from tests.conftest import make_org
    from tests.declarations.conftest import APPLY_AT

    for i in range(size):
        ej = make_org(
            org_tree.ars_idf, "ej", f"Clinique {i}", f"9300{i:04d}", category="private_forprofit"
        )
        rssi = people.rssi.__class__.objects.create_user(f"r{i}", password="x")
        from careops.tenancy.models import RoleAssignment

        RoleAssignment.objects.create(user=rssi, organisation=ej, role="es_rssi")
        services.apply(rssi, ej, version, now=APPLY_AT)
    user = people.ans.__class__.objects.get(pk=people.ans.pk)  # fresh: grants not cached
    # 8: the user's grants, their pooled grants (AAP MS pools), then the dashboard's own queries
    with django_assert_max_num_queries(8):
        data = dashboards.build(user)
    assert data["totals"]["candidacies"] == size


def test_dashboard_counts_audits_and_ad_levels_in_scope(declared, people, org_tree):
    from careops.compliance import services as compliance

    for node, level in ((org_tree.ght, 3), (org_tree.ej_a, 2), (org_tree.ej_other, 4)):
        compliance.create_evidence(
            None,
            node,
            "ads_audit",
            "ADS",
            compliance.RevisionInput(
                effective_date=dt.date(2026, 1, 2), attributes={"level": level}
            ),
        )
        compliance.create_evidence(
            None,
            node,
            "exposure_audit",
            "SILENE",
            compliance.RevisionInput(effective_date=dt.date(2026, 1, 2)),
        )
    national = dashboards.build(people.ans.__class__.objects.get(pk=people.ans.pk))
    assert national["exposure_audits"] == 3
    assert national["ad_levels"] == [
        {"level": "2", "n": 1},
        {"level": "3", "n": 1},
        {"level": "4", "n": 1},
    ]
    regional = dashboards.build(people.ars.__class__.objects.get(pk=people.ars.pk))
    assert regional["exposure_audits"] == 2 and [a["level"] for a in regional["ad_levels"]] == [
        "2",
        "3",
    ]
    attained = {row["id"]: row for row in regional["attainment"]}
    assert attained["D2.P1"]["met"] == 1 and attained["D2.O1.B"]["met"] == 0
    assert (
        regional["categories"][0]["code"] == "ght"
        and regional["categories"][0]["share_applied"] == 1.0
    )
