"""S3 Object Lock probe against a moto server on loopback (an emulator, not a WORM store)."""

from __future__ import annotations

import uuid

import pytest

from careops.backups.engine.immutability import S3Target, probe_s3_object_lock

KEYS = {"aws_access_key_id": "careops", "aws_secret_access_key": "careops-test"}


@pytest.fixture
def s3(moto_server):
    import boto3

    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1", **KEYS)


def _bucket(s3, lock: bool, mode: str | None = "COMPLIANCE", days: int = 30) -> str:
    name = f"careops-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    if lock and mode:
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
            },
        )
    return name


def _target(moto_server, bucket, **extra):
    return S3Target(
        bucket=bucket,
        endpoint_url=moto_server,
        access_key=KEYS["aws_access_key_id"],
        secret_key=KEYS["aws_secret_access_key"],
        **extra,
    )


def test_compliance_lock_refuses_deletion_of_a_locked_version(moto_server, s3):
    bucket = _bucket(s3, lock=True)
    result = probe_s3_object_lock(_target(moto_server, bucket, min_retention_days=7))
    assert result.status == "ok", result.message
    assert result.details["delete_refused"] is True
    assert result.details["mode"] == "COMPLIANCE"
    assert "suppression d'une version verrouillée refusée" in result.message
    versions = s3.list_object_versions(Bucket=bucket, Prefix="careops-probe/")
    assert len(versions.get("Versions", [])) == 1  # the locked probe version is still there


def test_bucket_without_object_lock_fails(moto_server, s3):
    result = probe_s3_object_lock(_target(moto_server, _bucket(s3, lock=False)))
    assert result.status == "failed"
    assert "Object Lock" in result.message


def test_retention_shorter_than_policy_fails(moto_server, s3):
    bucket = _bucket(s3, lock=True, days=1)
    result = probe_s3_object_lock(_target(moto_server, bucket, min_retention_days=30))
    assert result.status == "failed"
    assert "inférieure aux 30 j" in result.message


def test_governance_mode_is_only_a_warning(moto_server, s3):
    bucket = _bucket(s3, lock=True, mode="GOVERNANCE")
    result = probe_s3_object_lock(_target(moto_server, bucket, probe_delete=False))
    assert result.status == "warning"
    assert "GOVERNANCE" in result.message


def test_unknown_bucket_is_an_error_not_a_pass(moto_server):
    result = probe_s3_object_lock(_target(moto_server, "absent-bucket"))
    assert result.status == "error"


def test_object_lock_check_runs_from_a_verification_config(moto_server, s3, world, monkeypatch):
    from careops.backups.engine.verify import run_verification
    from tests.backups.helpers import check, restic_config

    bucket = _bucket(s3, lock=True)
    monkeypatch.setenv("BENCH_S3_KEY", KEYS["aws_access_key_id"])
    (world / "s3.secret").write_text(KEYS["aws_secret_access_key"] + "\n")
    config = restic_config(
        world,
        structure=False,
        object_lock={
            "bucket": bucket,
            "endpoint": moto_server,
            "access_key_env": "BENCH_S3_KEY",
            "secret_key_file": "s3.secret",
            "min_retention_days": 30,
        },
    )
    result = check(run_verification(config).repositories[0], "object_lock")
    assert result.status == "ok", result.message


def test_restic_repository_in_a_locked_bucket_is_verified_end_to_end(
    moto_server, s3, tmp_path, monkeypatch
):
    from careops.backups.engine.config import parse_config
    from careops.backups.engine.restic import ResticRepository
    from careops.backups.engine.verify import run_verification
    from tests.backups.conftest import PASSWORD, make_data, require_tool
    from tests.backups.helpers import check

    require_tool("restic")
    bucket = _bucket(s3, lock=True, days=1)
    env = {
        "AWS_ACCESS_KEY_ID": KEYS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": KEYS["aws_secret_access_key"],
    }
    location = f"s3:{moto_server}/{bucket}"
    repo = ResticRepository(location, PASSWORD, env=env)
    repo.init()
    repo.backup([str(make_data(tmp_path / "data"))], host="app01")
    (tmp_path / "password").write_text(PASSWORD)
    (tmp_path / "secret").write_text(KEYS["aws_secret_access_key"])
    config = parse_config(
        {
            "repositories": [
                {
                    "name": "s3",
                    "driver": "restic",
                    "location": location,
                    "password_file": "password",
                    "env": {"AWS_ACCESS_KEY_ID": KEYS["aws_access_key_id"]},
                    "env_files": {"AWS_SECRET_ACCESS_KEY": "secret"},
                    "checks": {
                        "data": {"cycle": 1},
                        "object_lock": {
                            "bucket": bucket,
                            "endpoint": moto_server,
                            "access_key_env": "CAREOPS_TEST_S3_KEY",
                            "secret_key_file": "secret",
                        },
                    },
                }
            ],
            "systems": [
                {"name": "dpi", "rpo_hours": 24, "repository": "s3", "match": {"host": "app01"}}
            ],
        },
        base_dir=str(tmp_path),
    )
    monkeypatch.setenv("CAREOPS_TEST_S3_KEY", KEYS["aws_access_key_id"])
    report = run_verification(config)
    repo_report = report.repositories[0]
    assert check(repo_report, "integrity").status == "ok"
    assert check(repo_report, "object_lock").status == "ok"
    assert report.systems[0].status == "ok"
