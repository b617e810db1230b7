"""The evidence store: content-addressed files, on a local folder (default) or S3-compatible storage.

Every file is stored under its SHA-256 (``<folder>/<2 first hex>/<sha256>``): identical content
is stored once, an object is never overwritten, and every read checks the bytes against the name
before a single byte is served (``StoredObjectCorrupted`` otherwise, with a log line).

The S3 store is our own ``Storage`` class on the boto3 the backups app already uses rather than
django-storages: content addressing, dedupe and verified reads would have to be written around
django-storages' S3 class anyway, and one small class keeps one dependency and one place where
keys, encryption and timeouts are set. Files reach users only through the application's
permission-checked views (streamed): this store gives no public URL.

Selected by ``CAREOPS_STORAGE`` (``local`` | ``s3``), see ``docs/platform-storage.md``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.deconstruct import deconstructible

logger = logging.getLogger("careops.storage")

CHUNK = 1024 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
LOCAL = "django.core.files.storage.FileSystemStorage"
# Files kept only until a task has read them (an upload computed by a worker on another machine):
# under this folder of the store, deleted by the task, never part of a platform backup.
TRANSIENT = "transient"


class StorageError(Exception):
    """The store cannot be reached or refused an operation (message in French)."""


class StoredObjectCorrupted(StorageError):
    """A stored object's bytes no longer match the SHA-256 in its name."""

    def __init__(self, name: str, actual: str):
        self.name = name
        self.actual = actual
        super().__init__(
            f"Le fichier stocké « {name} » est altéré : son contenu ne correspond plus à son "
            f"empreinte SHA-256 (lu {actual[:12]}…). Il n'est pas servi ; restaurez-le depuis "
            "une sauvegarde (careops platform restore) ou redéposez la preuve."
        )


def expected_digest(name: str) -> str | None:
    """The SHA-256 a content-addressed name promises (its last part), or None for another name."""
    last = PurePosixPath(name).name
    return last if _HEX64.fullmatch(last) else None


def content_name(name: str, digest: str) -> str:
    """The content-addressed name of ``digest`` for a file the application asked to call ``name``:
    the name itself when it already ends in that digest, else ``<its folder>/<ab>/<digest>``."""
    given = expected_digest(name)
    if given is not None:
        if given != digest:
            raise StorageError(
                f"Contenu refusé pour « {name} » : son empreinte SHA-256 est {digest}."
            )
        return name
    parent = PurePosixPath(name).parent
    if parent.name == digest[:2]:  # a legacy "<folder>/<ab>/<digest>_Xyz12" name
        parent = parent.parent
    folder = str(parent)
    prefix = "" if folder in ("", ".") else folder + "/"
    return f"{prefix}{digest[:2]}/{digest}"


