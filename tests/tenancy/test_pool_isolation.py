"""Isolation matrix of the pooled RSSI role (AAP MS pooling of security resources).

Four medico-social structures of Île-de-France: two members of a pool (Tilleuls, Roses), one
that left it (Lilas) and one never in it (Glycines); each has a validated self-assessment (so a
pathway and a piece of evidence), and the GHT has evidence too. Expected:

- the pooled RSSI reaches the two members and nothing else (not the one that left, not the
  non-member, not the GHT, not another region);
- a member's RSSI reaches its own structure only, never the other member;
- the non-member's RSSI and the RSSI of the structure that left reach only their structure, not
  the pool (its page, its members, its conventions);
- the ARS instructor of the region reaches all four.

Checked on the maturity pages (campaign, result, structure, structures list, pool dashboard,
convention), the maturity API, the evidence library and evidence pages, and the home page.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from careops.compliance.models import Evidence
from careops.maturity import pools
from careops.maturity.models import Campaign
from tests.conftest import make_org
from tests.maturity.helpers import pool_with_members, validated
from tests.web.helpers import enable_totp

ESMS = ("tilleuls", "roses", "lilas", "glycines")
SEES = {
    "pooled": {"tilleuls", "roses"},
    "rssi_tilleuls": {"tilleuls"},
    "rssi_roses": {"roses"},
    "rssi_lilas": {"lilas"},  # left the pool: its own structure only, no longer the pool
    "rssi_glycines": {"glycines"},
    "ars": set(ESMS),
}
SEES_POOL = {"pooled", "rssi_tilleuls", "rssi_roses", "ars"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def scene(org_tree, make_user):
    from careops.compliance import services as compliance

    t = org_tree
    orgs = {
        "tilleuls": t.esms,
        "roses": make_org(
            t.ars_idf, "esms", "EHPAD Les Roses", "92000032", category="medico_social"
        ),
        "lilas": make_org(t.ars_idf, "esms", "IME Les Lilas", "92000033", category="medico_social"),
        "glycines": make_org(
            t.ars_idf, "esms", "SSIAD Les Glycines", "92000034", category="medico_social"
        ),
    }
    users = {f"rssi_{k}": make_user("es_rssi", o, username=f"rssi.{k}") for k, o in orgs.items()}
    users["ars"] = enable_totp(make_user("ars_instructor", t.ars_idf, username="ars.idf"))
    users["pooled"] = make_user(username="rssi.mutualise")
    users["ght"] = make_user("ght_rssi", t.ght, username="rssi.ght")
    campaigns = {k: validated(users[f"rssi_{k}"], o) for k, o in orgs.items()}
    pool, memberships = pool_with_members(
        users["ars"],
        t.ars_idf,
        [users["pooled"]],
        [(orgs[k], users[f"rssi_{k}"]) for k in ("tilleuls", "roses", "lilas")],
    )
    pools.leave(users["ars"], memberships[2], "sortie de la mutualisation")  # Lilas removed
    ght_evidence = compliance.create_evidence(
        None,
        t.ght,
        "maturity_questionnaire",
        "Preuve du GHT",
        compliance.RevisionInput(
            effective_date=compliance.today_in_paris(), attributes={"level": 2}
        ),
        item_codes=["D1.O4"],
        source="maturity",
    )
    for user in users.values():
        user._careops_grants = None
    return {
        "orgs": orgs,
        "users": users,
        "campaigns": campaigns,
        "pool": pool,
        "ght_evidence": ght_evidence,
    }


def _as(client, scene, who):
    client.force_login(scene["users"][who])
    return client


def _api(client, scene, who):
    """GET through the API with a token of ``who`` (an ARS session would need its 2nd factor)."""
    from careops.core.tokens import issue

    _token, value = issue(scene["users"][who], "matrice")
    return lambda url: client.get(url, HTTP_AUTHORIZATION=f"Bearer {value}")


def _check(wrong):
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("who", sorted(SEES))
def test_maturity_pages(client, scene, who):
    c = _as(client, scene, who)
    wrong = []
    for key in ESMS:
        allowed = key in SEES[who]
        campaign = scene["campaigns"][key]
        for name, args in (
            ("maturity:campaign", [campaign.pk]),
            ("maturity:result", [campaign.pk]),
            ("maturity:structure", [scene["orgs"][key].pk]),
            ("maturity:nis2_plan", [scene["orgs"][key].pk]),
        ):
            status = c.get(reverse(name, args=args)).status_code
            if (status == 200) != allowed or status not in (200, 404):
                wrong.append(f"{who} {name} {key}: {status}")
    for name in ("maturity:index", "maturity:structures"):
        html = c.get(reverse(name)).content.decode()
        for key in ESMS:
            if (scene["orgs"][key].name in html) != (key in SEES[who]):
                wrong.append(f"{who} {name} lists {key}: {scene['orgs'][key].name in html}")
    _check(wrong)


@pytest.mark.parametrize("who", [*sorted(SEES), "ght"])
def test_pool_dashboard_and_convention(client, scene, who):
    c = _as(client, scene, who)
    pool = scene["pool"]
    response = c.get(reverse("maturity:pool", args=[pool.pk]))
    convention = c.get(reverse("maturity:convention", args=[pool.conventions.get().pk]))
    listed = pool.name in c.get(reverse("maturity:pools")).content.decode()
    if who not in SEES_POOL:
        assert (response.status_code, convention.status_code, listed) == (404, 404, False)
        return
    assert response.status_code == 200 and convention.status_code == 200 and listed
    html = response.content.decode().split("Tableau de bord des membres")[1]
    html = html.split("</table>")[0]  # the ARS's invitation form lists the region's structures
    shown = {k for k in ESMS if scene["orgs"][k].name in html}
    expected = SEES[who] & {"tilleuls", "roses", "lilas"}
    if who == "pooled":
        expected = {"tilleuls", "roses"}  # Lilas left: no longer visible
    assert shown == expected


@pytest.mark.parametrize("who", [*sorted(SEES), "ght"])
def test_maturity_api(client, scene, who):
    get = _api(client, scene, who)
    sees = SEES.get(who, set())
    names = {scene["orgs"][k].pk: k for k in ESMS}
    campaigns = get("/api/maturity/campaigns?limit=500").json()["items"]
    assert {names.get(x["organisation"], "other") for x in campaigns} == sees
    pathways = get("/api/maturity/pathways?limit=500").json()["items"]
    assert {names[x["organisation"]] for x in pathways} == sees
    for key in ESMS:
        status = get(f"/api/maturity/pathways/{scene['orgs'][key].pk}").status_code
        assert status == (200 if key in sees else 404), (key, status)
    pool = get(f"/api/maturity/pools/{scene['pool'].pk}")
    if who not in SEES_POOL:
        assert pool.status_code == 404
        assert get("/api/maturity/pools").json()["items"] == []
    else:
        members = {names[m["organisation"]] for m in pool.json()["members"]}
        assert members <= sees and ("lilas" not in members or who == "ars")
        assert members == sees & ({"tilleuls", "roses", "lilas"} if who == "ars" else sees)


@pytest.mark.parametrize("who", [*sorted(SEES), "ght"])
def test_other_apps_evidence_and_home(client, scene, who):
    c = _as(client, scene, who)
    sees = SEES.get(who, set())
    evidence = {k: Evidence.objects.get(pk=scene["campaigns"][k].evidence_id) for k in ESMS} | {
        "ght": scene["ght_evidence"]
    }
    library = c.get(reverse("compliance:library")).content.decode()
    api = {e["id"] for e in _api(client, scene, who)("/api/evidence?limit=500").json()["items"]}
    home = c.get(reverse("core:home")).content.decode()
    wrong = []
    for key, item in evidence.items():
        allowed = key in sees or (key == "ght" and who in ("ght", "ars"))
        page = c.get(reverse("compliance:evidence", args=[item.pk])).status_code
        if (page == 200) != allowed:
            wrong.append(f"{who} evidence page {key}: {page}")
        if (reverse("compliance:evidence", args=[item.pk]) in library) != allowed:
            wrong.append(f"{who} evidence library {key}")
        if (item.pk in api) != allowed:
            wrong.append(f"{who} evidence API {key}")
        if key in scene["orgs"] and not allowed and scene["orgs"][key].name in home:
            wrong.append(f"{who} home page shows {key}")
        if key in scene["orgs"]:
            org = c.get(reverse("tenancy:detail", args=[scene["orgs"][key].pk])).status_code
            if (org == 200) != allowed:
                wrong.append(f"{who} organisation page {key}: {org}")
    _check(wrong)


def test_removed_member_and_ended_pool_leave_nothing_behind(client, scene):
    pooled = scene["users"]["pooled"]
    pools.leave(
        scene["users"]["rssi_roses"],
        scene["pool"].memberships.get(organisation=scene["orgs"]["roses"]),
    )
    pooled._careops_grants = None
    c = _as(client, scene, "pooled")
    roses = Campaign.objects.get(organisation=scene["orgs"]["roses"])
    assert c.get(reverse("maturity:campaign", args=[roses.pk])).status_code == 404
    pools.remove_staff(scene["users"]["ars"], scene["pool"], pooled)
    pooled._careops_grants = None
    assert c.get(reverse("maturity:pool", args=[scene["pool"].pk])).status_code == 404
    tilleuls = scene["campaigns"]["tilleuls"]
    assert c.get(reverse("maturity:campaign", args=[tilleuls.pk])).status_code == 404


# --- awareness and crisis exercises of the members ---------------------------------------------

# trained people over headcount, and clicks over e-mails delivered, per structure (all distinct)
SHARES = {"tilleuls": (3, 10), "roses": (1, 4), "lilas": (2, 5), "glycines": (1, 2)}
CLICKS = {"tilleuls": 1, "roses": 3, "lilas": 7, "glycines": 5}  # over 8 delivered


@pytest.fixture
def aware(scene):
    """Each structure trains some of its staff (a campaign of its own), has a headcount, a
    phishing exercise and a crisis exercise, written by its own RSSI."""
    import datetime as dt

    from django.utils import timezone

    from careops.awareness.models import (
        Attendance,
        PhishingCampaign,
        StaffHeadcount,
        TrainingCampaign,
        TrainingSession,
    )
    from careops.compliance.services import today_in_paris
    from careops.exercises import services as exercise_services

    day = today_in_paris() - dt.timedelta(days=30)
    found = {"training": {}, "phishing": {}, "exercise": {}}
    for key, org in scene["orgs"].items():
        trained, headcount = SHARES[key]
        campaign = TrainingCampaign.objects.create(
            organisation=org, title=f"Formation {key}", starts_on=day, ends_on=day
        )
        session = TrainingSession.objects.create(campaign=campaign, date=day)
        for n in range(trained):
            Attendance.objects.create(
                session=session,
                structure=org,
                line=n + 2,
                last_name=f"Agent{n}",
                email=f"agent{n}@{key}.test",
                profession="Aide-soignant",
                date=day,
            )
        StaffHeadcount.objects.create(
            organisation=org, profession="Aide-soignant", headcount=headcount
        )
        found["training"][key] = campaign
        found["phishing"][key] = PhishingCampaign.objects.create(
            organisation=org,
            name=f"Hameçonnage {key}",
            started_on=day,
            source_sha256=key * 8,
            targets=8,
            delivered=8,
            clicked=CLICKS[key],
        )
        found["exercise"][key] = exercise_services.plan(
            scene["users"][f"rssi_{key}"],
            org,
            "rancongiciel-dpi",
            timezone.now() + dt.timedelta(days=10),
        )
    return scene | found


@pytest.mark.parametrize("who", sorted(SEES_POOL))
def test_pool_dashboard_shows_each_visible_members_awareness(client, aware, who):
    from careops.awareness.engine.training import percent

    c = _as(client, aware, who)
    page = c.get(reverse("maturity:pool", args=[aware["pool"].pk])).content.decode()
    html = page.split("Tableau de bord des membres")[1].split("</table>")[0]
    together = {"pooled": (4, 14), "ars": (4, 14), "rssi_tilleuls": (3, 10), "rssi_roses": (1, 4)}
    trained, headcount = together[who]  # the active members it sees, counted together
    assert f"({trained} personnes sur {headcount})" in page
    rows = {k: r for r in html.split("<tr>") for k in ESMS if aware["orgs"][k].name in r}
    expected = {"tilleuls", "roses", "lilas"} & SEES[who]
    if who == "pooled":
        expected = {"tilleuls", "roses"}
    assert set(rows) == expected
    for key, row in rows.items():
        trained, headcount = SHARES[key]
        assert f"{percent(trained / headcount)}" in row and f"({trained}/{headcount})" in row, key
        assert percent(CLICKS[key] / 8) in row and f"Hameçonnage {key}" in row, key
    for key in set(ESMS) - expected:  # nothing of another structure anywhere in the table
        assert f"Hameçonnage {key}" not in html and "({}/{})".format(*SHARES[key]) not in html


@pytest.mark.parametrize("who", [*sorted(SEES), "ght"])
def test_awareness_and_exercises_api(client, aware, who):
    get = _api(client, aware, who)
    sees = SEES.get(who, set())
    names = {aware["orgs"][k].pk: k for k in ESMS}
    wrong = []
    for path in (
        "/api/awareness/training-campaigns",
        "/api/awareness/phishing-campaigns",
        "/api/awareness/headcounts",
        "/api/exercises",
    ):
        listed = {
            names.get(x["organisation"], "other") for x in get(f"{path}?limit=500").json()["items"]
        }
        if listed != sees:
            wrong.append(f"{who} {path}: {sorted(listed)}")
    for key in ESMS:
        for path in (
            f"/api/awareness/training-campaigns/{aware['training'][key].pk}",
            f"/api/awareness/phishing-campaigns/{aware['phishing'][key].pk}",
            f"/api/exercises/{aware['exercise'][key].pk}",
            f"/api/awareness/shares?organisation={aware['orgs'][key].pk}",
        ):
            status = get(path).status_code
            if status != (200 if key in sees else 404):
                wrong.append(f"{who} {path} ({key}): {status}")
    pool = get(f"/api/maturity/pools/{aware['pool'].pk}")
    if pool.status_code == 200:
        for member in pool.json()["members"]:
            key = names[member["organisation"]]
            trained, headcount = SHARES[key]
            if member["status"] == "active" and (member["trained"], member["headcount"]) != (
                trained,
                headcount,
            ):
                wrong.append(f"{who} pool API {key}: {member['trained']}/{member['headcount']}")
            if member["status"] == "active" and member["phishing_click_rate"] != CLICKS[key] / 8:
                wrong.append(f"{who} pool API {key}: {member['phishing_click_rate']}")
    _check(wrong)
