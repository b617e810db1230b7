import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from careops.compliance import services
from careops.compliance.models import Evidence, EvidenceFile, StatusChange
from careops.core.models import AuditEvent
from tests.compliance.conftest import pdf


def status_of(assessment, code):
    return assessment.statuses.get(item_code=code)


def add_pssi(user, org, day, **kwargs):
    return services.create_evidence(
        user,
        org,
        "pssi",
        f"PSSI {day}",
        services.RevisionInput(
            effective_date=day, validated_by="legal_representative", files=[pdf()], **kwargs
        ),
        item_codes=["D2.P1"],
    )


def test_opening_an_assessment_evaluates_every_item(assessment):
    codes = set(assessment.statuses.values_list("item_code", flat=True))
    assert {"D2.P1", "D2.O1.C", "D2.O3.A", "D2.O4"} <= codes
    assert status_of(assessment, "D2.P1").status == "missing_evidence"


def test_pssi_reviewed_too_early_is_not_met_with_the_dated_reason(org_tree, assessment):
    add_pssi(None, org_tree.ght, dt.date(2022, 7, 10))
    status = status_of(assessment, "D2.P1")
    assert status.status == "not_met"
    assert status.reasons == [
        "non atteint : la PSSI a été revue le 10/07/2022, avant le 16/07/2022"
    ]