def _spool(content) -> tuple[tempfile.SpooledTemporaryFile, str, int]:
    """A rewound copy of ``content`` (memory, then disk), its SHA-256 and its size."""
    digest = hashlib.sha256()
    size = 0
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    chunks = (
        content.chunks(CHUNK)
        if hasattr(content, "chunks")
        else iter(lambda: content.read(CHUNK), b"")
    )
    for chunk in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode()
        digest.update(chunk)
        size += len(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest(), size


def _verified(name: str, stream) -> File:
    """Read ``stream`` whole into a spool, check it against ``name``'s digest, return it."""
    spool, digest, _size = _spool(File(stream))
    expected = expected_digest(name)
    if expected is not None and digest != expected:
        spool.close()
        logger.error(
            "objet altéré dans le stockage des preuves : %s (empreinte lue %s), non servi",
            name,
            digest,
        )
        raise StoredObjectCorrupted(name, digest)
    return File(spool, name=name)


class ContentAddressed:
    """What both stores share: names are given by the content, never made "available"."""

    def get_available_name(self, name, max_length=None):
        return name  # content-addressed: the same name is the same content, never a new copy

    def _save(self, name, content):
        spool, digest, _size = _spool(content)
        with spool:
            name = content_name(name, digest)
            if not self.exists(name):  # deduplicated: stored once, never overwritten
                self._write(name, spool, digest)
        return name

    def restore_object(self, name: str, content) -> None:
        """Write ``content`` under exactly ``name`` unless present (restoring a backup, whose
        names the restored database uses; a content-addressed name must match its content)."""
        spool, digest, _size = _spool(content)
        with spool:
            if expected_digest(name):
                content_name(name, digest)  # raises unless the content matches the name
            if not self.exists(name):
                self._write(name, spool, digest)


@deconstructible
class LocalEvidenceStorage(ContentAddressed, FileSystemStorage):
    """The embedded default: a private folder (MEDIA_ROOT), content-addressed, verified reads."""

    backend = "local"

    def _write(self, name, spool, digest) -> None:
        target = self.path(name)
        folder = os.path.dirname(target)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        # written aside then renamed: a crash never leaves a partial file under the name
        descriptor, partial = tempfile.mkstemp(dir=folder, prefix=".partial-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                while chunk := spool.read(CHUNK):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)
            raise

    def _open(self, name, mode="rb"):
        with open(self.path(name), "rb") as handle:
            return _verified(name, handle)

    def url(self, name):
        raise StorageError("Le stockage des preuves ne donne pas d'adresse publique.")

    def iter_names(self) -> Iterator[str]:
        """Every stored object's name (files being written are skipped)."""
        root = self.location
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for file_name in sorted(files):
                if file_name.startswith(".partial-"):
                    continue
                path = os.path.join(folder, file_name)
                yield os.path.relpath(path, root).replace(os.sep, "/")

    def describe(self) -> str:
        return f"dossier local {self.location}"


def _error_code(exc: Exception) -> str:
    """The S3 error code of a boto3 failure (``NoSuchBucket``, ``403``…), never its message."""
    return getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)


@deconstructible
class S3EvidenceStorage(ContentAddressed, Storage):
    """An S3-compatible bucket (AWS, Scaleway, OVHcloud, Ceph, MinIO, Garage…), content-addressed,
    optionally encrypted at rest by the server (SSE-S3 ``AES256`` or SSE-KMS ``aws:kms``)."""

    backend = "s3"

    def __init__(
        self,
        bucket: str = "",
        endpoint_url: str = "",
        region: str = "",
        access_key: str = "",
        secret_key: str = "",
        addressing_style: str = "auto",
        sse: str = "",
        kms_key_id: str = "",
        prefix: str = "",
        timeout: float = 30.0,
    ):
        if not bucket:
            raise StorageError("Stockage S3 : le seau (CAREOPS_STORAGE_BUCKET) est obligatoire.")
        if sse not in ("", "AES256", "aws:kms"):
            raise StorageError(
                "Stockage S3 : CAREOPS_STORAGE_SSE vaut AES256 (SSE-S3), aws:kms (SSE-KMS) ou rien."
            )
        if addressing_style not in ("auto", "path", "virtual"):
            raise StorageError(
                "Stockage S3 : CAREOPS_STORAGE_ADDRESSING vaut auto, path ou virtual."
            )
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self._access_key = access_key or None
        self._secret_key = secret_key or None
        self.addressing_style = addressing_style
        self.sse = sse
        self.kms_key_id = kms_key_id
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.timeout = timeout
        self._client = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the keys
        return f"<S3EvidenceStorage s3://{self.bucket}/{self.prefix} via {self.endpoint_url}>"

    def describe(self) -> str:
        where = f" ({self.endpoint_url})" if self.endpoint_url else ""
        return f"seau S3 {self.bucket}{where}" + (f", préfixe {self.prefix}" if self.prefix else "")

    def _make_client(self, timeout: float, attempts: int):
        from careops.s3client import s3_client

        return s3_client(
            self.endpoint_url,
            self.region,
            self._access_key,
            self._secret_key,
            connect_timeout=min(timeout, 10),
            read_timeout=timeout,
            attempts=attempts,
            addressing_style=self.addressing_style,
        )

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                self._client = self._make_client(self.timeout, attempts=3)
            return self._client

    def _key(self, name: str) -> str:
        return self.prefix + name

    def _failure(self, action: str, name: str, exc: Exception) -> StorageError:
        code = _error_code(exc)
        logger.error("stockage S3 : %s de %s impossible (%s)", action, name, code)
        return StorageError(f"Stockage S3 : {action} de « {name} » impossible ({code}).")

    def _write(self, name, spool, digest) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, Any] = {
            "ContentType": "application/octet-stream",
            "Metadata": {"sha256": digest},
        }
        if self.sse:
            extra["ServerSideEncryption"] = self.sse
            if self.sse == "aws:kms" and self.kms_key_id:
                extra["SSEKMSKeyId"] = self.kms_key_id
        try:
            self.client.upload_fileobj(spool, self.bucket, self._key(name), ExtraArgs=extra)
        except (BotoCoreError, ClientError) as exc:
            raise self._failure("l'écriture", name, exc) from exc

    def _open(self, name, mode="rb"):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"Objet absent du stockage S3 : {name}") from exc
            raise self._failure("la lecture", name, exc) from exc
        except BotoCoreError as exc:
            raise self._failure("la lecture", name, exc) from exc
        body = response["Body"]
        try:
            return _verified(name, body)
        finally:
            body.close()

    def exists(self, name):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._failure("la consultation", name, exc) from exc
        except BotoCoreError as exc:
            raise self._failure("la consultation", name, exc) from exc
        return True

    def head(self, name) -> dict:
        """The object's metadata as the server reports it (encryption, size…)."""
        return self.client.head_object(Bucket=self.bucket, Key=self._key(name))

    def delete(self, name):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def size(self, name):
        return self.head(name)["ContentLength"]

    def url(self, name):
        raise StorageError("Le stockage des preuves ne donne pas d'adresse publique.")

    def listdir(self, path):
        prefix = self._key(path.strip("/") + "/" if path.strip("/") else "")
        dirs, files = [], []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            dirs += [p["Prefix"][len(prefix) :].rstrip("/") for p in page.get("CommonPrefixes", [])]
            files += [o["Key"][len(prefix) :] for o in page.get("Contents", [])]
        return dirs, files

    def iter_names(self) -> Iterator[str]:
        """Every stored object's name."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]

    def reachable(self, timeout: float = 3.0) -> str:
        """Raise StorageError unless the bucket answers HeadBucket within ``timeout`` seconds
        (one attempt: a readiness probe must answer quickly)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._make_client(timeout, attempts=1).head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            code = _error_code(exc)
            logger.error("stockage S3 : le seau %s ne répond pas (%s)", self.bucket, code)
            raise StorageError(
                f"Stockage S3 : le seau « {self.bucket} » ne répond pas ({code})."
            ) from exc
        return self.describe()


