"""/api/awareness and /api/exercises: the isolation matrix of tests/api/test_isolation.py (what
is out of a role's scope is absent from lists and 404 everywhere else; only the write roles
write, the others get 403 on what they see), then what a GHT security team automates: a
training campaign fed with a sign-in sheet and headcounts, GoPhish exports (a campaign exported
again replaces its earlier import), and an exercise run through the API.

The expectations come from REACH and the role sets of tests/api/test_isolation.py, written out
by hand there; they are never computed with the restriction helper.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from careops.awareness.models import (
    Attendance,
    PhishingCampaign,
    StaffHeadcount,
    TrainingCampaign,
    TrainingSession,
)
from careops.compliance.models import Evidence
from careops.exercises import services as exercise_services
from careops.exercises.models import Exercise, RetexAction
from tests.api.test_isolation import CHANGE_ROLES, REACH, ROLES, read_expectation, write_expectation
from tests.awareness.test_engine import HEADCOUNT, MARCH, SHEET

NODES = ("ght", "ej_a", "ej_b", "eg_b1", "esms", "ej_other")


def gophish(name: str, statuses: list[str], ids: bool = True, day: str = "2026-05-04") -> bytes:
    """A GoPhish « Results » export in GoPhish's own column layout."""
    lines = ["id,status,ip,latitude,longitude,send_date,reported,modified_date,email,"
             "first_name,last_name,position"]  # fmt: skip
    for n, status in enumerate(statuses):
        rid = f"{name[:3]}{n:04d}" if ids else ""
        lines.append(
            f"{rid},{status},,0,0,{day}T09:00:00Z,{str(n % 3 == 0).lower()},"
            f"{day}T10:00:00Z,agent{n}@chu.test,Prénom,Nom,{'Infirmier' if n % 2 else 'Médecin'}"
        )
    return ("\n".join(lines) + "\n").encode()


