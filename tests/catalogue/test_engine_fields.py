"""Form fields generated from the shipped referential (no Django): facts and, per evidence kind,
the attributes its criteria read, typed; which kinds need a file; reasons said once."""

from __future__ import annotations

import pytest

from careops.catalogue.engine import loader
from careops.catalogue.engine.dossier import parse_dossier
from careops.catalogue.engine.evaluate import evaluate
from careops.catalogue.engine.fields import attribute_fields, fact_fields, file_required


@pytest.fixture(scope="module")
def d2():
    return loader.load_referential().domain("D2")


def by_name(specs):
    return {spec.name: spec for spec in specs}


def test_facts_become_typed_fields_with_their_french_label(d2):
    facts = by_name(fact_fields(d2))
    assert facts["dedicated_backup_ad"].type == "bool"
    assert facts["dedicated_backup_ad"].label == "AD dédié à l'administration de la sauvegarde"


def test_attestation_is_a_choice_of_its_options_with_their_attributes(d2):
    fields = by_name(attribute_fields(d2, "backup_2fa"))
    status = fields["status"]
    assert status.type == "choice"
    assert ("implemented", "2FA mise en œuvre") in status.choices
    assert {"proof", "justification", "product", "version"} <= set(fields)
    assert fields["product"].label == "produit"


def test_trajectory_target_is_a_date_milestones_are_lines_reached_is_a_checkbox(d2):
    fields = by_name(attribute_fields(d2, "backup_321_plan"))
    assert fields["target_date"].type == "date"
    assert fields["target_date"].label == "date cible"
    assert fields["milestones"].type == "lines"
    assert fields["target_reached"].type == "bool"


def test_declared_type_wins_over_the_inferred_one(d2):
    fields = by_name(attribute_fields(d2, "backup_policy"))
    assert fields["covers_outsourced_and_saas"].type == "bool"
    assert fields["covers_outsourced_and_saas"].help


def test_audit_level_is_a_number_and_coverage_offers_the_perimeters(d2):
    assert by_name(attribute_fields(d2, "ads_audit"))["level"].type == "number"
    bia = by_name(attribute_fields(d2, "bia"))
    assert bia["perimeters"].type == "choices"
    assert "technical_platform" in dict(bia["perimeters"].choices)


def test_a_document_needs_a_file_a_declaration_does_not(d2):
    assert file_required(d2, "pssi")
    assert file_required(d2, "restore_test")
    assert not file_required(d2, "backup_2fa")
    assert not file_required(d2, "backup_321_plan")


def test_one_missing_evidence_is_said_once(d2):
    dossier = parse_dossier(
        {
            "domain": "D2",
            "candidate": {"kind": "ej", "name": "CH", "finess": "920000015"},
            "as_of": "2026-01-15",
            "candidacy_date": "2025-10-20",
        }
    )
    for result in evaluate(d2, dossier).results:
        assert len(result.reasons) == len(set(result.reasons)), (result.id, result.reasons)
        assert all(not r.endswith(": ") for r in result.reasons), (result.id, result.reasons)
