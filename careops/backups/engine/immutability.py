"""Immutability probes: S3 Object Lock (boto3) and borg append-only."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from careops.backups.engine import errors
from careops.backups.engine.results import ERROR, FAILED, OK, WARNING, CheckResult


@dataclass
class S3Target:
    """An S3 bucket to probe; credentials come from files or environment, never a command line."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None
    min_retention_days: int = 1
    probe_delete: bool = True
    proxy_url: str | None = None  # the egress-checking proxy of a web run


def _retention_days(rule: dict) -> float:
    if "Days" in rule:
        return float(rule["Days"])
    if "Years" in rule:
        return float(rule["Years"]) * 365
    return 0.0


def probe_s3_object_lock(target: S3Target, now: dt.datetime | None = None) -> CheckResult:
    """Check that a bucket has Object Lock, a long enough default retention, and refuses deletion.

    With ``probe_delete`` a tiny object is written under ``careops-probe/`` with a one-day
    retention in the bucket's mode, then the deletion of that exact version is attempted: it
    must be refused. The probe object stays until its retention ends (documented cost).
    """
    try:
        from botocore.exceptions import BotoCoreError, ClientError

        from careops.s3client import s3_client
    except ImportError:
        return CheckResult("object_lock", ERROR, "boto3 n'est pas installé : sonde S3 impossible")
    now = now or dt.datetime.now(dt.UTC)
    client = s3_client(
        target.endpoint_url,
        target.region,
        target.access_key,
        target.secret_key,
        proxy_url=target.proxy_url,
    )
    details: dict = {"bucket": target.bucket}
    try:
        versioning = client.get_bucket_versioning(Bucket=target.bucket).get("Status", "")
        details["versioning"] = versioning or "Disabled"
        try:
            config = client.get_object_lock_configuration(Bucket=target.bucket)
            config = config.get("ObjectLockConfiguration", {})
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration"):
                return CheckResult(
                    "object_lock", FAILED, "verrouillage d'objets (Object Lock) non activé", details
                )
            raise
        details["object_lock"] = config.get("ObjectLockEnabled", "")
        rule = config.get("Rule", {}).get("DefaultRetention", {})
        mode = rule.get("Mode", "")
        days = _retention_days(rule)
        details.update({"mode": mode, "retention_days": days})
        if config.get("ObjectLockEnabled") != "Enabled":
            return CheckResult("object_lock", FAILED, "Object Lock non activé", details)
        problems, warnings = [], []
        if not mode:
            problems.append("aucune rétention par défaut")
        elif days < target.min_retention_days:
            problems.append(
                f"rétention par défaut de {days:g} j, inférieure aux {target.min_retention_days} j exigés"
            )
        if mode == "GOVERNANCE":
            warnings.append("mode GOVERNANCE : un compte privilégié peut lever le verrou")
        if target.probe_delete:
            refused, bypassed = _probe_delete(client, target.bucket, mode or "GOVERNANCE", now)
            details["delete_refused"] = refused
            details["governance_bypass_refused"] = not bypassed
            if not refused:
                problems.append("la suppression d'une version verrouillée a été acceptée")
            elif bypassed:
                warnings.append("suppression possible avec contournement GOVERNANCE")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return CheckResult(
            "object_lock",
            ERROR,
            f"sonde S3 impossible : {error.get('Code', '')} {error.get('Message', '')}".strip(),
            details,
        )
    except BotoCoreError as exc:
        return CheckResult("object_lock", ERROR, f"sonde S3 impossible : {exc}", details)
    if problems:
        return CheckResult("object_lock", FAILED, " ; ".join(problems + warnings), details)
    summary = f"Object Lock actif, mode {mode}, rétention {days:g} j"
    if target.probe_delete:
        summary += ", suppression d'une version verrouillée refusée"
    if warnings:
        return CheckResult("object_lock", WARNING, summary + " ; " + " ; ".join(warnings), details)
    return CheckResult("object_lock", OK, summary, details)


def _probe_delete(client, bucket: str, mode: str, now: dt.datetime) -> tuple[bool, bool]:
    """Write a locked probe version, try to delete it; (refused, bypass succeeded)."""
    from botocore.exceptions import ClientError

    key = f"careops-probe/{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    put = client.put_object(
        Bucket=bucket,
        Key=key,
        Body=b"careops immutability probe\n",
        ObjectLockMode=mode,
        ObjectLockRetainUntilDate=now + dt.timedelta(days=1),
    )
    version = put.get("VersionId")
    try:
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
        return False, True
    except ClientError:
        pass
    if mode != "GOVERNANCE":
        return True, False
    try:
        client.delete_object(
            Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True
        )
        return True, True
    except ClientError:
        return True, False


def probe_borg_append_only(repository) -> CheckResult:
    """Check a borg repository's ``append_only`` setting (repository-side configuration)."""
    try:
        enabled = repository.append_only()
    except errors.BackupToolError as exc:
        return CheckResult("append_only", ERROR, exc.message, {"kind": exc.kind})
    if enabled:
        return CheckResult(
            "append_only",
            OK,
            "dépôt borg en ajout seul (append_only = 1) : suppressions et élagages réversibles",
            {"append_only": True},
        )
    return CheckResult(
        "append_only",
        FAILED,
        "dépôt borg modifiable : append_only = 0 (un client compromis peut tout supprimer)",
        {"append_only": False},
    )
