"""Finding 11.14: headers, production profile, local API docs behind login, check --deploy.

The attacks: inject a script into a page (CSP forbids inline script, so templates may hold
none); read a signed-in page back from a shared cache or the browser's history (no-store);
load /api/docs without an account; start production with development fallbacks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:|hx-on", re.I)


def templates() -> list[Path]:
    return sorted((ROOT / "careops").rglob("templates/**/*.html"))


def test_no_template_holds_inline_script_or_handlers():
    offenders = []
    for path in templates():
        text = path.read_text("utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)!r}")
    assert len(templates()) > 40 and offenders == []


def test_csp_forbids_inline_and_foreign_script():
    policy = dict(
        part.strip().split(" ", 1) for part in settings.CONTENT_SECURITY_POLICY.split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in settings.CONTENT_SECURITY_POLICY


@pytest.fixture
def rssi_client(client, org_tree, make_user):
    client.force_login(make_user("ght_rssi", org_tree.ght))
    return client


@pytest.mark.parametrize("path", ["/", "/organisations/", "/journal/", "/compte/jetons/"])
def test_signed_in_pages_carry_csp_and_are_never_stored(rssi_client, path):
    answer = rssi_client.get(path)
    assert answer.status_code == 200
    assert answer["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"


def test_api_answers_are_never_stored(rssi_client):
    answer = rssi_client.get("/api/system/me")
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]


def test_login_page_has_csp(client, db):
    answer = client.get("/accounts/login/")
    assert answer["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert "no-store" in answer["Cache-Control"]


@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json"])
def test_api_docs_are_behind_login(client, db, path):
    answer = client.get(path)
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]


def test_api_docs_need_the_mfa_rule_met(client, org_tree, make_user):
    """An administrator whose session skipped the TOTP step does not read the API docs."""
    from tests.web.helpers import enable_totp

    client.force_login(enable_totp(make_user("administrator", org_tree.ans)))
    assert client.get("/api/docs").status_code == 403


def test_swagger_ui_is_served_locally(rssi_client):
    page = rssi_client.get("/api/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert all(s.startswith("/static/") for s in sources), sources
    assert "cdn" not in page.lower()
    bundle = next(s for s in sources if s.endswith("swagger-ui-bundle.js"))
    assert rssi_client.get(bundle).status_code == 200


# --- production profile ---------------------------------------------------------------------

PRODUCTION = {
    "CAREOPS_ENV": "production",
    "CAREOPS_SECRET_KEY": "k7Q2-x9Lm4pR8vT1wZ3yB6nC0dF5gH2jK7qS9uV4aE8iO1rU6tY3mN0bX5zW2cP7",
    "CAREOPS_ALLOWED_HOSTS": "careops.example.fr",
    "CAREOPS_DATABASE_URL": "postgres://careops@127.0.0.1:5432/careops",
    "CAREOPS_QUEUE_URL": "redis://127.0.0.1:6379/0",
    "CAREOPS_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # a dedicated Fernet key (test value)
}


def run_careops(args, environment, tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CAREOPS_DATA_DIR": str(tmp_path),
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-m", "careops.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def production_settings(environment, tmp_path) -> dict:
    code = (
        "import os, json, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'careops.settings'; "
        "django.setup(); from django.conf import settings as s; print(json.dumps({k: "
        "getattr(s, k, None) for k in ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_SSL_REDIRECT', 'DEBUG']}))"
    )
    env = {"PATH": os.environ.get("PATH", ""), "CAREOPS_DATA_DIR": str(tmp_path), **environment}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_turns_on_hsts_and_secure_cookies(tmp_path):
    values = production_settings(PRODUCTION, tmp_path)
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_SSL_REDIRECT"]
    assert values["DEBUG"] is False
    development = production_settings({}, tmp_path)
    assert not development["SECURE_HSTS_SECONDS"] and not development["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("CAREOPS_SECRET_KEY", "CAREOPS_SECRET_KEY"),
        ("CAREOPS_ALLOWED_HOSTS", "CAREOPS_ALLOWED_HOSTS"),
        ("CAREOPS_DATABASE_URL", "PostgreSQL"),
        ("CAREOPS_QUEUE_URL", "CAREOPS_QUEUE_URL"),
    ],
)
def test_production_refuses_to_start_without_its_settings(missing, message, tmp_path):
    environment = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_careops(["check"], environment, tmp_path)
    assert result.returncode != 0
    assert "Mode production" in result.stderr and message in result.stderr
    assert not (tmp_path / "secret_key").exists()  # no development fallback was generated


def test_production_refuses_sqlite_and_a_weak_key(tmp_path):
    environment = {
        **PRODUCTION,
        "CAREOPS_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "CAREOPS_SECRET_KEY": "court",
    }
    result = run_careops(["check"], environment, tmp_path)
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr and "50 caractères" in result.stderr


def test_check_deploy_passes_with_the_documented_production_settings(tmp_path):
    result = run_careops(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_in_development(tmp_path):
    result = run_careops(["check", "--deploy", "--fail-level", "WARNING"], {}, tmp_path)
    assert result.returncode != 0 and "security.W004" in result.stderr + result.stdout


def test_error_pages_keep_the_csp(client, db):
    answer = client.get("/nulle-part/")
    assert answer.status_code == 404
    assert answer["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY


def test_password_never_appears_in_a_page(client, org_tree, make_user):
    user = make_user("ght_rssi", org_tree.ght)
    answer = client.post("/accounts/login/", {"login": user.username, "password": PASSWORD + "x"})
    assert PASSWORD not in answer.content.decode()


def test_rendered_account_pages_carry_no_inline_script(client, org_tree, make_user):
    """allauth's own templates (not only careops' overrides), as a user meets them."""
    from tests.web.helpers import enable_totp

    pages = {}
    for path in ["/accounts/login/", "/accounts/password/reset/"]:
        pages[path] = client.get(path)
    user = enable_totp(make_user("administrator", org_tree.ans, username="admin.csp"))
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    pages["/accounts/2fa/authenticate/"] = client.get("/accounts/2fa/authenticate/")
    client.logout()
    newcomer = make_user("ars_instructor", org_tree.ars_idf, username="ars.csp")
    client.post("/accounts/login/", {"login": newcomer.username, "password": PASSWORD})
    for path in ["/accounts/2fa/totp/activate/", "/accounts/2fa/"]:
        pages[path] = client.get(path)
    for path, answer in pages.items():
        assert answer.status_code == 200, path
        html = answer.content.decode()
        assert not INLINE_SCRIPT.search(html) and not INLINE_HANDLER.search(html), path
        assert answer["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
