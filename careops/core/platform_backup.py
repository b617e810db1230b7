"""careops backs itself up: ``careops platform backup OUT`` and ``careops platform restore IN``.

A platform backup is a plain directory (so that restic or borg deduplicate it run after run, and
anyone can check it with ``sha256sum -c MANIFEST.sha256``)::

    OUT/
      manifest.json         what, when, which database engine, counts, the encryption key's
                            fingerprint (never the key), the last migration of every app
      database/careops.sqlite3   SQLite online backup API (a consistent copy of a live base)
      database/careops.pgdump    or pg_dump --format=custom (one consistent snapshot)
      storage/<ab>/…        every object of the evidence store, under its content-addressed name
      referential/          the referential versions loaded (YAML as shipped, or their data)
      MANIFEST.sha256       SHA-256 of every other file (sha256sum format)

Consistency: the database is copied first, then the store. The store is append-only (an
object is written before the row that names it and never overwritten), so every file the copied
database names is in the store when it is read. The directory is built under a temporary name
and renamed when complete: an interrupted backup never looks like a finished one.

Secrets: the database holds the encrypted secrets (``careops.core.crypto``); the encryption key
is never written to the backup. It is kept apart (docs/platform-storage.md) and restore checks
that the installation's key is the one the backup was made with (by fingerprint).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import connection

from careops.core import storage as store_module

logger = logging.getLogger("careops.platform")

FORMAT = "careops-platform-backup"
FORMAT_VERSION = 1
MANIFEST = "MANIFEST.sha256"
REFERENTIAL_DIR = Path(__file__).resolve().parent.parent / "catalogue" / "referential"

Progress = Callable[[str], None]


class PlatformBackupError(Exception):
    """A backup or restore refused or failed (message in French, for the operator)."""


def _quiet(_message: str) -> None:
    return None


# --- database -------------------------------------------------------------------------------


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise PlatformBackupError(f"Base {vendor} non prise en charge (SQLite ou PostgreSQL).")
    return vendor


def _pg_env() -> dict[str, str]:
    """libpq's environment for the current database: the password never on a command line."""
    db = connection.settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if db.get(key):
            env[variable] = str(db[key])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = sslmode
    return env


def _run(command: list[str], what: str) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise PlatformBackupError(
            f"{command[0]} est introuvable : installer le paquet Debian postgresql-client."
        )
    result = subprocess.run(  # noqa: S603
        [tool, *command[1:]], env=_pg_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        logger.error("%s en échec (code %s) : %s", what, result.returncode, " | ".join(detail))
        raise PlatformBackupError(
            f"{what} en échec (code {result.returncode}) : {' '.join(detail)}"
        )


def dump_database(folder: Path) -> str:
    """A consistent copy of the live database into ``folder``; returns its file name."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    connection.ensure_connection()
    if engine == "sqlite":
        target = folder / "careops.sqlite3"
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
        return target.name
    target = folder / "careops.pgdump"
    _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
        "pg_dump",
    )
    return target.name


def load_database(path: Path, engine: str) -> None:
    """Replace the current database's content with the dump at ``path``."""
    if engine != _engine():
        raise PlatformBackupError(
            f"Sauvegarde d'une base {engine}, installation sur {_engine()} : restaurer dans une "
            "installation du même moteur."
        )
    if engine == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    connection.close()  # pg_restore --clean drops tables this connection could hold
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={connection.settings_dict['NAME']}",
            str(path),
        ],
        "pg_restore",
    )


# --- facts compared before and after -------------------------------------------------------


def key_fingerprint() -> str:
    """A short fingerprint of the current encryption key (never the key itself)."""
    from careops.core import crypto

    key = (crypto.configured_keys() or [crypto._derived_key()])[0]
    return hashlib.sha256(b"careops-encryption-key:" + key.encode()).hexdigest()[:16]


def facts() -> dict[str, Any]:
    """Counts of what an installation holds (what ``restore`` refuses to overwrite)."""
    from django.contrib.auth import get_user_model

    from careops.compliance.models import EvidenceFile
    from careops.declarations.models import Declaration
    from careops.tenancy.models import Organisation

    return {
        "users": get_user_model().objects.count(),
        "organisations": Organisation.objects.count(),
        "evidence_files": EvidenceFile.objects.count(),
        "declarations": Declaration.objects.count(),
    }


def _migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


