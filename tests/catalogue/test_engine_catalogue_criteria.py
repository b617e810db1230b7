"""Each criterion type, evaluated on small in-memory domains: met, not met and boundaries."""

from __future__ import annotations

from typing import Any

import pytest

from careops.catalogue.engine import DomainVersion, Dossier, aggregate, evaluate

KINDS = {
    "pssi": {"label": "PSSI", "noun": "la PSSI", "date_verb": "revue"},
    "ads_audit": {"label": "audit ADS"},
    "exposure_audit": {"label": "audit d'exposition"},
    "bia": {"label": "BIA"},
    "restore_test": {"label": "test de restauration"},
    "consent": {"label": "indicateur de consentement"},
    "backup_2fa": {"label": "déclaration 2FA"},
    "plan": {"label": "trajectoire"},
    "note": {"label": "note"},
}


def make_domain(criteria: list[dict[str, Any]], **extra: Any) -> DomainVersion:
    data: dict[str, Any] = {
        "domain": "D2",
        "version": "1",
        "status": "published",
        "title": "Domaine de test",
        "events": {
            "operational_phase_start": {
                "date": "2025-07-16",
                "label": "le début de la phase opérationnelle",
            },
            "unknown_end": {"date": None, "label": "la fin inconnue", "to_confirm": True},
        },
        "evidence_kinds": KINDS,
        "facts": {"dedicated_backup_ad": {"label": "AD dédié"}},
        "roles": {"legal_representative": "le représentant légal", "rssi": "le RSSI"},
        "perimeters": {"care": "service de soins", "admin": "processus administratif"},
        "items": [
            {"id": "D2.P1", "kind": "prerequisite", "title": "Élément testé", "criteria": criteria}
        ],
    }
    data.update(extra)
    return DomainVersion.model_validate(data)


def make_dossier(evidence: list[dict[str, Any]], **fields: Any) -> Dossier:
    data: dict[str, Any] = {
        "domain": "D2",
        "candidate": {"name": "CH Test", "kind": "ej", "finess": "370000002"},
        "candidacy_date": "2025-10-31",
        "filing_date": "2026-03-16",
        "evidence": evidence,
    }
    data.update(fields)
    return Dossier.model_validate(data)


def run(criteria, evidence, domain_extra=None, **fields):
    domain = make_domain(
        criteria if isinstance(criteria, list) else [criteria], **(domain_extra or {})
    )
    result = evaluate(domain, make_dossier(evidence, **fields)).result("D2.P1")
    return result.status, result.reasons


PSSI = {
    "type": "document",
    "evidence_kind": "pssi",
    "validated_by": "legal_representative",
    "period": {"from": "2022-07-16", "to": "candidacy_date"},
}


def pssi(day: str, **more: Any) -> dict[str, Any]:
    return {"kind": "pssi", "date": day, "validated_by": "legal_representative", **more}


# --- document --------------------------------------------------------------------------------


def test_document_inside_window_is_met_with_french_reason():
    status, reasons = run(PSSI, [pssi("2024-03-12")])
    assert status == "met"
    assert reasons == [
        "atteint : la PSSI a été revue le 12/03/2024, entre le 16/07/2022 et la date de "
        "candidature (31/10/2025) ; validation par le représentant légal"
    ]


@pytest.mark.parametrize("day", ["2022-07-16", "2025-10-31"])
def test_document_window_bounds_are_inclusive(day):
    assert run(PSSI, [pssi(day)])[0] == "met"


def test_document_reviewed_before_window_is_not_met():
    status, reasons = run(PSSI, [pssi("2022-07-10")])
    assert status == "not_met"
    assert reasons == ["non atteint : la PSSI a été revue le 10/07/2022, avant le 16/07/2022"]


def test_document_after_candidacy_date_is_not_met():
    status, reasons = run(PSSI, [pssi("2025-11-01")])
    assert status == "not_met"
    assert "après la date de candidature (31/10/2025)" in reasons[0]


