"""/api/referential/: the loaded referential versions and their items.

The referential is public programme data, the same for every tenant: any authenticated user
may read it, and it has no ``tenant_path`` for the restriction helper to follow.
"""

import datetime as dt

from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import paginate

from careops.catalogue.models import ReferentialVersion
from careops.core.api import NOT_FOUND, READ_ERRORS

router = Router(tags=["référentiel"])


class VersionOut(Schema):
    id: int
    domain: str
    version: str
    status: str
    title: str
    description: str
    is_current: bool
    sha256: str
    loaded_at: dt.datetime


class ItemOut(Schema):
    code: str
    kind: str
    title: str
    to_confirm: bool
    parent_code: str


class VersionDetailOut(VersionOut):
    items: list[ItemOut]
    # the evidence kinds this version knows, key → label (what POST /api/evidence accepts)
    evidence_kinds: dict[str, str]

    @staticmethod
    def resolve_items(obj: ReferentialVersion):
        return obj.items.order_by("position", "pk")

    @staticmethod
    def resolve_evidence_kinds(obj: ReferentialVersion):
        from careops.catalogue import bridge

        return bridge.kind_label_map(obj)


class VersionFilter(Schema):
    domain: str | None = None
    current: bool | None = None


@router.get("/versions", response=list[VersionOut])
@paginate
def list_versions(request, filters: Query[VersionFilter]):
    """The loaded referential versions, by domain, newest first; filter by domain or current."""
    queryset = ReferentialVersion.objects.all()
    if filters.domain:
        queryset = queryset.filter(domain=filters.domain.strip().upper())
    if filters.current is not None:
        queryset = queryset.filter(is_current=filters.current)
    return queryset.order_by("domain", "-loaded_at", "-pk")


@router.get("/versions/{version_id}", response={200: VersionDetailOut, **READ_ERRORS})
def get_version(request, version_id: int):
    """One referential version with its items (prerequisites, objectives, groups) in order."""
    version = ReferentialVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise HttpError(404, NOT_FOUND)
    return version