def export(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def scene(org_tree, role_users):
    """On each node of NODES: a training campaign with a session and one attendance line, a
    headcount, a phishing exercise, and a crisis exercise with a RETEX action."""
    admin = role_users["administrator"]
    found = {"training": {}, "session": {}, "phishing": {}, "exercise": {}, "action": {}}
    for name in NODES:
        org = getattr(org_tree, name)
        campaign = TrainingCampaign.objects.create(
            organisation=org,
            title=f"Formation {name}",
            starts_on=dt.date(2026, 1, 1),
            ends_on=dt.date(2026, 11, 30),
        )
        session = TrainingSession.objects.create(campaign=campaign, date=dt.date(2026, 3, 2))
        Attendance.objects.create(
            session=session,
            structure=org,
            line=2,
            last_name="Martin",
            email=f"martin@{name}.test",
            profession="Infirmier",
            date=dt.date(2026, 3, 2),
        )
        StaffHeadcount.objects.create(organisation=org, profession="Infirmier", headcount=10)
        phishing = PhishingCampaign.objects.create(
            organisation=org,
            name=f"Hameçonnage {name}",
            source_sha256=name * 4,
            targets=10,
            delivered=10,
            clicked=3,
        )
        exercise = exercise_services.plan(
            admin, org, "rancongiciel-dpi", timezone.now() + dt.timedelta(days=7)
        )
        action = RetexAction.objects.create(
            exercise=exercise, description=f"Action {name}", owner="DSI", due_on=dt.date(2026, 6, 1)
        )
        found["training"][name], found["session"][name] = campaign, session
        found["phishing"][name], found["exercise"][name] = phishing, exercise
        found["action"][name] = action
    return found


@pytest.fixture
def ctx(scene, org_tree, role_users, api):
    class Context:
        def __init__(self, role):
            self.role = role
            self.client = api(role_users[role])
            self.scene = scene

        def node(self, name):
            return getattr(org_tree, name)

        def names(self, ids):
            by_id = {getattr(org_tree, n).pk: n for n in NODES}
            return {by_id.get(i, "other") for i in ids}

    return Context


def _list(c, path):
    return c.client.get(path, limit=500).json()["items"]


# --- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_awareness_lists(ctx, role):
    c = ctx(role)
    expected = REACH[role] & set(NODES)
    for path in (
        "/api/awareness/training-campaigns",
        "/api/awareness/phishing-campaigns",
        "/api/awareness/headcounts",
    ):
        assert c.names(i["organisation"] for i in _list(c, path)) == expected, path


@pytest.mark.parametrize("role", ROLES)
def test_awareness_details_and_shares(ctx, role):
    c = ctx(role)
    training = {
        n: c.client.get(f"/api/awareness/training-campaigns/{c.scene['training'][n].pk}")
        for n in NODES
    }
    phishing = {
        n: c.client.get(f"/api/awareness/phishing-campaigns/{c.scene['phishing'][n].pk}")
        for n in NODES
    }
    shares = {
        n: c.client.get("/api/awareness/shares", organisation=c.node(n).pk, end="2026-11-30")
        for n in NODES
    }
    for answers in (training, phishing, shares):
        assert {n: r.status_code for n, r in answers.items()} == read_expectation(role, NODES)
    for name, response in shares.items():
        if response.status_code == 200:  # the node's own line, never a node out of scope
            structures = response.json()["structures"]
            assert c.names(s["organisation"] for s in structures) <= REACH[role], name
    for response in training.values():
        if response.status_code == 200:
            report = response.json()["report"]
            assert c.names(s["organisation"] for s in report["structures"]) <= REACH[role]


@pytest.mark.parametrize("role", ROLES)
def test_exercise_lists_and_details(ctx, role):
    c = ctx(role)
    expected = REACH[role] & set(NODES)
    assert c.names(i["organisation"] for i in _list(c, "/api/exercises")) == expected
    assert c.names(i["organisation"] for i in _list(c, "/api/exercises/actions")) == expected
    seen = {n: c.client.get(f"/api/exercises/{c.scene['exercise'][n].pk}") for n in NODES}
    assert {n: r.status_code for n, r in seen.items()} == read_expectation(role, NODES)
    assert c.client.get("/api/exercises/scenarios").status_code == 200  # the library: for all


# --- writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_phishing_import(ctx, role):
    c = ctx(role)
    seen = {
        n: c.client.post_form(
            "/api/awareness/phishing-campaigns",
            {
                "organisation": c.node(n).pk,
                "export": export("Campagne mai - Results.csv", gophish(n, ["Clicked Link"] * 4)),
            },
        ).status_code
        for n in NODES
    }
    expected = write_expectation(role, NODES, CHANGE_ROLES, 201)
    assert seen == expected
    imported = PhishingCampaign.objects.filter(name="Campagne mai")
    assert imported.count() == list(expected.values()).count(201)


@pytest.mark.parametrize("role", ROLES)
def test_phishing_deletion(ctx, role):
    c = ctx(role)
    seen = {
        n: c.client.delete(f"/api/awareness/phishing-campaigns/{c.scene['phishing'][n].pk}")
        for n in NODES
    }
    expected = write_expectation(role, NODES, CHANGE_ROLES, 204)
    assert {n: r.status_code for n, r in seen.items()} == expected
    left = set(PhishingCampaign.objects.values_list("name", flat=True))
    assert left == {f"Hameçonnage {n}" for n, code in expected.items() if code != 204}
    for n, response in seen.items():
        if response.status_code in (403, 404):
            assert response.json()["detail"], n  # a French reason, not an empty body


@pytest.mark.parametrize("role", ROLES)
def test_attendance_import_and_session(ctx, role):
    c = ctx(role)
    seen, sessions = {}, {}
    for n in NODES:
        campaign, session = c.scene["training"][n], c.scene["session"][n]
        sheet = export("emargement.csv", b"Nom;Profession;Date\nDurand;Aide-soignant;02/03/2026\n")
        seen[n] = c.client.post_form(
            f"/api/awareness/training-campaigns/{campaign.pk}/sessions/{session.pk}/attendance",
            {"sheet": sheet},
        ).status_code
        sessions[n] = c.client.post(
            f"/api/awareness/training-campaigns/{campaign.pk}/sessions", {"date": "2026-04-01"}
        ).status_code
        names = set(Attendance.objects.filter(session=session).values_list("last_name", flat=True))
        assert names == ({"Durand"} if seen[n] == 200 else {"Martin"}), n
    assert seen == write_expectation(role, NODES, CHANGE_ROLES, 200)
    assert sessions == write_expectation(role, NODES, CHANGE_ROLES, 201)


@pytest.mark.parametrize("role", ROLES)
def test_retex_action_status_and_planning(ctx, role):
    c = ctx(role)
    seen, planned = {}, {}
    for n in NODES:
        action = c.scene["action"][n]
        seen[n] = c.client.patch(
            f"/api/exercises/actions/{action.pk}", {"status": "done"}
        ).status_code
        action.refresh_from_db()
        assert (action.status == "done") == (seen[n] == 200), n
        planned[n] = c.client.post(
            "/api/exercises",
            {
                "organisation": c.node(n).pk,
                "scenario": "perte-active-directory",
                "planned_for": "2027-01-15T09:00:00+01:00",
            },
        ).status_code
    assert seen == write_expectation(role, NODES, CHANGE_ROLES, 200)
    assert planned == write_expectation(role, NODES, CHANGE_ROLES, 201)
    assert Exercise.objects.filter(scenario_id="perte-active-directory").count() == list(
        planned.values()
    ).count(201)


# --- what a GHT security team automates ------------------------------------------------------


def test_training_campaign_fed_through_the_api(org_tree, role_users, api):
    client = api(role_users["ght_rssi"])
    created = client.post(
        "/api/awareness/training-campaigns",
        {
            "organisation": org_tree.ght.pk,
            "title": "Cyber-hygiène 2026",
            "audience_services": ["Urgences", "Bloc"],
            "starts_on": "2026-01-01",
            "ends_on": "2026-11-30",
        },
    )
    assert created.status_code == 201, created.content
    campaign = created.json()
    assert campaign["audience_services"] == ["Urgences", "Bloc"] and campaign["status"] == "open"
    session = client.post(
        f"/api/awareness/training-campaigns/{campaign['id']}/sessions",
        {"date": "2026-03-12", "trainer": "RSSI", "format": "presentiel"},
    ).json()
    base = f"/api/awareness/training-campaigns/{campaign['id']}/sessions/{session['id']}"
    bad = client.post_form(
        f"{base}/attendance",
        {"sheet": export("f.csv", b"Nom;Profession;Date\nDurand;IDE;31/02/2026\n")},
    )
    assert bad.status_code == 422 and "date illisible" in bad.json()["detail"]
    assert not Attendance.objects.exists()  # all or nothing
    sheet = SimpleUploadedFile(SHEET.name, SHEET.read_bytes())
    imported = client.post_form(f"{base}/attendance", {"sheet": sheet})
    assert imported.status_code == 200, imported.content
    assert imported.json()["rows"] == Attendance.objects.count() > 0
    counts = client.post_form(
        "/api/awareness/headcounts/import",
        {
            "organisation": org_tree.ght.pk,
            "sheet": SimpleUploadedFile("e.csv", HEADCOUNT.read_bytes()),
        },
    )
    assert counts.status_code == 200 and counts.json()["rows"] == StaffHeadcount.objects.count()
    detail = client.get(f"/api/awareness/training-campaigns/{campaign['id']}").json()
    total = detail["report"]["total"]
    assert total["trained"] > 0 and total["headcount"] > 0
    assert total["share"] == pytest.approx(total["trained"] / total["headcount"])
    assert {s["label"] for s in detail["report"]["structures"]} >= {"CH Alpha"}
    assert detail["sessions"][0]["attendances"] == Attendance.objects.count()
    shares = client.get("/api/awareness/shares", organisation=org_tree.ght.pk, end="2026-11-30")
    assert shares.json()["total"]["trained"] == total["trained"]
    closed = client.post(f"/api/awareness/training-campaigns/{campaign['id']}/close", {})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert Evidence.objects.get(pk=closed.json()["evidence_id"]).kind == "awareness_training"
    again = client.post(f"/api/awareness/training-campaigns/{campaign['id']}/close", {})
    assert again.status_code == 422 and "clôturée" in again.json()["detail"]


def test_a_gophish_campaign_exported_again_replaces_its_import(org_tree, role_users, api):
    client = api(role_users["ght_rssi"])
    form = {"organisation": org_tree.ght.pk}
    first = client.post_form(
        "/api/awareness/phishing-campaigns",
        form | {"export": SimpleUploadedFile(MARCH.name, MARCH.read_bytes())},
    )
    assert first.status_code == 201 and first.json()["clicked"] == 5
    # the same campaign exported a week later: two more targets clicked, and the browser saved
    # it as « … - Results (1).csv »
    lines = MARCH.read_text("utf-8").splitlines()
    changed = [line.replace("Email Opened", "Clicked Link", 1) for line in lines]
    later = "\n".join(changed) + "\n"
    assert later != MARCH.read_text("utf-8")
    second = client.post_form(
        "/api/awareness/phishing-campaigns",
        form | {"export": export("Campagne mars 2026 - Results (1).csv", later.encode())},
    )
    assert second.status_code == 200, second.content
    body = second.json()
    assert body["id"] == first.json()["id"] and body["imports"] == 2
    assert "importé de nouveau (mêmes cibles GoPhish)" in body["message"]
    assert "n'est compté qu'une fois" in body["message"]
    assert PhishingCampaign.objects.count() == 1
    campaign = PhishingCampaign.objects.get()
    assert campaign.name == "Campagne mars 2026" and campaign.clicked > 5
    evidence = Evidence.objects.get(pk=campaign.evidence_id)
    assert evidence.revisions.count() == 2  # the earlier figures stay in the evidence history
    listed = client.get("/api/awareness/phishing-campaigns").json()
    assert listed["count"] == 1 and listed["items"][0]["clicked"] == campaign.clicked


def test_an_export_without_target_ids_is_replaced_only_when_confirmed(org_tree, role_users, api):
    client = api(role_users["ght_rssi"])
    form = {"organisation": org_tree.ght.pk}
    url = "/api/awareness/phishing-campaigns"
    statuses = ["Email Sent", "Clicked Link", "Email Opened"]
    first = client.post_form(
        url, form | {"export": export("Juin - Results.csv", gophish("x", statuses, ids=False))}
    )
    assert first.status_code == 201
    later = gophish("x", [*statuses[:2], "Submitted Data"], ids=False)
    refused = client.post_form(url, form | {"export": export("Juin - Results.csv", later)})
    assert refused.status_code == 422
    assert "cochez « Remplacer la campagne de même nom »" in refused.json()["detail"]
    assert "Rien n'a été importé" in refused.json()["detail"]
    assert PhishingCampaign.objects.get().submitted == 0
    renamed = client.post_form(
        url,
        form | {"export": export("Juin - Results.csv", later), "name": "Juin (site annexe)"},
    )
    assert renamed.status_code == 201  # another campaign, by the user's word
    assert PhishingCampaign.objects.count() == 2
    PhishingCampaign.objects.get(name="Juin (site annexe)").delete()
    replaced = client.post_form(
        url, form | {"export": export("Juin - Results.csv", later), "replace": "true"}
    )
    assert replaced.status_code == 200
    assert "même nom, remplacement confirmé" in replaced.json()["message"]
    assert PhishingCampaign.objects.get().submitted == 1


def test_an_exercise_run_through_the_api(org_tree, role_users, api):
    client = api(role_users["es_rssi"])
    library = client.get("/api/exercises/scenarios").json()
    assert {"rancongiciel-dpi", "perte-active-directory"} <= {s["id"] for s in library}
    scenario = client.get("/api/exercises/scenarios/rancongiciel-dpi").json()
    assert scenario["injects"] and scenario["roles"] and scenario["criteria"]
    assert client.get("/api/exercises/scenarios/inconnu").status_code == 404
    planned = client.post(
        "/api/exercises",
        {
            "organisation": org_tree.ej_b.pk,
            "scenario": "rancongiciel-dpi",
            "planned_for": "2027-01-15T09:00:00+01:00",
        },
    )
    assert planned.status_code == 201, planned.content
    exercise = planned.json()
    base = f"/api/exercises/{exercise['id']}"
    early = client.post(f"{base}/log", {"kind": "decision", "text": "Couper le VPN"})
    assert early.status_code == 422 and "démarrez-le d'abord" in early.json()["detail"]
    assert client.post(f"{base}/clock", {"move": "start"}).json()["status"] == "running"
    inject = exercise["injects"][0]["id"]
    delivered = client.post(f"{base}/injects/{inject}/deliver", {})
    assert delivered.status_code == 200 and delivered.json()["delivered_at"]
    assert (
        client.post(f"{base}/log", {"kind": "decision", "text": "Couper le VPN"}).status_code == 201
    )
    unknown = client.post(f"{base}/log", {"kind": "rumeur", "text": "x"})
    assert unknown.status_code == 422
    assert client.post(f"{base}/clock", {"move": "end"}).json()["status"] == "ended"
    action = client.post(
        f"{base}/actions",
        {"description": "Plan de reprise AD", "owner": "DSI", "due_on": "2027-03-01"},
    )
    assert action.status_code == 201
    detail = client.get(base).json()
    assert [e["kind"] for e in detail["log"]] == ["clock", "inject", "decision", "clock"]
    assert "la synthèse du RETEX n'est pas rédigée" in detail["retex_problems"]
    opened = client.get("/api/exercises/actions", open="true").json()["items"]
    assert [a["description"] for a in opened] == ["Plan de reprise AD"]
    done = client.patch(f"/api/exercises/actions/{action.json()['id']}", {"status": "done"})
    assert done.status_code == 200
    assert client.get("/api/exercises/actions", open="true").json()["items"] == []
    wrong = client.patch(f"/api/exercises/actions/{action.json()['id']}", {"status": "fini"})
    assert wrong.status_code == 422 and "valeur non prévue" in wrong.json()["detail"]


def test_an_older_export_of_the_same_campaign_does_not_replace_a_newer_one(
    org_tree, role_users, api
):
    client = api(role_users["ght_rssi"])
    text = MARCH.read_text("utf-8")
    later = text.replace("2026-03-10T10:", "2026-03-17T10:").replace(
        "Email Opened", "Clicked Link", 1
    )
    url, form = "/api/awareness/phishing-campaigns", {"organisation": org_tree.ght.pk}
    newer = client.post_form(url, form | {"export": export("later - Results.csv", later.encode())})
    assert newer.status_code == 201 and newer.json()["clicked"] == 6
    older = client.post_form(url, form | {"export": export(MARCH.name, text.encode())})
    assert older.status_code == 422
    assert "est un export plus ancien de la campagne" in older.json()["detail"]
    assert (
        "(dernière activité le 10/03/2026) que celui déjà importé (17/03/2026)"
        in older.json()["detail"]
    )
    assert PhishingCampaign.objects.get().clicked == 6


def excel_resave(text: str) -> bytes:
    """The export opened in French Excel and saved again as « CSV (séparateur : point-virgule) »:
    semicolons, Windows-1252, VRAI/FAUX, dates kept to the minute."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    writer.writerow(rows[0])
    for row in rows[1:]:
        for index in (5, 7):
            day, time = row[index][:10], row[index][11:16]
            row[index] = f"{day[8:10]}/{day[5:7]}/{day[:4]} {time}"
        row[6] = "VRAI" if row[6] == "true" else "FAUX"
        writer.writerow(row)
    return out.getvalue().encode("cp1252")


def test_the_same_export_saved_again_by_excel_is_not_refused_as_older(org_tree, role_users, api):
    """The export is imported, then a colleague's copy saved by Excel (minutes only): it is the
    same campaign with the same activity, imported again, not « un export plus ancien »."""
    client = api(role_users["ght_rssi"])
    url, form = "/api/awareness/phishing-campaigns", {"organisation": org_tree.ght.pk}
    assert (
        client.post_form(url, form | {"export": export(MARCH.name, MARCH.read_bytes())}).status_code
        == 201
    )
    resaved = excel_resave(MARCH.read_text("utf-8"))
    again = client.post_form(
        url, form | {"export": export("Campagne mars 2026 - Results (1).csv", resaved)}
    )
    assert again.status_code == 200, again.content
    assert "importé de nouveau (mêmes cibles GoPhish)" in again.json()["message"]
    campaign = PhishingCampaign.objects.get()
    assert (campaign.delivered, campaign.clicked, campaign.imports) == (11, 5, 2)


def test_an_export_where_no_email_was_delivered_is_refused(org_tree, role_users, api):
    """All targets in « Error » (mail server down) or « Scheduled »: no exercise took place,
    so no exercise, no rate, no evidence; a French refusal, nothing saved."""
    client = api(role_users["ght_rssi"])
    url, form = "/api/awareness/phishing-campaigns", {"organisation": org_tree.ght.pk}
    content = gophish("err", ["Error", "Error", "Scheduled"])
    refused = client.post_form(url, form | {"export": export("Novembre - Results.csv", content)})
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "aucun courriel n'a été remis (3 cible(s) : « Error » 2, « Scheduled » 1)" in detail
    assert "Rien n'a été importé" in detail
    assert not PhishingCampaign.objects.exists()
    assert not Evidence.objects.filter(kind="phishing_exercise").exists()