def test_document_validated_by_wrong_role_is_not_met():
    status, reasons = run(PSSI, [pssi("2024-01-01", validated_by="rssi")])
    assert status == "not_met"
    assert "sans validation par le représentant légal (validation déclarée : le RSSI)" in reasons[0]


def test_document_without_evidence_is_missing():
    status, reasons = run(PSSI, [])
    assert status == "missing_evidence"
    assert reasons == ["preuve manquante : aucune preuve « PSSI » dans le dossier"]


def test_document_any_good_revision_wins_over_a_bad_one():
    assert run(PSSI, [pssi("2022-01-01"), pssi("2023-05-05")])[0] == "met"


def test_document_needs_candidacy_date_when_bound_uses_it():
    status, reasons = run(PSSI, [pssi("2024-01-01")], candidacy_date=None)
    assert status == "missing_evidence"
    assert "la date de candidature n'est pas renseignée" in reasons[0]


def test_document_dated_after_filing_is_ignored():
    criterion = {"type": "document", "evidence_kind": "note"}
    status, reasons = run(criterion, [{"kind": "note", "date": "2026-03-17"}])
    assert status == "missing_evidence"
    assert "postérieures au 16/03/2026" in reasons[0]
    assert run(criterion, [{"kind": "note", "date": "2026-03-16"}])[0] == "met"


def test_document_expiry_checked_at_filing_date():
    criterion = {"type": "document", "evidence_kind": "note", "valid_at": "filing_date"}
    expired = {"kind": "note", "date": "2025-01-01", "expires": "2026-03-15"}
    still = {"kind": "note", "date": "2025-01-01", "expires": "2026-03-16"}
    status, reasons = run(criterion, [expired])
    assert status == "not_met"
    assert "a expiré le 15/03/2026" in reasons[0]
    assert run(criterion, [still])[0] == "met"


def test_document_required_attribute_false_is_not_met():
    criterion = {"type": "document", "evidence_kind": "note", "required_attributes": ["saas"]}
    assert (
        run(criterion, [{"kind": "note", "date": "2025-01-01", "attributes": {"saas": False}}])[0]
        == "not_met"
    )
    assert (
        run(criterion, [{"kind": "note", "date": "2025-01-01", "attributes": {"saas": True}}])[0]
        == "met"
    )


def test_document_unknown_event_date_is_missing_evidence():
    criterion = {
        "type": "document",
        "evidence_kind": "note",
        "period": {"from": "2025-01-01", "to": "unknown_end"},
    }
    status, reasons = run(criterion, [{"kind": "note", "date": "2025-06-01"}])
    assert status == "missing_evidence"
    assert "la fin inconnue" in reasons[0]


# --- audit_level -----------------------------------------------------------------------------

ADS = {
    "type": "audit_level",
    "evidence_kind": "ads_audit",
    "min_level": 3,
    "within_days": 60,
    "reference": "filing_date",
}


def test_audit_level_reason_names_level_and_age():
    status, reasons = run(
        ADS,
        [{"kind": "ads_audit", "date": "2026-03-02", "attributes": {"level": 3}}],
        filing_date="2026-04-16",
    )
    assert status == "met"
    assert reasons == [
        "atteint : audit ADS du 02/03/2026 au niveau 3 (≥ 3), 45 jours avant la date de dépôt "
        "(≤ 60)"
    ]


@pytest.mark.parametrize(("day", "expected"), [("2026-01-15", "met"), ("2026-01-14", "not_met")])
def test_audit_level_within_days_boundary(day, expected):
    # 16/03/2026 - 60 days = 15/01/2026
    evidence = [{"kind": "ads_audit", "date": day, "attributes": {"level": 4}}]
    status, reasons = run(ADS, evidence)
    assert status == expected
    if expected == "not_met":
        assert "61 jours avant la date de dépôt (> 60)" in reasons[0]


def test_audit_level_too_low_is_not_met():
    evidence = [{"kind": "ads_audit", "date": "2026-03-01", "attributes": {"level": 2}}]
    status, reasons = run(ADS, evidence)
    assert status == "not_met"
    assert "au niveau 2 (< 3 requis)" in reasons[0]