def test_a_new_revision_changes_the_status_and_keeps_history(org_tree, assessment, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    evidence = add_pssi(rssi, org_tree.ght, dt.date(2022, 7, 10))
    services.add_revision(
        rssi,
        evidence,
        services.RevisionInput(
            effective_date=dt.date(2024, 3, 1), validated_by="legal_representative", files=[pdf()]
        ),
    )
    assert status_of(assessment, "D2.P1").status == "met"
    history = list(
        StatusChange.objects.filter(assessment=assessment, item_code="D2.P1").order_by("pk")
    )
    assert [(h.previous, h.status) for h in history] == [
        ("", "missing_evidence"),
        ("missing_evidence", "not_met"),
        ("not_met", "met"),
    ]
    assert evidence.revisions.count() == 2
    assert AuditEvent.objects.filter(action="evidence.revise", actor=rssi).exists()


def test_pssi_not_validated_by_the_legal_representative_is_not_met(org_tree, assessment):
    services.create_evidence(
        None,
        org_tree.ght,
        "pssi",
        "PSSI",
        services.RevisionInput(
            effective_date=dt.date(2024, 1, 5), validated_by="rssi", files=[pdf()]
        ),
    )
    assert status_of(assessment, "D2.P1").status != "met"


def test_file_is_stored_under_its_sha256(org_tree, assessment):
    import hashlib

    evidence = add_pssi(None, org_tree.ght, dt.date(2024, 1, 5))
    stored = EvidenceFile.objects.get(revision__evidence=evidence)
    expected = hashlib.sha256(b"%PDF-1.4\ncontenu").hexdigest()
    assert stored.sha256 == expected
    assert stored.size == len(b"%PDF-1.4\ncontenu")
    assert Path(stored.file.path).read_bytes() == b"%PDF-1.4\ncontenu"


@pytest.mark.parametrize(
    ("upload", "fragment"),
    [
        (
            SimpleUploadedFile("outil.exe", b"MZ\x90\x00", "application/octet-stream"),
            "type de fichier",
        ),
        (
            SimpleUploadedFile("faux.pdf", b"<html>pas un pdf</html>", "application/pdf"),
            "ne correspond pas",
        ),
        (SimpleUploadedFile("vide.pdf", b"", "application/pdf"), "est vide"),
        (SimpleUploadedFile("notes.txt", b"a\x00b", "text/plain"), "pas un fichier texte"),
    ],
)
def test_bad_upload_is_refused_in_french_and_nothing_is_saved(
    org_tree, assessment, upload, fragment
):
    media_before = (
        sorted(Path(settings.MEDIA_ROOT).rglob("*")) if Path(settings.MEDIA_ROOT).exists() else []
    )
    with pytest.raises(ValidationError) as caught:
        services.create_evidence(
            None,
            org_tree.ght,
            "pssi",
            "PSSI",
            services.RevisionInput(effective_date=dt.date(2024, 1, 5), files=[pdf(), upload]),
        )
    assert fragment in str(caught.value.message_dict["files"])
    assert not Evidence.objects.exists()
    media_after = (
        sorted(Path(settings.MEDIA_ROOT).rglob("*")) if Path(settings.MEDIA_ROOT).exists() else []
    )
    assert media_after == media_before


def test_oversized_upload_is_refused(org_tree, assessment, settings):
    settings.UPLOAD_MAX_BYTES = 100
    with pytest.raises(ValidationError) as caught:
        services.create_evidence(
            None,
            org_tree.ght,
            "pssi",
            "PSSI",
            services.RevisionInput(
                effective_date=dt.date(2024, 1, 5), files=[pdf(body=b"x" * 200)]
            ),
        )
    assert "taille maximale" in str(caught.value)
    assert not Evidence.objects.exists()


def test_expiry_before_effective_date_is_refused(org_tree, assessment):
    with pytest.raises(ValidationError) as caught:
        add_pssi(None, org_tree.ght, dt.date(2024, 1, 5), expires_on=dt.date(2023, 1, 1))
    assert "précède" in str(caught.value)


def test_reader_cannot_file_evidence(org_tree, assessment, make_user):
    with pytest.raises(PermissionDenied):
        add_pssi(make_user("reader", org_tree.ght), org_tree.ght, dt.date(2024, 1, 5))
    assert not Evidence.objects.exists()


def test_user_of_another_region_cannot_file_evidence(org_tree, assessment, make_user):
    with pytest.raises(PermissionDenied):
        add_pssi(make_user("es_rssi", org_tree.ej_other), org_tree.ght, dt.date(2024, 1, 5))


def test_evidence_on_a_site_covers_its_legal_entity_for_a_ght(org_tree, assessment):
    services.create_evidence(
        None,
        org_tree.eg_a1,
        "bia",
        "BIA site principal",
        services.RevisionInput(
            effective_date=dt.date(2025, 11, 3),
            attributes={"perimeters": ["care_service_major_impact"]},
            files=[pdf()],
        ),
    )
    dossier = services.build_dossier(assessment)
    bia = [e for e in dossier["evidence"] if e["kind"] == "bia"][0]
    assert bia["entities"] == [org_tree.ej_a.finess]
    weights = {e["finess"]: e["weight"] for e in dossier["entities"]}
    assert weights == {org_tree.ej_a.finess: 700.0, org_tree.ej_b.finess: 300.0}


def test_evidence_of_another_domain_is_ignored(org_tree, assessment):
    services.create_evidence(
        None,
        org_tree.ght,
        "kind_no_domain_knows",
        "Autre",
        services.RevisionInput(effective_date=dt.date(2025, 11, 3)),
    )
    kinds = {e["kind"] for e in services.build_dossier(assessment)["evidence"]}
    assert "kind_no_domain_knows" not in kinds


def test_filing_date_change_recomputes(org_tree, assessment, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    services.update_assessment(rssi, assessment, filing_date=dt.date(2026, 2, 1))
    assessment.refresh_from_db()
    assert assessment.filing_date == dt.date(2026, 2, 1)
    assert AuditEvent.objects.filter(action="assessment.update").exists()


def test_only_candidates_can_open_an_assessment(org_tree, d2):
    with pytest.raises(ValidationError):
        services.open_assessment(None, org_tree.eg_a1, d2)


def test_unknown_fact_is_refused_in_french_and_nothing_changes(org_tree, assessment, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    with pytest.raises(ValidationError) as caught:
        services.update_assessment(
            rssi, assessment, facts={"no_such_fact": True}, filing_date=dt.date(2026, 2, 1)
        )
    assert "no_such_fact" in " ".join(caught.value.messages)
    assessment.refresh_from_db()
    assert assessment.facts == {} and assessment.filing_date is None


def test_finess_with_spaces_is_normalised_before_validation(org_tree):
    from careops.tenancy import finess
    from careops.tenancy.models import Organisation

    number = finess.with_key("92000077")
    node = Organisation(
        parent=org_tree.ght, kind="ej", name="CH Espaces", finess=f"{number[:2]} {number[2:]}"
    )
    node.full_clean()
    node.save()
    assert node.finess == number
