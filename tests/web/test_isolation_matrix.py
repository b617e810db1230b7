"""Tenant isolation of the web pages, role by role and page by page.

``SEES`` is the expected matrix: which nodes of ``org_tree`` each user of ``role_users`` reaches.
Every page that shows, lists or downloads a tenant object is checked against it for every role:
objects in scope are reachable, objects out of scope answer 404 (or are absent from the lists),
and write actions are refused to the roles that may only read.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careops.compliance.models import Assessment, Evidence, EvidenceRevision
from careops.tenancy.models import Organisation
from tests.conftest import PASSWORD
from tests.web.conftest import CANDIDATES, EVIDENCE_NODES
from tests.web.helpers import enable_totp, evidence_title, pdf_upload

ORGS = (
    "ans", "ars_idf", "ars_ara", "ght", "ej_a", "eg_a1", "eg_a2", "ej_b", "eg_b1", "esms",
    "ej_other", "eg_other",
)  # fmt: skip

# What each role's user reaches (X) or not (.), node by node.
SEES_TABLE = {
    #                ans ars_idf ars_ara ght ej_a eg_a1 eg_a2 ej_b eg_b1 esms ej_other eg_other
    "administrator": "X   X       X       X   X    X     X     X    X     X    X        X",
    "ans_instructor": "X  X       X       X   X    X     X     X    X     X    X        X",
    "ars_instructor": ".  .       X       .   .    .     .     .    .     .    X        X",
    "ght_rssi":      ".   .       .       X   X    X     X     X    X     .    .        .",
    "es_rssi":       ".   .       .       .   .    .     .     X    X     .    .        .",
    "contributor":   ".   .       .       .   .    .     .     X    X     .    .        .",
    "reader":        ".   .       .       .   .    .     .     .    X     .    .        .",
}  # fmt: skip
SEES = {
    role: {org for org, mark in zip(ORGS, row.split(), strict=True) if mark == "X"}
    for role, row in SEES_TABLE.items()
}
ROLES = tuple(SEES_TABLE)
# Roles that may write evidence and assessments; roles that may also edit the tree.
CHANGE = {"administrator", "ght_rssi", "es_rssi", "contributor"}
MANAGE = {"administrator", "ght_rssi", "es_rssi"}

# Which nodes each candidate's perimeter holds (its assessment shows the evidence found there).
PERIMETER = {
    "ght": {"ght", "ej_a", "eg_a1", "eg_a2", "ej_b", "eg_b1"},
    "ej_a": {"ej_a", "eg_a1", "eg_a2"},
    "ej_b": {"ej_b", "eg_b1"},
    "esms": {"esms"},
    "ej_other": {"ej_other", "eg_other"},
}

REFUSED = {403, 404}


@pytest.fixture
def client_for(client, users):
    def login(role):
        client.force_login(users[role])
        return client

    return login


def check_all(role, results):
    """Fail with every mismatch at once, as ``role target: expected … got …`` lines."""
    wrong = [f"{role} {target}: {problem}" for target, problem in results if problem]
    assert not wrong, "\n".join(wrong)


def expect_status(response, allowed: bool, ok=(200,)):
    if allowed and response.status_code not in ok:
        return f"expected {ok}, got {response.status_code}"
    if not allowed and response.status_code not in REFUSED:
        return f"expected refusal (403/404), got {response.status_code}"
    return None


# --- the matrix itself -------------------------------------------------------------------


def test_matrix_is_consistent():
    """The expectations hold the programme's rules: a grant covers its subtree, and nothing
    granted in Auvergne-Rhône-Alpes reaches Île-de-France."""
    assert SEES["administrator"] == set(ORGS) == SEES["ans_instructor"]
    assert SEES["ars_instructor"] == {"ars_ara", "ej_other", "eg_other"}
    assert SEES["reader"] <= SEES["contributor"] == SEES["es_rssi"] <= SEES["ght_rssi"]


@pytest.mark.parametrize("role", ROLES)
def test_organisation_detail(role, client_for, world):
    c = client_for(role)
    results = []
    for key in ORGS:
        node = world.orgs[key]
        response = c.get(reverse("tenancy:detail", args=[node.pk]))
        problem = expect_status(response, key in SEES[role])
        if not problem and response.status_code == 200:
            html = response.content.decode()
            for child in node.children.all():
                child_key = next(k for k, o in world.orgs.items() if o.pk == child.pk)
                shown = f'href="/organisations/{child.pk}/"' in html
                if shown != (child_key in SEES[role]):
                    problem = f"child {child_key} shown={shown}"
        results.append((key, problem))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_organisation_list_contents(role, client_for, world):
    html = client_for(role).get(reverse("tenancy:list")).content.decode()
    results = []
    for key in ORGS:
        shown = f'href="/organisations/{world.orgs[key].pk}/"' in html
        results.append((key, None if shown == (key in SEES[role]) else f"listed={shown}"))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_home_dashboard_contents(role, client_for, world):
    response = client_for(role).get(reverse("core:home"))
    assert response.status_code == 200
    html = response.content.decode()
    results = []
    for key in CANDIDATES:
        visible = key in SEES[role]
        card = f'href="/organisations/{world.orgs[key].pk}/"' in html
        link = f'href="{reverse("compliance:assessment", args=[world.assessments[key].pk])}"'
        problem = None
        if card != visible or (link in html) != visible:
            problem = f"card shown={card}, assessment link shown={link in html}"
        results.append((key, problem))
    check_all(role, results)
    if not SEES[role] & set(CANDIDATES):
        assert "Aucun candidat dans votre périmètre" in html


@pytest.mark.parametrize("role", ROLES)
def test_audit_log_rows(role, client_for, world):
    html = client_for(role).get(reverse("core:audit")).content.decode()
    results = []
    for key in EVIDENCE_NODES:
        shown = evidence_title(key) in html
        results.append((key, None if shown == (key in SEES[role]) else f"row shown={shown}"))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_assessment_detail(role, client_for, world):
    c = client_for(role)
    results = []
    for key in CANDIDATES:
        response = c.get(reverse("compliance:assessment", args=[world.assessments[key].pk]))
        results.append((key, expect_status(response, key in SEES[role])))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_item_page_and_its_evidence(role, client_for, world):
    """The objective page is reachable in scope, and lists only the evidence in scope."""
    c = client_for(role)
    results = []
    for key in CANDIDATES:
        url = reverse("compliance:item", args=[world.assessments[key].pk, "D2.P1"])
        response = c.get(url)
        problem = expect_status(response, key in SEES[role])
        if not problem and response.status_code == 200:
            html = response.content.decode()
            for node in EVIDENCE_NODES:
                listed = evidence_title(node) in html
                expected = node in PERIMETER[key] and node in SEES[role]
                if listed != expected:
                    problem = f"evidence of {node} listed={listed}"
            form_shown = 'name="files"' in html
            if form_shown != (role in CHANGE):
                problem = f"upload form shown={form_shown}"
        results.append((key, problem))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_evidence_detail(role, client_for, world):
    c = client_for(role)
    results = []
    for key in EVIDENCE_NODES:
        response = c.get(reverse("compliance:evidence", args=[world.evidence[key].pk]))
        problem = expect_status(response, key in SEES[role])
        if not problem and response.status_code == 200:
            form_shown = "Nouvelle révision" in response.content.decode()
            if form_shown != (role in CHANGE):
                problem = f"revision form shown={form_shown}"
        results.append((key, problem))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_file_download(role, client_for, world):
    c = client_for(role)
    results = []
    for key in EVIDENCE_NODES:
        response = c.get(reverse("compliance:file", args=[world.files[key].pk]))
        problem = expect_status(response, key in SEES[role])
        if not problem and response.status_code == 200:
            body = b"".join(response.streaming_content)
            if body != world.contents[key]:
                problem = "wrong file content"
            elif "attachment" not in response["Content-Disposition"]:
                problem = "not served as an attachment"
        results.append((key, problem))
    check_all(role, results)


# --- write actions -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_evidence_upload_post(role, client_for, world):
    c = client_for(role)
    results = []
    for key in CANDIDATES:
        allowed = role in CHANGE and key in SEES[role]
        title = f"Dépôt {role} sur {key}"
        response = c.post(
            reverse("compliance:evidence_upload", args=[world.assessments[key].pk, "D2.P1"]),
            {
                "kind": "pssi",
                "title": title,
                "effective_date": "2024-03-01",
                "validated_by": "legal_representative",
                "files": pdf_upload(marker=f"{role}-{key}"),
            },
        )
        problem = expect_status(response, allowed, ok=(302,))
        saved = Evidence.objects.filter(title=title).first()
        if not problem and allowed != (saved is not None):
            problem = f"evidence saved={saved is not None}"
        if saved is not None and saved.organisation_id != world.orgs[key].pk:
            problem = "evidence saved on the wrong organisation"
        results.append((key, problem))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_evidence_revision_post(role, client_for, world):
    c = client_for(role)
    results = []
    for key in EVIDENCE_NODES:
        allowed = role in CHANGE and key in SEES[role]
        evidence = world.evidence[key]
        response = c.post(
            reverse("compliance:evidence", args=[evidence.pk]),
            {
                "effective_date": "2024-03-01",
                "validated_by": "legal_representative",
                "files": SimpleUploadedFile("r.pdf", b"%PDF-1.4\n%r\n", "application/pdf"),
            },
        )
        problem = expect_status(response, allowed, ok=(302,))
        if not allowed and key in SEES[role] and response.status_code != 403:
            problem = f"read-only role in scope: expected 403, got {response.status_code}"
        revisions = EvidenceRevision.objects.filter(evidence=evidence).count()
        if not problem and revisions != (2 if allowed else 1):
            problem = f"{revisions} revision(s) after the POST"
        results.append((key, problem))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_assessment_edit(role, client_for, world):
    c = client_for(role)
    results = []
    for key in CANDIDATES:
        allowed = role in CHANGE and key in SEES[role]
        assessment = world.assessments[key]
        url = reverse("compliance:assessment_edit", args=[assessment.pk])
        problem = expect_status(c.get(url), allowed)
        response = c.post(url, {"candidacy_date": "2024-09-01", "filing_date": "", "facts": ""})
        problem = problem or expect_status(response, allowed, ok=(302,))
        assessment.refresh_from_db()
        changed = assessment.candidacy_date == dt.date(2024, 9, 1)
        if not problem and changed != allowed:
            problem = f"candidacy date changed={changed}"
        results.append((key, problem))
    check_all(role, results)


@pytest.mark.parametrize("role", ROLES)
def test_assessment_open(role, client_for, world):
    c = client_for(role)
    results = []
    for key in CANDIDATES:
        allowed = role in CHANGE and key in SEES[role]
        world.assessments[key].delete()
        response = c.post(
            reverse("compliance:assessment_open", args=[world.orgs[key].pk]),
            {"version": world.version.pk, "candidacy_date": "2024-06-01"},
        )
        problem = expect_status(response, allowed, ok=(302,))
        opened = Assessment.objects.filter(candidate=world.orgs[key]).exists()
        if not problem and opened != allowed:
            problem = f"assessment opened={opened}"
        results.append((key, problem))
    check_all(role, results)


def _org_payload(node, **changes):
    data = {
        "kind": node.kind,
        "name": node.name,
        "finess": node.finess or "",
        "finess_category": node.finess_category,
        "category": node.category,
        "activity_weight": str(node.activity_weight),
        "activity_unit": node.activity_unit,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_organisation_edit(role, client_for, world):
    c = client_for(role)
    results = []
    for key in ORGS:
        allowed = role in MANAGE and key in SEES[role]
        node = world.orgs[key]
        url = reverse("tenancy:edit", args=[node.pk])
        problem = expect_status(c.get(url), allowed)
        new_name = f"{node.name} (renommé par {role})"
        response = c.post(url, _org_payload(node, name=new_name))
        problem = problem or expect_status(response, allowed, ok=(302,))
        node.refresh_from_db()
        if not problem and (node.name == new_name) != allowed:
            problem = f"renamed={node.name == new_name}"
        results.append((key, problem))
    check_all(role, results)


def test_upload_cannot_claim_coverage_of_entities_outside_the_candidate(client_for, world):
    """The RSSI of EJ B cannot file evidence claiming to cover a site of EJ A."""
    c = client_for("es_rssi")
    response = c.post(
        reverse("compliance:evidence_upload", args=[world.assessments["ej_b"].pk, "D2.P1"]),
        {
            "kind": "pssi",
            "title": "Couverture abusive",
            "effective_date": "2024-03-01",
            "entities": [world.orgs["eg_a1"].pk],
        },
    )
    assert response.status_code == 422
    assert 'id="id_entities_error"' in response.content.decode()
    assert not Evidence.objects.filter(title="Couverture abusive").exists()


# A child kind each parent kind accepts (a site has no children).
CHILD_KIND = {"ans": "ars", "ars": "esms", "ght": "esms", "ej": "esms", "esms": "eg"}


@pytest.mark.parametrize("role", ROLES)
def test_organisation_create_child(role, client_for, world):
    c = client_for(role)
    results = []
    for n, key in enumerate(ORGS):
        allowed = role in MANAGE and key in SEES[role]
        parent = world.orgs[key]
        url = reverse("tenancy:create", args=[parent.pk])
        problem = expect_status(c.get(url), allowed)
        name = f"Nouveau nœud {role} sous {key}"
        kind = CHILD_KIND.get(parent.kind)
        finess = f"9300{n:04d}" if kind == "eg" else ""
        if finess:
            from careops.tenancy import finess as finess_lib

            finess = finess_lib.with_key(finess)
        response = c.post(
            url, {"kind": kind or "eg", "name": name, "finess": finess, "activity_weight": "0"}
        )
        created = Organisation.objects.filter(name=name, parent=parent).exists()
        expected = allowed and kind is not None
        if not problem:
            problem = expect_status(response, allowed, ok=(302,) if expected else (200,))
        if not problem and created != expected:
            problem = f"child created={created}"
        results.append((key, problem))
    check_all(role, results)


# --- one region's instructor, partial grants, MFA, throttling ----------------------------


def test_ars_instructor_of_another_region_sees_nothing_of_the_idf_ght(client_for, world):
    c = client_for("ars_instructor")
    idf = ("ght", "ej_a", "eg_a1", "eg_a2", "ej_b", "eg_b1", "esms")
    names = ["GHT Test Val-de-Seine", "CH Alpha", "CH Bêta", "EHPAD Les Tilleuls"]
    for page in ("core:home", "tenancy:list", "core:audit"):
        html = c.get(reverse(page)).content.decode()
        leaked = [n for n in names if n in html] + [
            evidence_title(k) for k in idf if evidence_title(k) in html
        ]
        assert not leaked, f"{page} shows {leaked}"
    idf_candidates = [k for k in CANDIDATES if k in idf]
    idf_evidence = [k for k in EVIDENCE_NODES if k in idf]
    urls = [reverse("tenancy:detail", args=[world.orgs[k].pk]) for k in idf]
    urls += [
        reverse("compliance:assessment", args=[world.assessments[k].pk]) for k in idf_candidates
    ]
    urls += [
        reverse("compliance:item", args=[world.assessments[k].pk, "D2.P1"]) for k in idf_candidates
    ]
    urls += [reverse("compliance:evidence", args=[world.evidence[k].pk]) for k in idf_evidence]
    urls += [reverse("compliance:file", args=[world.files[k].pk]) for k in idf_evidence]
    for url in urls:
        assert c.get(url).status_code == 404, url
    # its own region stays reachable
    html = c.get(reverse("tenancy:list")).content.decode()
    assert "Clinique du Rhône" in html


def test_node_only_grant_does_not_open_the_subtree(make_user, client, world):
    """A reader granted on the GHT node alone sees the GHT and its assessment, but neither its
    members nor the evidence they filed, even on the GHT's own objective page."""
    reader = make_user("reader", world.orgs["ght"], subtree=False)
    client.force_login(reader)
    detail = client.get(reverse("tenancy:detail", args=[world.orgs["ght"].pk])).content.decode()
    for key in ("ej_a", "ej_b"):
        assert f'href="/organisations/{world.orgs[key].pk}/"' not in detail
    item = client.get(
        reverse("compliance:item", args=[world.assessments["ght"].pk, "D2.P1"])
    ).content.decode()
    assert evidence_title("ght") in item
    for key in ("ej_a", "eg_a1", "ej_b", "eg_b1"):
        assert evidence_title(key) not in item
    assert (
        client.get(
            reverse("compliance:assessment", args=[world.assessments["ej_a"].pk])
        ).status_code
        == 404
    )


