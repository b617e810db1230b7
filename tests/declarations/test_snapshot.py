"""A filed declaration cannot be changed by anyone: ORM save, queryset update, raw SQL, admin,
API; its hash proves it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from careops.declarations.models import (
    Declaration,
    DeclaredItem,
    ImmutableSnapshotError,
    content_hash,
)


@pytest.fixture
def declaration(declared):
    return declared.declaration


def test_snapshot_holds_statuses_evidence_hashes_and_attestation(declaration):
    snap = declaration.snapshot
    assert snap["attestation"]["representative_name"] == "Mme Claire Martin"
    assert "atteste sur l'honneur" in snap["attestation"]["text"]
    assert snap["filing_date"] == "2026-05-04"
    kinds = {e["kind"] for e in snap["evidence"]}
    assert kinds == {"pssi", "pca"}
    assert all(len(f["sha256"]) == 64 for e in snap["evidence"] for f in e["files"])
    assert declaration.content_sha256 == content_hash(snap)
    assert (
        DeclaredItem.objects.filter(declaration=declaration).count() == 3
    )  # groups are not stored


def test_orm_save_is_refused(declaration):
    declaration.representative_name = "Quelqu'un d'autre"
    with pytest.raises(ImmutableSnapshotError):
        declaration.save()
    item = declaration.items.first()
    item.status = "met"
    with pytest.raises(ImmutableSnapshotError):
        item.save()


def test_queryset_update_and_delete_are_refused(declaration):
    with pytest.raises(ImmutableSnapshotError):
        Declaration.objects.filter(pk=declaration.pk).update(snapshot={})
    with pytest.raises(ImmutableSnapshotError):
        Declaration.objects.filter(pk=declaration.pk).delete()
    with pytest.raises(ImmutableSnapshotError):
        declaration.delete()
    with pytest.raises(ImmutableSnapshotError):
        DeclaredItem.objects.all().update(status="met")


def test_the_database_itself_refuses_an_update(declaration):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE declarations_declaration SET representative_name = %s WHERE id = %s",
            ["Faussaire", declaration.pk],
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE declarations_declareditem SET status = 'met'")
    declaration.refresh_from_db()
    assert declaration.representative_name == "Mme Claire Martin" and declaration.verify()


def test_a_tampered_snapshot_fails_verification(declaration):
    declaration.snapshot["items"][0]["status"] = (
        "met" if declaration.snapshot["items"][0]["status"] != "met" else "not_met"
    )
    assert not declaration.verify()