def test_audit_level_picks_a_good_audit_among_several():
    evidence = [
        {"kind": "ads_audit", "date": "2026-02-01", "attributes": {"level": 3}},
        {"kind": "ads_audit", "date": "2026-03-01", "attributes": {"level": 2}},
    ]
    assert run(ADS, evidence)[0] == "met"


# --- audit_series ----------------------------------------------------------------------------

SERIES = {
    "type": "audit_series",
    "evidence_kind": "exposure_audit",
    "count": 2,
    "min_gap_days": 45,
    "max_gap_days": 60,
    "required_flag": "ok",
}


def audit(day: str, ok: bool = True) -> dict[str, Any]:
    return {"kind": "exposure_audit", "date": day, "attributes": {"ok": ok}}


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ("2025-02-15", "met"),
        ("2025-03-02", "met"),
        ("2025-02-14", "not_met"),
        ("2025-03-03", "not_met"),
    ],
)
def test_audit_series_gap_boundaries(second, expected):
    # 01/01/2025 + 45 days = 15/02/2025 ; + 60 days = 02/03/2025
    assert run(SERIES, [audit("2025-01-01"), audit(second)])[0] == expected


def test_audit_series_allows_intermediate_audits():
    evidence = [audit("2025-01-01"), audit("2025-01-31"), audit("2025-02-20")]
    status, reasons = run(SERIES, evidence)
    assert status == "met"
    assert reasons == [
        "atteint : audit d'exposition du 01/01/2025 puis du 20/02/2025 avec « ok », écarts de "
        "50 jours (45 à 60 jours requis)"
    ]


def test_audit_series_requires_each_audit_at_level():
    status, reasons = run(SERIES, [audit("2025-01-01"), audit("2025-02-20", ok=False)])
    assert status == "not_met"
    assert "1 preuve(s) « audit d'exposition » avec « ok »" in reasons[0]


def test_audit_series_reports_observed_gaps():
    status, reasons = run(SERIES, [audit("2025-01-01"), audit("2025-01-31")])
    assert status == "not_met"
    assert "écarts constatés entre audits successifs : 30 jours" in reasons[0]


def test_audit_series_with_min_level_and_three_audits():
    criterion = {**SERIES, "count": 3, "required_flag": None, "min_level": 2}
    good = [
        {"kind": "exposure_audit", "date": day, "attributes": {"level": 2}}
        for day in ("2025-01-01", "2025-02-20", "2025-04-10")
    ]
    assert run(criterion, good)[0] == "met"
    assert run(criterion, good[:2])[0] == "not_met"


# --- coverage --------------------------------------------------------------------------------

COVER = {
    "type": "coverage",
    "evidence_kind": "bia",
    "threshold": 0.66,
    "required_perimeters": ["care", "admin"],
}
GHT = {"name": "GHT Test", "kind": "ght"}


def ej(finess: str, weight: float, name: str = "") -> dict[str, Any]:
    return {"finess": finess, "name": name or finess, "level": "EJ", "weight": weight}


def bia(*finess: str, perimeters=("care", "admin")) -> dict[str, Any]:
    return {
        "kind": "bia",
        "date": "2025-12-01",
        "entities": list(finess),
        "attributes": {"perimeters": list(perimeters)},
    }


ENTITIES = [ej("370000010", 66, "CHU"), ej("370000028", 34, "CH")]


def test_coverage_threshold_is_inclusive():
    status, reasons = run(COVER, [bia("370000010")], candidate=GHT, entities=ENTITIES)
    assert status == "met"
    assert reasons[0].startswith(
        "atteint : 66 % de l'activité combinée couverte par BIA (≥ 66 %), comptée par EJ : CHU"
    )


def test_coverage_just_below_threshold_is_not_met():
    entities = [ej("370000010", 65.9, "CHU"), ej("370000028", 34.1, "CH")]
    status, reasons = run(COVER, [bia("370000010")], candidate=GHT, entities=entities)
    assert status == "not_met"
    assert "non couverts : CH (34,1 %)" in reasons[0]


