"""Loading the referential into the database: the only writer of the catalogue tables."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from careops.catalogue import bridge
from careops.catalogue.engine import loader
from careops.catalogue.engine.schema import DomainVersion
from careops.catalogue.models import Item, ReferentialVersion
from careops.core import audit

logger = logging.getLogger("careops.catalogue")


@dataclass(frozen=True)
class LoadReport:
    """What a load did: versions created, and versions already present unchanged."""

    created: list[str]
    unchanged: list[str]


class LoadRefused(Exception):
    """The files are invalid or conflict with what is loaded; ``problems`` says why, in French."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _store(domain: DomainVersion, path: Path, digest: str, actor) -> ReferentialVersion:
    data = loader.dump_domain(domain)
    version = ReferentialVersion.objects.create(
        domain=domain.domain,
        version=domain.version,
        status=domain.status,
        title=domain.title,
        description=domain.description,
        source_file=path.name,
        sha256=digest,
        data=data,
        loaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    labels = data.get("evidence_kinds", {})
    Item.objects.bulk_create(
        Item(
            version=version,
            code=item["id"],
            parent_code=item.get("parent") or "",
            kind=item["kind"],
            title=item["title"],
            description=item.get("description", ""),
            to_confirm=item.get("to_confirm", False),
            position=position,
            data={**item, "evidence_kinds": bridge.item_evidence_kinds(item, labels)},
        )
        for position, item in enumerate(data.get("items", []))
    )
    return version


def _mark_current(domain_code: str) -> None:
    """The current version of a domain: the newest published one, else the newest draft."""
    versions = list(ReferentialVersion.objects.filter(domain=domain_code))
    if not versions:
        return
    from careops.catalogue.engine.schema import version_key

    published = [v for v in versions if v.status == "published"] or versions
    current = max(published, key=lambda v: version_key(v.version))
    ReferentialVersion.objects.filter(domain=domain_code).exclude(pk=current.pk).update(
        is_current=False
    )
    ReferentialVersion.objects.filter(pk=current.pk).update(is_current=True)


def load_paths(paths: list[Path], actor=None) -> LoadReport:
    """Validate then load referential files; all or nothing.

    A (domain, version) already loaded with the same content is left as it is; with different
    content the load is refused: a changed rule needs a new version number, so that the
    assessments made on the old version keep the rules they were made with.
    """
    problems = loader.validate(paths)
    if problems:
        raise LoadRefused([str(p) for p in problems])
    created, unchanged, refused = [], [], []
    pending: list[tuple[DomainVersion, Path, str]] = []
    for path in loader._expand(paths):
        if path.name == loader.PROGRAMME_FILE:
            continue
        model = loader.load_file(path)
        if not isinstance(model, DomainVersion):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        existing = ReferentialVersion.objects.filter(
            domain=model.domain, version=model.version
        ).first()
        label = f"{model.domain} v{model.version}"
        if existing is None:
            pending.append((model, path, digest))
        elif existing.sha256 == digest:
            unchanged.append(label)
        else:
            refused.append(
                f"{path.name} : {label} est déjà chargée avec un autre contenu ; "
                "changez le numéro de version pour publier une modification."
            )
    if refused:
        raise LoadRefused(refused)
    with transaction.atomic():
        for model, path, digest in pending:
            version = _store(model, path, digest, actor)
            created.append(f"{model.domain} v{model.version}")
            audit.record(actor, "referential.load", version, None, f"{version} chargée")
        for domain_code in {m.domain for m, _, _ in pending}:
            _mark_current(domain_code)
    logger.info("referential loaded: created %s, unchanged %s", created, unchanged)
    return LoadReport(created, unchanged)


def load_default(actor=None) -> LoadReport:
    """Load the referential shipped with careops."""
    return load_paths([loader.default_directory()], actor)