def test_breadcrumb_does_not_link_above_the_users_scope(client_for, world):
    html = client_for("ght_rssi").get(reverse("tenancy:detail", args=[world.orgs["ght"].pk]))
    assert f'href="/organisations/{world.orgs["ars_idf"].pk}/"' not in html.content.decode()


def test_unknown_ids_and_anonymous_users(client, users, world):
    """Missing objects look like out-of-scope ones; anonymous users go to the login page."""
    url = reverse("compliance:assessment", args=[world.assessments["ght"].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(users["administrator"])
    for name in (
        "tenancy:detail",
        "compliance:assessment",
        "compliance:evidence",
        "compliance:file",
    ):
        assert client.get(reverse(name, args=[999_999])).status_code == 404, name


@pytest.mark.parametrize("role", sorted(settings.MFA_REQUIRED_ROLES))
def test_mfa_required_roles_are_sent_to_totp_setup_until_they_have_one(
    role, client, role_users, world
):
    user = role_users[role]
    setup = reverse("mfa_activate_totp")
    # a real password login: the set-up page wants a recent authentication
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert (response.status_code, response["Location"]) == (302, setup)
    for url in (reverse("tenancy:list"), reverse("compliance:assessment", args=[1])):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, setup), url
    # the set-up page (behind allauth's password re-check) is reachable: no redirect loop
    page = client.get(setup, follow=True)
    assert page.status_code == 200
    assert all(url.startswith("/accounts/") for url, _ in page.redirect_chain)
    assert "double authentification" in page.content.decode()
    enable_totp(user)
    assert client.get(reverse("core:home")).status_code == 200


@pytest.mark.parametrize("role", sorted(set(ROLES) - set(settings.MFA_REQUIRED_ROLES)))
def test_other_roles_are_not_forced_into_mfa(role, client, role_users, world):
    client.force_login(role_users[role])
    assert client.get(reverse("core:home")).status_code == 200


def test_sixth_failed_login_is_refused_even_with_the_right_password(client, role_users):
    user = role_users["ght_rssi"]
    url = reverse("account_login")
    for attempt in range(5):
        response = client.post(url, {"login": user.username, "password": f"faux-{attempt}"})
        assert response.status_code == 200, attempt
        assert "Trop de tentatives" not in response.content.decode()
    response = client.post(url, {"login": user.username, "password": PASSWORD})
    html = response.content.decode()
    assert response.status_code in (200, 429)
    assert "Trop de tentatives de connexion" in html
    assert "_auth_user_id" not in client.session
    assert re.search(r'role="alert"', html)


def test_right_password_logs_in_before_the_limit(client, role_users):
    user = role_users["ght_rssi"]
    url = reverse("account_login")
    for attempt in range(4):
        client.post(url, {"login": user.username, "password": f"faux-{attempt}"})
    response = client.post(url, {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