def test_coverage_unit_missing_a_perimeter_is_not_covered():
    evidence = [bia("370000010", perimeters=["care"])]
    status, reasons = run(COVER, evidence, candidate=GHT, entities=ENTITIES)
    assert status == "not_met"
    assert (
        "non atteint : CHU : périmètres non couverts par BIA : processus administratif" in reasons
    )


def test_coverage_declared_absent_perimeter_counts():
    evidence = [bia("370000010", perimeters=["care"])]
    evidence[0]["attributes"]["perimeters_absent"] = ["admin"]
    assert run(COVER, evidence, candidate=GHT, entities=ENTITIES)[0] == "met"


def test_coverage_counts_eg_for_non_ght_and_parent_tag_covers_sites():
    entities = [
        {"finess": "370000127", "name": "EJ", "level": "EJ", "weight": 100},
        {
            "finess": "370000101",
            "name": "Site A",
            "level": "EG",
            "weight": 70,
            "parent": "370000127",
        },
        {
            "finess": "370000119",
            "name": "Site B",
            "level": "EG",
            "weight": 30,
            "parent": "370000127",
        },
    ]
    status, reasons = run(COVER, [bia("370000101")], entities=entities)
    assert status == "met"
    assert "comptée par EG" in reasons[0]
    assert run(COVER, [bia("370000119")], entities=entities)[0] == "not_met"
    assert run(COVER, [bia("370000127")], entities=entities)[0] == "met"


def test_coverage_single_establishment_needs_no_tag():
    assert run(COVER, [bia()])[0] == "met"


def test_coverage_without_evidence_is_missing():
    assert run(COVER, [], candidate=GHT, entities=ENTITIES)[0] == "missing_evidence"


# --- event_in_period -------------------------------------------------------------------------

RESTORE = {
    "type": "event_in_period",
    "evidence_kind": "restore_test",
    "period": {"from": "operational_phase_start", "to": "filing_date"},
    "required_attributes": ["business_referent"],
}


def restore(day: str, referent: str | None = "cadre de santé") -> dict[str, Any]:
    return {"kind": "restore_test", "date": day, "attributes": {"business_referent": referent}}


def test_event_in_period_on_first_day_is_met():
    status, reasons = run(RESTORE, [restore("2025-07-16")])
    assert status == "met"
    assert (
        "entre le début de la phase opérationnelle (16/07/2025) et la date de dépôt" in reasons[0]
    )


def test_event_before_period_is_not_met():
    status, reasons = run(RESTORE, [restore("2025-07-15")])
    assert status == "not_met"
    assert reasons == [
        "non atteint : test de restauration du 15/07/2025, avant le début de la phase "
        "opérationnelle (16/07/2025)"
    ]


@pytest.mark.parametrize("referent", [None, "", "   "])
def test_event_without_required_attribute_is_not_met(referent):
    status, reasons = run(RESTORE, [restore("2025-12-01", referent)])
    assert status == "not_met"
    assert "sans « business_referent » renseigné(s)" in reasons[0]


# --- indicator -------------------------------------------------------------------------------

CONSENT = {
    "type": "indicator",
    "evidence_kind": "consent",
    "target": 0.75,
    "period": {"from": "2025-01-01", "to": "2025-12-31"},
}


def measure(day: str, top: float, bottom: float) -> dict[str, Any]:
    return {"kind": "consent", "date": day, "attributes": {"numerator": top, "denominator": bottom}}


@pytest.mark.parametrize(("top", "expected"), [(75, "met"), (74.9, "not_met"), (100, "met")])
def test_indicator_target_boundary(top, expected):
    assert run(CONSENT, [measure("2025-06-30", top, 100)])[0] == expected


def test_indicator_sums_measures_in_period_only():
    evidence = [
        measure("2025-03-31", 60, 100),
        measure("2025-06-30", 90, 100),
        measure("2024-12-31", 0, 1000),
    ]
    status, reasons = run(CONSENT, evidence)
    assert status == "met"
    assert "75 % (150 / 200)" in reasons[0]


