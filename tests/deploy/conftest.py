"""Fixtures of the deployment tests: a production environment on a real PostgreSQL database
(``careops_deploy``, migrated once per migration set) and Redis (DB 7)."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

import pytest

from tests.deploy.helpers import ROOT, base_env, careops

PG_ADMIN = os.environ.get("CAREOPS_DEPLOY_PG", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "careops_deploy"
REDIS = os.environ.get("CAREOPS_DEPLOY_REDIS", "redis://127.0.0.1:6379/7")


def _migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("careops/*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def _admin():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL needed by the deployment tests is unreachable ({PG_ADMIN}): {exc}")


def production_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """What docs/deployment.md tells an operator to set, for one careops process."""
    return base_env(
        data_dir,
        CAREOPS_ENV="production",
        CAREOPS_SECRET_KEY=secrets.token_urlsafe(50),
        CAREOPS_ENCRYPTION_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        CAREOPS_ALLOWED_HOSTS="careops.test",
        CAREOPS_DATABASE_URL=database_url,
        CAREOPS_QUEUE_URL=REDIS,
        CAREOPS_TRUSTED_PROXY_COUNT="1",
        **extra,
    )


@pytest.fixture(scope="session")
def deploy_database(tmp_path_factory) -> str:
    """A freshly created ``careops_deploy`` database with every migration applied (copied from
    a template kept per migration set, so that only a new migration costs a full migrate)."""
    template = f"{DATABASE}_tpl_{_migrations_digest()}"
    url = PG_ADMIN.rsplit("/", 1)[0]
    with _admin() as admin:
        existing = {
            row[0]
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{DATABASE}%",)
            )
        }
        for name in existing - {template}:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if template not in existing:
            admin.execute(f'CREATE DATABASE "{template}"')
            env = production_env(tmp_path_factory.mktemp("migrate"), f"{url}/{template}")
            result = careops(["migrate", "--noinput"], env)
            if result.returncode != 0:
                admin.execute(f'DROP DATABASE "{template}" WITH (FORCE)')
                pytest.fail(f"careops migrate failed:\n{result.stdout}\n{result.stderr}")
        admin.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{template}"')
    return f"{url}/{DATABASE}"


@pytest.fixture(scope="session")
def redis_db():
    """Redis DB 7, emptied."""
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis needed by the deployment tests is unreachable ({REDIS}): {exc}")
    return REDIS


@pytest.fixture(scope="session")
def careops_image() -> str:
    """careops' image built once per session by deploy/container/build.sh (slow tests)."""
    from tests.deploy.containers import build, podman, require_tools

    require_tools("podman", "mmdebstrap", "runc", "buildah")
    image = "localhost/careops:test"
    previous = podman("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    build("build.sh", image)
    current = podman("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    if previous and previous != current:  # the last session's build, untagged: 600 MB each
        podman("rmi", previous)
    return image