def _referential(folder: Path) -> list[dict]:
    from careops.catalogue.models import ReferentialVersion

    folder.mkdir(parents=True, exist_ok=True)
    listed = []
    for version in ReferentialVersion.objects.order_by("domain", "version"):
        shipped = REFERENTIAL_DIR / Path(version.source_file).name
        if shipped.is_file() and hashlib.sha256(shipped.read_bytes()).hexdigest() == version.sha256:
            name = shipped.name
            shutil.copyfile(shipped, folder / name)
        else:  # loaded from an upload: its validated data is what the platform holds
            name = f"{version.domain}-v{version.version}.data.json".replace("/", "_")
            (folder / name).write_text(
                json.dumps(version.data, ensure_ascii=False, indent=1, sort_keys=True), "utf-8"
            )
        listed.append(
            {
                "domain": version.domain,
                "version": version.version,
                "sha256": version.sha256,
                "current": version.is_current,
                "file": name,
            }
        )
    (folder / "versions.json").write_text(json.dumps(listed, ensure_ascii=False, indent=1), "utf-8")
    return listed


# --- backup ---------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return store_module.hash_stream(handle)[0]


def _write_manifest(root: Path) -> int:
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative != MANIFEST:
            lines.append(f"{_sha256_file(path)}  {relative}\n")
    (root / MANIFEST).write_text("".join(lines), "utf-8")
    return len(lines)