def test_indicator_latest_aggregation_uses_last_measure():
    criterion = {**CONSENT, "aggregation": "latest"}
    evidence = [measure("2025-03-31", 90, 100), measure("2025-06-30", 50, 100)]
    assert run(criterion, evidence)[0] == "not_met"


def test_indicator_zero_denominator_is_not_met():
    assert run(CONSENT, [measure("2025-06-30", 0, 0)])[0] == "not_met"


def test_indicator_without_measure_in_period_is_missing():
    assert run(CONSENT, [measure("2024-06-30", 90, 100)])[0] == "missing_evidence"


# --- conditional -----------------------------------------------------------------------------

CONDITIONAL = {
    "type": "conditional",
    "when": {"fact": "dedicated_backup_ad", "equals": True},
    "criteria": [ADS],
}
GOOD_ADS = [{"kind": "ads_audit", "date": "2026-03-01", "attributes": {"level": 3}}]


def test_conditional_applies_nested_criteria_when_fact_holds():
    status, reasons = run(CONDITIONAL, GOOD_ADS, facts={"dedicated_backup_ad": True})
    assert status == "met"
    assert reasons[0] == "condition remplie : AD dédié = oui"
    status, _ = run(CONDITIONAL, [], facts={"dedicated_backup_ad": True})
    assert status == "missing_evidence"


def test_conditional_is_not_applicable_when_fact_does_not_hold():
    status, reasons = run(CONDITIONAL, [], facts={"dedicated_backup_ad": False})
    assert status == "not_applicable"
    assert reasons == ["sans objet : AD dédié = non"]


def test_conditional_without_fact_is_missing_evidence():
    status, reasons = run(CONDITIONAL, GOOD_ADS)
    assert status == "missing_evidence"
    assert "fait non renseigné" in reasons[0]


def test_conditional_otherwise_branch_and_candidate_kind():
    criterion = {
        "type": "conditional",
        "when": {"fact": "candidate_kind", "equals": "ght"},
        "criteria": [{"type": "document", "evidence_kind": "note"}],
        "otherwise": [{"type": "document", "evidence_kind": "pssi"}],
    }
    note = [{"kind": "note", "date": "2025-01-01"}]
    assert run(criterion, note, candidate=GHT)[0] == "met"
    assert run(criterion, note)[0] == "missing_evidence"


def test_not_applicable_criterion_does_not_block_the_others():
    criteria = [CONDITIONAL, {"type": "document", "evidence_kind": "note"}]
    status, _ = run(
        criteria, [{"kind": "note", "date": "2025-01-01"}], facts={"dedicated_backup_ad": False}
    )
    assert status == "met"


# --- attestation -----------------------------------------------------------------------------

TWO_FA = {
    "type": "attestation",
    "evidence_kind": "backup_2fa",
    "options": {
        "implemented": {"label": "2FA mise en œuvre", "required_attributes": ["proof"]},
        "supported_disabled": {"required_attributes": ["justification"]},
        "not_supported": {"required_attributes": ["product", "version"]},
    },
}


def declaration(**attributes: Any) -> list[dict[str, Any]]:
    return [{"kind": "backup_2fa", "date": "2026-01-10", "attributes": attributes}]


@pytest.mark.parametrize(
    "attributes",
    [
        {"status": "implemented", "proof": "captures"},
        {"status": "supported_disabled", "justification": "compte de service"},
        {"status": "not_supported", "product": "SauvegardePro", "version": "9.1"},
    ],
)
def test_attestation_each_branch_is_met_with_its_attributes(attributes):
    assert run(TWO_FA, declaration(**attributes))[0] == "met"


def test_attestation_branch_missing_its_attribute_is_not_met():
    status, reasons = run(TWO_FA, declaration(status="not_supported", product="SauvegardePro"))
    assert status == "not_met"
    assert "« version » manquant(s)" in reasons[0]


