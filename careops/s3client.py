"""One way to open an S3 client (boto3), for the evidence store and the Object Lock probe.

Imports nothing from Django (the backups engine uses it); keys are passed in, never read here.
"""

from __future__ import annotations


def s3_client(
    endpoint_url: str | None,
    region: str | None,
    access_key: str | None,
    secret_key: str | None,
    *,
    connect_timeout: float = 10,
    read_timeout: float = 30,
    attempts: int = 2,
    addressing_style: str = "auto",
    proxy_url: str | None = None,
):
    """A boto3 S3 client with bounded timeouts and retries (``attempts`` in all)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=Config(
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            proxies={"http": proxy_url, "https": proxy_url} if proxy_url else None,
        ),
    )
