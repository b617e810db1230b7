"""AAP MS in the web app: a pathway proposed by a validated self-assessment and confirmed by the
ARS of the region, deliverables and progress, pools with their convention and the pooled RSSI
role, the NIS 2 classification and compliance plan with its exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careops.core.models import AuditEvent
from careops.maturity import pathways, pools
from careops.maturity.models import Membership, PathwayAssignment, PathwayEvent
from careops.tenancy import roles, scope
from tests.maturity.helpers import convention_pdf, pool_with_members, validated
from tests.web.helpers import enable_totp


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.esms, username="rssi.tilleuls")


@pytest.fixture
def ars(org_tree, make_user):
    return enable_totp(make_user("ars_instructor", org_tree.ars_idf, username="instructeur.idf"))


def fresh(user):
    user._careops_grants = None
    return user


def test_validated_self_assessment_proposes_and_the_regional_ars_confirms(
    client, org_tree, rssi, ars, make_user
):
    campaign = validated(rssi, org_tree.esms)  # every answer « en partie »: level 3
    assignment = PathwayAssignment.objects.get(organisation=org_tree.esms)
    assert (assignment.pathway, assignment.status, assignment.level) == ("P2", "proposed", 3)
    assert assignment.campaign == campaign and "niveau 3" in assignment.proposed_reason
    # the self-assessment is named by its title, not by the questionnaire's identifier
    assert f"auto-évaluation « {campaign.title} » au niveau 3" in assignment.proposed_reason
    assert "« diagnostic-ms »" not in assignment.proposed_reason
    # the structure itself, and an ARS of another region, cannot confirm
    other_ars = make_user("ars_instructor", org_tree.ars_ara)
    for user in (rssi, other_ars):
        with pytest.raises(PermissionDenied):
            pathways.confirm(user, assignment, "P2")
    # another pathway needs a reason
    with pytest.raises(ValidationError, match="motif"):
        pathways.confirm(ars, assignment, "P1")
    client.force_login(ars)
    page = reverse("maturity:structure", args=[org_tree.esms.pk])
    response = client.post(
        page, {"action": "confirm", "pathway": "P1", "reason": "Aucun référent désigné"}
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.pathway, assignment.status, assignment.confirmed_by) == (
        "P1",
        "confirmed",
        ars,
    )
    assert assignment.change_reason == "Aucun référent désigné"
    assert assignment.started_on is not None
    kinds = list(PathwayEvent.objects.values_list("kind", flat=True).order_by("pk"))
    assert kinds == ["proposed", "changed"]
    assert AuditEvent.objects.filter(action="maturity.pathway.changed").exists()
    # the structure sees its pathway, milestones and deliverables, and declares one done
    client.force_login(rssi)
    html = client.get(page).content.decode()
    assert "Parcours 1 — Socle de sécurité" in html and "P1.J1" in html and "P1.L1" in html
    assert "Aucun référent désigné" in html and "Confirmer le parcours" not in html
    client.post(page, {"action": "done", "deliverable": "P1.L1"})
    state = pathways.progress(assignment)
    assert state.done == 1 and state.total == 7
    # a new validated assessment proposes again, without changing the confirmed pathway
    validated(rssi, org_tree.esms, value="oui")
    assignment.refresh_from_db()
    assert (assignment.pathway, assignment.proposed_pathway) == ("P1", "P3")
    assert pathways.progress(assignment).milestones[2].deliverables[1].done  # reassessed


def test_pathway_is_for_medico_social_structures_only(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    validated(rssi, org_tree.ej_b)
    assert not PathwayAssignment.objects.exists()


def test_pool_lifecycle_grants_the_pooled_role_only_while_member_and_in_force(
    client, org_tree, rssi, ars, make_user
):
    pooled = make_user(username="rssi.mutualise")
    pool, _ = pool_with_members(ars, org_tree.ars_idf, [pooled], [])
    assert scope.grants(fresh(pooled)) == []
    membership = pools.invite(ars, pool, org_tree.esms)
    assert scope.grants(fresh(pooled)) == []  # invited, not yet accepted
    with pytest.raises(PermissionDenied):
        pools.answer(pooled, membership, True)
    pools.answer(rssi, membership, True)
    (grant,) = scope.grants(fresh(pooled))
    assert (grant.role, grant.organisation_id, grant.pool_id) == (
        "es_rssi",
        org_tree.esms.pk,
        pool.pk,
    )
    assert scope.can(pooled, "manage", org_tree.esms)
    # never above an establishment RSSI, and never a grant that would outlive the pool
    assert not scope.can(pooled, "instruct", org_tree.esms)
    assert roles.grantable_roles(pooled, org_tree.esms) == set()
    with pytest.raises(PermissionDenied):
        roles.grant(pooled, org_tree.esms, rssi.username, "reader")
    # the pooled RSSI cannot leave on the structure's behalf; the structure can
    with pytest.raises(PermissionDenied):
        pools.leave(fresh(pooled), membership)
    pools.leave(rssi, membership, "fin du besoin")
    assert scope.grants(fresh(pooled)) == []
    assert Membership.objects.get(pk=membership.pk).status == "left"


def test_expired_or_future_convention_suspends_the_pooled_role(org_tree, rssi, ars, make_user):
    from careops.compliance.services import today_in_paris

    today = today_in_paris()
    pooled = make_user(username="rssi.mutualise")
    pool, _ = pool_with_members(
        ars,
        org_tree.ars_idf,
        [pooled],
        [(org_tree.esms, rssi)],
        starts=today - dt.timedelta(days=400),
        ends=today - dt.timedelta(days=1),
    )
    assert scope.grants(fresh(pooled)) == []
    assert "Aucune convention en vigueur" in pools.pool_alerts(pool, today)[0]
    pools.add_convention(ars, pool, convention_pdf(), today, today + dt.timedelta(days=20))
    assert len(scope.grants(fresh(pooled))) == 1
    assert "expire le" in pools.pool_alerts(pool, today)[0]


def test_only_the_regional_ars_creates_pools_invites_and_files_a_checked_convention(
    client, org_tree, rssi, ars, make_user
):
    with pytest.raises(PermissionDenied):
        pools.create_pool(rssi, org_tree.ars_idf, "X", "rssi")
    with pytest.raises(PermissionDenied):
        pools.create_pool(
            make_user("ars_instructor", org_tree.ars_ara), org_tree.ars_idf, "X", "rssi"
        )
    client.force_login(ars)
    response = client.post(
        reverse("maturity:pools"),
        {"region": org_tree.ars_idf.pk, "name": "Équipe sécurité du GHT", "kind": "ght"},
    )
    pool = pools.Pool.objects.get()
    assert response["Location"] == reverse("maturity:pool", args=[pool.pk])
    with pytest.raises(ValidationError, match="médico-sociale"):
        pools.invite(ars, pool, org_tree.ej_a)
    url = reverse("maturity:pool", args=[pool.pk])
    fake = SimpleUploadedFile("convention.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    response = client.post(
        url,
        {"action": "convention", "file": fake, "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    )
    assert "ne correspond pas à un fichier .pdf" in response.content.decode()
    assert not pool.conventions.exists()
    client.post(
        url,
        {
            "action": "convention",
            "file": convention_pdf(),
            "starts_on": "2026-01-01",
            "ends_on": "2027-12-31",
        },
    )
    convention = pool.conventions.get()
    assert client.get(reverse("maturity:convention", args=[convention.pk])).status_code == 200
    option = f'<option value="{org_tree.esms.pk}"'
    assert option in client.get(url).content.decode()
    client.post(url, {"action": "invite", "organisation": org_tree.esms.pk})
    # once invited, the structure is no longer offered for an invitation
    assert option not in client.get(url).content.decode()
    client.force_login(rssi)
    assert (
        client.post(url, {"action": "invite", "organisation": org_tree.esms.pk}).status_code == 403
    )
    structure = reverse("maturity:structure", args=[org_tree.esms.pk])
    membership = Membership.objects.get()
    html = client.get(structure).content.decode()
    assert "Accepter" in html and "Équipe sécurité du GHT" in html
    client.post(structure, {"action": "accept", "membership": membership.pk})
    assert Membership.objects.get().status == "active"


def test_pool_dashboard_shows_pathway_progress_and_alerts(client, org_tree, rssi, ars, make_user):
    pooled = make_user(username="rssi.mutualise")
    validated(rssi, org_tree.esms, value="non")  # level 1: P1
    pool, _ = pool_with_members(ars, org_tree.ars_idf, [pooled], [(org_tree.esms, rssi)])
    assignment = PathwayAssignment.objects.get()
    pathways.confirm(ars, assignment, "P1")
    PathwayAssignment.objects.filter(pk=assignment.pk).update(
        started_on=dt.date.today() - dt.timedelta(days=200)
    )
    client.force_login(fresh(pooled))
    html = client.get(reverse("maturity:pool", args=[pool.pk])).content.decode()
    assert "EHPAD Les Tilleuls" in html and "P1 — confirmé par l&#x27;ARS" in html
    assert "Jalon(s) en retard : P1.J1" in html  # 3 months passed, L1 and L3 not declared
    api = client.get(f"/api/maturity/pools/{pool.pk}").json()
    assert [m["organisation_name"] for m in api["members"]] == ["EHPAD Les Tilleuls"]
    assert api["members"][0]["pathway"] == "P1"


def test_nis2_classification_and_compliance_plan_with_exports(client, org_tree, rssi):
    client.force_login(rssi)
    page = reverse("maturity:structure", args=[org_tree.esms.pk])
    client.post(
        page,
        {
            "action": "nis2",
            "sector": "sante_es",
            "employees": "300",
            "turnover": "0",
            "balance": "0",
        },
    )
    html = client.get(page).content.decode()
    assert "Entité essentielle" in html and "300 salariés ≥ 250" in html
    plan = reverse("maturity:nis2_plan", args=[org_tree.esms.pk])
    assert "Aucune auto-évaluation NIS 2" in client.get(plan).content.decode()
    # the breadcrumb goes back through Maturité like the structure page's
    crumbs = client.get(plan).content.decode().split('class="breadcrumb"')[1].split("</nav>")[0]
    assert reverse("maturity:index") in crumbs and reverse("maturity:structures") in crumbs
    validated(rssi, org_tree.esms, "nis2-art21", value="initie", context="non")
    html = client.get(plan).content.decode()
    assert "Mener une analyse de risques" in html and "1 — prioritaire" in html
    assert "Adopter des pratiques de développement sécurisé" not in html  # hidden question
    csv = client.get(reverse("maturity:nis2_csv", args=[org_tree.esms.pk])).content.decode()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Priorité;Question;Mesure NIS 2")
    assert len(lines) == 1 + 20 and lines[1].startswith("1 — prioritaire")
    from openpyxl import load_workbook

    xlsx = client.get(reverse("maturity:nis2_xlsx", args=[org_tree.esms.pk])).content
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert sheet.max_row == 2 + 20 and sheet["A2"].value == "Priorité"


def test_api_confirms_a_pathway_for_the_regional_ars_only(client, org_tree, rssi, ars):
    from careops.core.tokens import issue

    validated(rssi, org_tree.esms, value="non")
    url = f"/api/maturity/pathways/{org_tree.esms.pk}/confirm"
    _t, own = issue(rssi, "structure")
    refused = client.post(
        url, {"pathway": "P1"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {own}"
    )
    assert refused.status_code == 403
    _t, token = issue(ars, "ars")
    missing_reason = client.post(
        url,
        {"pathway": "P3"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert missing_reason.status_code == 422 and "motif" in missing_reason.json()["detail"]
    done = client.post(
        url,
        {"pathway": "P1"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert done.status_code == 200
    assert (done.json()["pathway"], done.json()["status"]) == ("P1", "confirmed")


def test_an_instructor_cannot_be_named_pool_staff_and_run_the_structures_he_instructs(
    client, org_tree, rssi, ars, make_user
):
    """Separation of duties: the ARS instructor who confirms a structure's pathway must not
    become its pooled RSSI (declaring the deliverables done that he then checks)."""
    pool, _ = pool_with_members(ars, org_tree.ars_idf, [], [(org_tree.esms, rssi)])
    colleague = make_user("ars_instructor", org_tree.ars_idf, username="collegue.ars")
    admin = make_user("administrator", org_tree.ans, username="admin.programme")
    for person in (ars, colleague, admin):
        with pytest.raises(ValidationError, match="instruit"):
            pools.add_staff(ars, pool, person.username)
    assert not pool.staff.exists()
    client.force_login(ars)
    response = client.post(
        reverse("maturity:pool", args=[pool.pk]), {"action": "staff", "user": ars.username}
    )
    assert response.status_code == 200 and "instruit" in response.content.decode()
    assert not scope.can(fresh(ars), "change", org_tree.esms)


def test_pool_staff_who_later_becomes_an_instructor_loses_the_pooled_role(
    org_tree, rssi, ars, make_user
):
    from careops.tenancy.models import RoleAssignment

    pooled = make_user(username="rssi.mutualise")
    pool_with_members(ars, org_tree.ars_idf, [pooled], [(org_tree.esms, rssi)])
    assert scope.can(fresh(pooled), "change", org_tree.esms)
    RoleAssignment.objects.create(
        user=pooled, organisation=org_tree.ars_idf, role="ars_instructor", include_subtree=True
    )
    assert all(g.pool_id is None for g in scope.grants(fresh(pooled)))
    assert not scope.can(fresh(pooled), "change", org_tree.esms)  # instructs, never runs it


def test_a_phishing_or_crisis_exercise_in_careops_fulfils_the_exercise_deliverable(
    client, org_tree, rssi, ars
):
    """P2.L6 « Exercice d'hameçonnage ou de crise mené » had to be declared by hand although
    careops held the exercise: pathways version 1 observes it."""
    from careops.awareness import services as awareness
    from tests.awareness.test_engine import MARCH

    validated(rssi, org_tree.esms)  # level 3: P2, proposed from the newest pathways version
    assignment = PathwayAssignment.objects.get()
    assert assignment.catalogue_version == "1"
    pathways.confirm(ars, assignment, "P2")

    def p2_l6():
        found = [
            d
            for m in pathways.progress(assignment, dt.date(2026, 12, 5)).milestones
            for d in m.deliverables
            if d.id == "P2.L6"
        ]
        return found[0]

    assert not p2_l6().done
    export = SimpleUploadedFile(MARCH.name, MARCH.read_bytes())  # sent on 10/03/2026
    awareness.import_phishing(rssi, org_tree.esms, export)
    assert p2_l6().done and p2_l6().observed
    client.force_login(rssi)
    html = client.get(reverse("maturity:structure", args=[org_tree.esms.pk])).content.decode()
    assert "constaté par careops : exercice de crise au RETEX validé" in html


def test_the_cockpit_leads_the_pooled_rssi_and_the_member_to_the_pool(
    client, org_tree, rssi, ars, make_user
):
    """The pooled RSSI's cockpit had no way to the pool's dashboard (only Maturité →
    Mutualisations); a structure of another pool sees nothing of this one."""
    pooled = make_user(username="rssi.mutualise")
    pool, _ = pool_with_members(ars, org_tree.ars_idf, [pooled], [(org_tree.esms, rssi)])
    url = reverse("maturity:pool", args=[pool.pk])
    for user in (fresh(pooled), rssi):
        client.force_login(user)
        html = client.get(reverse("core:home")).content.decode()
        assert 'id="pools"' in html and url in html and "convention jusqu'au" in html
    client.force_login(make_user("es_rssi", org_tree.ej_other))
    assert url not in client.get(reverse("core:home")).content.decode()
    # the region's instructor has the regional list in Maturité: their home page does not
    # compute every regional pool's alerts
    from careops.core import cockpit

    assert cockpit.build(fresh(ars))["pools"] == []
    assert [p["pool"] for p in cockpit.build(fresh(rssi))["pools"]] == [pool]
