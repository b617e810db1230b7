"""/healthz and /readyz: answered before login, host checks and redirects; 503 with a JSON reason
naming the component when a dependency is missing; never a secret in the body."""

from __future__ import annotations

import json

import huey.contrib.djhuey as djhuey
import pytest
from huey import RedisHuey

from tests.deploy.helpers import base_env, serve


def test_healthz_answers_without_database_account_or_allowed_host(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # production: plain HTTP is redirected, but not probes
    answer = client.get("/healthz", HTTP_HOST="10.20.30.40")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer["Cache-Control"] == "no-store"


def test_readyz_lists_every_component(client, db):
    answer = client.get("/readyz", HTTP_HOST="10.20.30.40")
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {
        "status": "ok",
        "checks": {"database": "ok", "queue": "ok", "cache": "ok", "storage": "ok"},
    }


def test_readyz_names_an_unreachable_queue_without_its_address_or_password(client, db, monkeypatch):
    unreachable = RedisHuey("careops", url="redis://:s3cr3t-pass@127.0.0.1:18198/7")
    monkeypatch.setattr(djhuey, "HUEY", unreachable)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["queue"] == "injoignable (ConnectionError)"
    assert body["checks"]["database"] == "ok"
    assert "s3cr3t" not in answer.content.decode() and "18198" not in answer.content.decode()


def test_readyz_names_an_evidence_store_it_cannot_write(client, db, settings, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = str(tmp_path / "a-file" / "media")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["storage"] == "dossier des preuves non accessible en écriture"


def test_probes_accept_only_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    answer = client.post("/healthz")
    assert answer.status_code == 405 and answer["Allow"] == "GET, HEAD"


def test_a_served_node_is_live_but_not_ready_without_migrations_or_queue(tmp_path):
    """A real ``careops serve``: an unmigrated database and a Redis nobody listens on."""
    env = base_env(
        tmp_path,
        CAREOPS_QUEUE_URL="redis://:queue-password@127.0.0.1:18198/7",
        CAREOPS_CACHE_URL="locmem://",
    )
    import httpx

    with serve(env, "127.0.0.1:18102", "--workers", "1", "--threads", "2") as web:
        live = httpx.get(f"{web.url}/healthz")
        ready = httpx.get(f"{web.url}/readyz")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/json"
    checks = json.loads(ready.text)["checks"]
    assert checks["database"] == "migrations non appliquées (careops migrate)"
    assert checks["queue"] == "injoignable (ConnectionError)"
    assert checks["storage"] == "ok"
    assert "queue-password" not in ready.text


@pytest.mark.services
def test_a_served_production_node_is_ready_on_postgresql_and_redis(
    tmp_path, deploy_database, redis_db
):
    import httpx

    from tests.deploy.conftest import production_env

    env = production_env(tmp_path, deploy_database)
    with serve(env, "127.0.0.1:18103", "--workers", "1", "--threads", "2") as web:
        # by address, in plain HTTP: no redirect, no "host not allowed"
        ready = httpx.get(f"{web.url}/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"].values()) == {"ok"}