def test_attestation_unknown_option_is_not_met():
    status, reasons = run(TWO_FA, declaration(status="maybe"))
    assert status == "not_met"
    assert "option « maybe » non prévue" in reasons[0]


# --- trajectory ------------------------------------------------------------------------------

TRAJECTORY = {
    "type": "trajectory",
    "evidence_kind": "plan",
    "max_years": 3,
    "min_milestones": 2,
    "reached_attribute": "target_reached",
}


def plan(target: str | None, milestones: int = 2, **more: Any) -> list[dict[str, Any]]:
    attributes = {
        "target_date": target,
        "milestones": [{"date": "2026-12-31", "label": f"jalon {n}"} for n in range(milestones)],
        **more,
    }
    return [{"kind": "plan", "date": "2026-01-15", "attributes": attributes}]


def test_trajectory_strictly_less_than_three_years():
    assert run(TRAJECTORY, plan("2029-03-15"))[0] == "met"
    status, reasons = run(TRAJECTORY, plan("2029-03-16"))
    assert status == "not_met"
    assert "au-delà de 3 ans après la date de dépôt (limite < 16/03/2029)" in reasons[0]


def test_trajectory_non_strict_includes_the_limit():
    assert run({**TRAJECTORY, "strict": False}, plan("2029-03-16"))[0] == "met"


def test_trajectory_needs_enough_milestones():
    status, reasons = run(TRAJECTORY, plan("2027-01-01", milestones=1))
    assert status == "not_met"
    assert "1 jalon(s), 2 attendu(s)" in reasons[0]


def test_trajectory_already_reached_target_is_met():
    assert run(TRAJECTORY, plan(None, milestones=0, target_reached=True))[0] == "met"


def test_trajectory_from_29_february():
    status, _ = run(TRAJECTORY, plan("2031-02-27"), filing_date="2028-02-29")
    assert status == "met"
    assert run(TRAJECTORY, plan("2031-02-28"), filing_date="2028-02-29")[0] == "not_met"


# --- aggregation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "not_applicable"),
        (["not_applicable"], "not_applicable"),
        (["met", "met"], "met"),
        (["met", "not_applicable"], "met"),
        (["met", "not_met"], "partial"),
        (["met", "missing_evidence"], "partial"),
        (["partial", "not_met"], "partial"),
        (["not_met", "missing_evidence"], "not_met"),
        (["missing_evidence", "missing_evidence"], "missing_evidence"),
    ],
)
def test_aggregate_rule(statuses, expected):
    assert aggregate(statuses) == expected


def test_item_to_confirm_without_criteria_is_missing_evidence():
    domain = make_domain(
        [],
        items=[
            {
                "id": "D2.P1",
                "kind": "prerequisite",
                "title": "À venir",
                "to_confirm": True,
                "open_question": "seuil non publié",
            }
        ],
    )
    result = evaluate(domain, make_dossier([])).result("D2.P1")
    assert result.status == "missing_evidence"
    assert result.reasons == ["règle à confirmer : seuil non publié"]


def test_group_status_derives_from_children():
    items = [
        {"id": "D2.O1", "kind": "group", "title": "Groupe"},
        {
            "id": "D2.O1.A",
            "kind": "objective",
            "parent": "D2.O1",
            "title": "A",
            "criteria": [{"type": "document", "evidence_kind": "note"}],
        },
        {
            "id": "D2.O1.B",
            "kind": "objective",
            "parent": "D2.O1",
            "title": "B",
            "criteria": [{"type": "document", "evidence_kind": "pssi"}],
        },
    ]
    domain = make_domain([], items=items)
    evaluation = evaluate(domain, make_dossier([{"kind": "note", "date": "2025-01-01"}]))
    assert evaluation.result("D2.O1.A").status == "met"
    assert evaluation.result("D2.O1.B").status == "missing_evidence"
    assert evaluation.result("D2.O1").status == "partial"
    assert evaluation.result("d2.o1").reasons == [
        "déduit des éléments : D2.O1.A atteint, D2.O1.B preuve manquante"
    ]