# --- configuration --------------------------------------------------------------------------


def s3_options(config: dict[str, Any]) -> dict[str, Any]:
    """The S3 store's options from the configuration (``CAREOPS_STORAGE_*``)."""
    return {
        "bucket": config["STORAGE_BUCKET"],
        "endpoint_url": config["STORAGE_ENDPOINT"],
        "region": config["STORAGE_REGION"],
        "access_key": config["STORAGE_ACCESS_KEY"],
        "secret_key": config["STORAGE_SECRET_KEY"],
        "addressing_style": config["STORAGE_ADDRESSING"],
        "sse": config["STORAGE_SSE"],
        "kms_key_id": config["STORAGE_KMS_KEY_ID"],
        "prefix": config["STORAGE_PREFIX"],
    }


def storages_setting(config: dict[str, Any]) -> dict[str, Any]:
    """Django's ``STORAGES``: the evidence store chosen by ``CAREOPS_STORAGE``."""
    from careops.config import ConfigError

    kind = str(config["STORAGE"]).lower()
    if kind == "local":
        # no explicit location: MEDIA_ROOT is read when used (and follows test overrides)
        default = {"BACKEND": "careops.core.storage.LocalEvidenceStorage"}
    elif kind == "s3":
        if not config["STORAGE_BUCKET"]:
            raise ConfigError("CAREOPS_STORAGE=s3 : CAREOPS_STORAGE_BUCKET est obligatoire")
        default = {
            "BACKEND": "careops.core.storage.S3EvidenceStorage",
            "OPTIONS": s3_options(config),
        }
    else:
        raise ConfigError(f"CAREOPS_STORAGE vaut local ou s3, reçu {kind!r}")
    return {
        "default": default,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def build(kind: str) -> LocalEvidenceStorage | S3EvidenceStorage:
    """A store of the given kind from the current configuration, whichever one is in use
    (the migration command reads one and writes the other)."""
    from django.conf import settings

    if kind == "local":
        return LocalEvidenceStorage()
    if not settings.CONFIG["STORAGE_BUCKET"]:
        raise StorageError("Stockage S3 : le seau (CAREOPS_STORAGE_BUCKET) est obligatoire.")
    return S3EvidenceStorage(**s3_options(settings.CONFIG))


def current():
    """The configured evidence store (Django's default storage)."""
    from django.core.files.storage import storages

    return storages["default"]


# --- health ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reachability:
    ok: bool
    backend: str
    detail: str

    def __bool__(self) -> bool:
        return self.ok


def check_reachable(timeout: float = 3.0) -> Reachability:
    """Whether the evidence store answers now (for ``/readyz``): the local folder exists and is
    writable, or the S3 bucket answers HeadBucket within ``timeout`` seconds (one attempt).
    Never raises; ``detail`` is French and names no secret."""
    from django.conf import settings

    backend = str(getattr(settings, "CONFIG", {}).get("STORAGE", "local"))
    try:
        store = current()
        backend = getattr(store, "backend", type(store).__name__)
        if isinstance(store, S3EvidenceStorage):
            return Reachability(True, backend, store.reachable(timeout))
        location = getattr(store, "location", "")
        os.makedirs(location, mode=0o700, exist_ok=True)
        if not os.access(location, os.W_OK | os.X_OK):
            return Reachability(False, backend, f"dossier {location} non inscriptible")
        return Reachability(True, backend, f"dossier local {location}")
    except (StorageError, OSError) as exc:
        return Reachability(False, backend, str(exc))


# --- files referenced by the database --------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One stored file named by a row: the model, its primary key, the field and the name."""

    model: Any
    pk: Any
    field: str
    name: str
    sha256: str | None  # the digest the row itself records, when it records one


def file_fields() -> list[tuple[Any, str]]:
    """Every (model, FileField name) of the installed apps."""
    from django.apps import apps
    from django.db import models

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]


