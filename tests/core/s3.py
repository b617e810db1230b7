"""A bucket on the S3 server of the backups tests (moto on 127.0.0.1) as the evidence store
(the fixture is offered by tests/core/conftest.py)."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.storage import storages

from careops.core import storage

KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@pytest.fixture
def s3_bucket(moto_server, settings):
    """A fresh bucket on the moto server, configured as the evidence store."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1", **KEYS)
    bucket = f"preuves-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    settings.CONFIG = {
        **settings.CONFIG,
        "STORAGE_BUCKET": bucket,
        "STORAGE_ENDPOINT": moto_server,
        "STORAGE_REGION": "us-east-1",
        "STORAGE_ACCESS_KEY": "test",
        "STORAGE_SECRET_KEY": "test",
        "STORAGE_ADDRESSING": "path",
        "STORAGE_SSE": "",
        "STORAGE_KMS_KEY_ID": "",
        "STORAGE_PREFIX": "careops",
    }
    return client, bucket


def use_s3(settings, **extra):
    options = {**storage.s3_options(settings.CONFIG), **extra}
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "careops.core.storage.S3EvidenceStorage", "OPTIONS": options},
    }
    return storages["default"]
