"""Finding 11.16: API robustness.

The attacks: huge ``offset``/``limit`` (a 500 on SQLite), two schemas published under one name
(the OpenAPI document lied about one of them), and a bounded schemathesis run over every
operation with an authenticated token: no answer may be a 5xx.
"""

from __future__ import annotations

import pytest
from django.test import Client

from careops.core import tokens

LISTS = [
    "/api/organisations/",
    "/api/referential/versions",
    "/api/backups/alerts",
    "/api/backups/systems",
    "/api/assessments",
    "/api/evidence",
    "/api/exposure/assets",
    "/api/exposure/runs",
    "/api/exposure/findings",
    "/api/directory/domains",
    "/api/continuity/campaigns",
    "/api/declarations/candidacies",
]


@pytest.fixture
def client(org_tree, make_user):
    _, value = tokens.issue(make_user("ght_rssi", org_tree.ght), "robustesse")
    return Client(headers={"Authorization": f"Bearer {value}"})


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": 10**20}, "offset"),
        ({"offset": 2**63}, "offset"),
        ({"limit": 10**20}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"limit": "beaucoup"}, "limit"),
    ],
)
def test_out_of_bounds_paging_is_a_french_422(client, path, params, field):
    answer = client.get(path, params)
    assert answer.status_code == 422, answer.content
    body = answer.json()
    assert body["detail"].startswith("Entrée invalide") and field in body["errors"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/organisations/{n}",
        "/api/evidence/{n}",
        "/api/files/{n}",
        "/api/exposure/runs/{n}",
        "/api/backups/runs/{n}",
        "/api/directory/audits/{n}",
    ],
)
@pytest.mark.parametrize("n", [2**63, 10**30, -(2**63) - 1])
def test_out_of_range_ids_are_not_found(client, path, n):
    answer = client.get(path.format(n=n))
    assert answer.status_code in {404, 422}, answer.content


@pytest.mark.parametrize("path", LISTS)
def test_every_list_has_one_shape(client, path):
    body = client.get(path, {"limit": 500, "offset": 1_000_000}).json()
    assert set(body) == {"items", "count"} and body["items"] == []


def test_schema_names_are_unique_and_status_codes_documented(org_tree, make_user):
    from careops.api import api

    schema = api.get_openapi_schema()
    names = schema["components"]["schemas"]
    assert {"ExposureRunIn", "ExposureRunOut", "BackupRunIn", "BackupRunOut"} <= set(names)
    assert "RunIn" not in names and "RunOut" not in names
    # every $ref of a run operation points at its own app's schema
    exposure = schema["paths"]["/api/exposure/runs/{run_id}"]["get"]["responses"][200]
    backups = schema["paths"]["/api/backups/runs/{run_id}"]["get"]["responses"][200]
    assert "ExposureRunOut" in str(exposure) and "BackupRunOut" in str(backups)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = set(map(str, operation["responses"]))
            assert {"401", "422"} <= answers, (method, path)
            if method in {"post", "patch", "put", "delete"}:
                assert "403" in answers, (method, path)


def test_no_two_api_schemas_share_a_name():
    """ninja names OpenAPI components by class name: two classes of one name become one."""
    import importlib
    import pkgutil

    from ninja import Schema

    import careops

    owners: dict[str, set[str]] = {}
    for info in pkgutil.iter_modules(careops.__path__):
        try:
            module = importlib.import_module(f"careops.{info.name}.api")
        except ModuleNotFoundError:
            continue
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, Schema)
                and obj.__module__ == module.__name__
            ):
                owners.setdefault(obj.__name__, set()).add(module.__name__)
    shared = {name: sorted(mods) for name, mods in owners.items() if len(mods) > 1}
    assert len(owners) > 30 and shared == {}


# --- a bounded schemathesis run: every operation, a few examples, no 5xx -------------------

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402


def _schema():
    from careops.api import api
    from careops.wsgi import application

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    return loaded


schema = _schema()


@pytest.fixture
def fuzz_token(org_tree, make_user, tmp_path, settings):
    """An administrator's token (the widest scope) over the test tree and a referential."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from tests.api.conftest import DOMAIN, load_domain
    from tests.web.helpers import enable_totp

    settings.MEDIA_ROOT = tmp_path / "media"
    load_domain(DOMAIN, tmp_path)
    admin = enable_totp(make_user("administrator", org_tree.ans))
    # schemathesis calls the WSGI application directly: keep the test's database connection
    # (and its transaction) open between requests, as Django's test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield tokens.issue(admin, "schemathesis")[1]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case, fuzz_token):
    response = case.call(headers={"Authorization": f"Bearer {fuzz_token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.query or ''} → {response.status_code}\n"
        f"{response.text[:800]}"
    )


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b'{"organisation": '])
def test_an_unreadable_json_body_is_a_french_400(client, org_tree, body):
    answer = client.post("/api/awareness/headcounts", data=body, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["detail"].startswith("Corps de la requête illisible : JSON valide")


def test_a_write_with_a_revoked_or_unknown_token_is_the_french_401_not_a_csrf_refusal(
    org_tree, make_user
):
    from django.test import Client as Browser

    user = make_user("ght_rssi", org_tree.ght)
    token, value = tokens.issue(user, "révoqué")
    tokens.revoke(None, token)
    body = {"organisation": org_tree.ght.pk, "profession": "Infirmier", "headcount": 3}
    for header in (f"Bearer {value}", "Bearer cop_inconnu", None):
        caller = Browser(
            enforce_csrf_checks=True, headers={"Authorization": header} if header else {}
        )
        answer = caller.post("/api/awareness/headcounts", body, content_type="application/json")
        assert answer.status_code == 401, (header, answer.content)
        assert answer.json()["detail"].startswith("Authentification requise")
    # a signed-in browser session still needs the CSRF token, and is told so in French
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(user)
    answer = browser.post("/api/awareness/headcounts", body, content_type="application/json")
    assert answer.status_code == 403
    assert answer.json()["detail"].startswith("Requête refusée : jeton CSRF absent ou invalide")