def references() -> Iterator[Reference]:
    """Every stored file the database names, in a stable order."""
    for model, field in file_fields():
        has_digest = any(f.name == "sha256" for f in model._meta.get_fields())
        columns = ["pk", field] + (["sha256"] if has_digest else [])
        rows = (
            model._default_manager.exclude(**{field: ""})
            .exclude(**{f"{field}__isnull": True})
            .order_by("pk")
            .values_list(*columns)
        )
        for row in rows.iterator(chunk_size=2000):
            yield Reference(model, row[0], field, row[1], row[2] if has_digest else None)


@contextmanager
def local_path(field_file) -> Iterator[str]:
    """A local path holding the verified content of a stored file, for tools that read paths
    (the store's own file when local, a private temporary copy from S3)."""
    with field_file.storage.open(field_file.name) as verified:
        if isinstance(field_file.storage, FileSystemStorage):
            yield field_file.storage.path(field_file.name)
            return
        descriptor, path = tempfile.mkstemp(prefix="careops-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                for chunk in verified.chunks(CHUNK):
                    handle.write(chunk)
            yield path
        finally:
            os.unlink(path)


def open_for_download(field_file):
    """The verified content of a stored file for a download view, or a French ``StorageError``
    whose message suits the user (the detail goes to the log, never the wrong bytes to the user)."""
    from django.utils.translation import gettext as _

    try:
        return field_file.open("rb")
    except StoredObjectCorrupted as exc:
        raise StorageError(
            _(
                "Ce fichier est altéré dans le stockage des preuves : il n'est pas servi. "
                "Prévenez l'administrateur de la plateforme (careops storage verify)."
            )
        ) from exc
    except (StorageError, OSError) as exc:
        logger.error("lecture de %s impossible : %s", field_file.name, exc)
        raise StorageError(
            _("Ce fichier est momentanément illisible dans le stockage des preuves.")
        ) from exc


def hash_stream(stream) -> tuple[str, int]:
    """SHA-256 and size of a binary stream read to its end."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