def backup(out: Path, progress: Progress = _quiet) -> dict[str, Any]:
    """Write a platform backup to the directory ``out`` (absent or empty); returns its manifest."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PlatformBackupError(f"{out} existe et n'est pas un dossier vide : choisir un autre.")
    store = store_module.current()
    location = getattr(store, "location", None) if store.backend == "local" else None
    if location and out.resolve().is_relative_to(Path(location).resolve()):
        raise PlatformBackupError(
            f"{out} est dans le stockage des preuves ({location}) : la sauvegarde s'y copierait "
            "elle-même ; choisir un dossier hors du stockage."
        )
    partial = out.with_name(f".{out.name}.partial")
    if partial.exists():
        shutil.rmtree(partial)  # left by an interrupted run
    partial.mkdir(parents=True, mode=0o700)
    started = dt.datetime.now(dt.UTC)
    engine = _engine()
    progress(f"base de données ({engine})…")
    database_file = dump_database(partial / "database")
    counts = facts()
    store = store_module.current()
    progress(f"stockage des preuves ({store.describe()})…")
    total_bytes = 0
    copied: set[str] = set()
    corrupted: list[str] = []
    for name in store.iter_names():
        if name.startswith(store_module.TRANSIENT + "/"):
            continue  # uploads waiting for a task: deleted once read, not platform data
        target = partial / "storage" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = store.open(name)  # verified read
        except store_module.StoredObjectCorrupted:
            corrupted.append(name)  # logged by the store; the rest is still backed up
            continue
        with handle, target.open("wb") as copy:
            for chunk in handle.chunks(store_module.CHUNK):
                copy.write(chunk)
                total_bytes += len(chunk)
        copied.add(name)
        if len(copied) % 200 == 0:
            progress(f"  {len(copied)} objet(s) copiés")
    objects = len(copied)
    missing = sorted({ref.name for ref in store_module.references()} - copied - set(corrupted))
    if missing:
        logger.error("sauvegarde : %s fichier(s) nommés en base absents du stockage", len(missing))
    progress(f"  {objects} objet(s), {total_bytes} octets")
    progress("versions du référentiel…")
    referential = _referential(partial / "referential")
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": started.isoformat(),
        "careops_version": _careops_version(),
        "database": {"engine": engine, "file": f"database/{database_file}"},
        "migrations": _migrations(),
        "counts": counts,
        "storage": {
            "source": store.describe(),
            "objects": objects,
            "bytes": total_bytes,
            "missing": missing,
            "corrupted": corrupted,
        },
        "referential": referential,
        "encryption_key_fingerprint": key_fingerprint(),
    }
    (partial / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8"
    )
    progress("empreintes SHA-256…")
    manifest["files"] = _write_manifest(partial)
    if out.exists():
        out.rmdir()
    partial.rename(out)
    return manifest


def _careops_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("careops")
    except PackageNotFoundError:
        return "inconnue"


# --- restore --------------------------------------------------------------------------------


def check_archive(root: Path, progress: Progress = _quiet) -> dict[str, Any]:
    """Check every file of a backup against ``MANIFEST.sha256``; returns its manifest.json."""
    root = Path(root)
    if not (root / MANIFEST).is_file() or not (root / "manifest.json").is_file():
        raise PlatformBackupError(
            f"{root} n'est pas une sauvegarde careops (MANIFEST.sha256 absent)."
        )
    from careops.backups.engine import restore as manifests

    try:
        expected = manifests.read_manifest((root / MANIFEST).read_text("utf-8"))
    except ValueError as exc:
        raise PlatformBackupError(f"MANIFEST.sha256 illisible : {exc}") from exc
    _check_layout(root, expected)
    progress(f"vérification de {len(expected)} fichier(s)…")
    bad = []
    for relative, digest in expected.items():
        path = root / relative
        if not path.is_file():
            bad.append(f"{relative} (absent)")
        elif _sha256_file(path) != digest:
            bad.append(f"{relative} (empreinte différente)")
        elif relative.startswith("storage/") and store_module.expected_digest(relative) not in (
            None,
            digest,
        ):
            bad.append(f"{relative} (contenu différent de son nom)")
    if bad:
        raise PlatformBackupError(
            f"Sauvegarde altérée : {len(bad)} fichier(s) en défaut — " + ", ".join(bad[:10])
        )
    try:
        manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PlatformBackupError(f"manifest.json illisible : {exc}") from exc
    if not isinstance(manifest, dict):
        raise PlatformBackupError("manifest.json illisible : un objet JSON est attendu.")
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise PlatformBackupError("Format de sauvegarde inconnu de cette version de careops.")
    missing = [
        key
        for key in ("created_at", "counts", "encryption_key_fingerprint", "database")
        if key not in manifest
    ]
    if missing or not isinstance(manifest["database"], dict):
        raise PlatformBackupError(
            "manifest.json incomplet (" + ", ".join(missing or ["database"]) + ")."
        )
    database = manifest["database"].get("file", "")
    if database not in expected or not database.startswith("database/"):
        raise PlatformBackupError(
            f"Sauvegarde altérée : la base de données « {database} » n'est pas un fichier "
            "database/… du manifeste."
        )
    return manifest


def _check_layout(root: Path, expected: dict[str, str]) -> None:
    """Refuse what a sha256sum check alone lets through: a listed path outside the folder, a
    symbolic link (restore would copy the file it points to), a file the manifest omits."""
    outside = [p for p in expected if p.startswith("/") or ".." in p.split("/") or "\\" in p]
    if outside:
        raise PlatformBackupError(
            "Sauvegarde altérée : le manifeste nomme un chemin hors de la sauvegarde — "
            + ", ".join(outside[:10])
        )
    links, extra = [], []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                links.append(relative)
            elif name in files and relative != MANIFEST and relative not in expected:
                extra.append(relative)
    if links:
        raise PlatformBackupError(
            "Sauvegarde altérée : lien symbolique refusé — " + ", ".join(sorted(links)[:10])
        )
    if extra:
        raise PlatformBackupError(
            f"Sauvegarde altérée : {len(extra)} fichier(s) absent du manifeste — "
            + ", ".join(sorted(extra)[:10])
        )


def _non_empty_reasons() -> list[str]:
    try:
        counts = facts()
    except Exception:  # noqa: BLE001 — no tables yet: a brand-new database is empty
        connection.close()
        counts = {}
    labels = {
        "users": "compte(s)",
        "organisations": "organisation(s)",
        "evidence_files": "fichier(s) de preuve",
        "declarations": "déclaration(s)",
    }
    reasons = [f"{n} {labels[k]}" for k, n in counts.items() if n]
    store = store_module.current()
    if next(iter(store.iter_names()), None) is not None:
        reasons.append(f"des objets dans le stockage des preuves ({store.describe()})")
    return reasons


def restore(source: Path, force: bool = False, progress: Progress = _quiet) -> dict[str, Any]:
    """Restore a platform backup into this (empty) installation; returns a report."""
    source = Path(source)
    manifest = check_archive(source, progress)
    reasons = _non_empty_reasons()
    if reasons and not force:
        raise PlatformBackupError(
            "L'installation cible n'est pas vide (" + ", ".join(reasons) + ") : restauration "
            "refusée. Restaurer dans une installation vide, ou ajouter --force pour remplacer "
            "son contenu."
        )
    warnings = []
    if manifest["encryption_key_fingerprint"] != key_fingerprint():
        warnings.append(
            "La clé de chiffrement configurée n'est pas celle de la sauvegarde : les secrets "
            "enregistrés (mots de passe de dépôts, clés S3, comptes AD) resteront illisibles tant "
            "que la clé d'origine n'est pas déclarée dans CAREOPS_ENCRYPTION_KEY."
        )
    database = manifest["database"]
    progress(f"base de données ({database['engine']})…")
    load_database(source / database["file"], database["engine"])
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command

    progress("migrations (une sauvegarde d'une version antérieure est mise à niveau)…")
    call_command("migrate", interactive=False, verbosity=0)
    ContentType.objects.clear_cache()
    store = store_module.current()
    progress(f"stockage des preuves ({store.describe()})…")
    restored = 0
    storage_root = source / "storage"
    for path in sorted(p for p in storage_root.rglob("*") if p.is_file()):
        name = path.relative_to(storage_root).as_posix()
        with path.open("rb") as handle:
            store.restore_object(name, File(handle, name=name))
        restored += 1
        if restored % 200 == 0:
            progress(f"  {restored} objet(s) restaurés")
    counts = facts()
    if counts != manifest["counts"]:
        warnings.append(f"Comptes différents de la sauvegarde : {counts} ≠ {manifest['counts']}")
    return {
        "created_at": manifest["created_at"],
        "engine": database["engine"],
        "objects": restored,
        "counts": counts,
        "warnings": warnings,
    }
