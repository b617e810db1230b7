"""Rules of the programme texts the referential 1.1 encodes (issue 13). Each test quotes its
rule and source (IDs of programme.yaml) and checks the day it applies and the day it does not,
with the shipped referential and the evaluator, as ``careops evaluate`` runs them."""

from __future__ import annotations

from typing import Any

import pytest

from careops.catalogue.engine import evaluate, load_referential, parse_dossier
from careops.catalogue.engine.report import text_lines


@pytest.fixture(scope="module")
def referential():
    return load_referential()


def run(domain, **dossier: Any):
    data = {"candidate": {"name": "CH Test", "kind": "ej"}, **dossier}
    data["domain"] = domain.domain
    return evaluate(domain, parse_dossier(data))


def criterion(evaluation, item_id: str, label_start: str):
    result = evaluation.result(item_id)
    for found in result.criteria:
        if (found.label or "").startswith(label_start):
            return found
    raise AssertionError(f"{item_id}: no criterion labelled {label_start!r}")


# --- 13.1 D1: the ADS audit is mandatory for any D1 funding ------------------------------------


def test_d1_without_a_complete_ads_audit_the_funding_share_is_0(referential):
    """S14 (FAQ ANS, H): « l'audit AD est obligatoire » to receive D1 funding, even when the DPI
    does not authenticate against the AD. D1.O1.A is ``mandatory_for_funding``; an audit is
    complete when it gives a level; it counts from the operational phase start (21/05/2024)."""
    d1 = referential.domain("D1")
    assert d1.version == "1.1" and d1.item("D1.O1.A").mandatory_for_funding
    assert "S14" in d1.item("D1.O1.A").sources
    base = {
        "filing_date": "2025-06-20",
        "evidence": [
            {
                "kind": "exposure_audit",
                "date": "2025-02-03",
                "attributes": {"minimum_level_met": True},
            },
            {
                "kind": "exposure_audit",
                "date": "2025-03-20",
                "attributes": {"minimum_level_met": True},
            },
        ],
    }

    def with_audit(day: str, attributes: dict) -> Any:
        audit = {"kind": "ads_audit", "date": day, "attributes": attributes}
        return run(d1, **{**base, "evidence": [*base["evidence"], audit]})

    applies = with_audit("2024-05-21", {"level": 2})  # first day of the phase, level computed
    assert applies.result("D1.O1.A").status == "met"
    assert applies.progress.funding_share > 0 and applies.progress.funding_reasons == []
    for day, attributes in (("2024-05-20", {"level": 2}), ("2024-05-21", {})):
        refused = with_audit(day, attributes)  # the day before the phase, or no level: incomplete
        assert refused.result("D1.O1.A").status == "not_met"
        assert refused.progress.funding_share == 0
        (reason,) = refused.progress.funding_reasons
        assert "D1.O1.A" in reason and "obligatoire pour percevoir tout financement" in reason
        assert "(source S14" in reason
        text = "\n".join(text_lines(refused))
        assert "Part de financement indicative : 0%" in text and f"part nulle : {reason}" in text
    # the same objectives met on a dossier without any ADS audit: still nothing due
    assert run(d1, **base).progress.funding_share == 0


# --- 13.2 HospiConnect 2027: DMP access mode is a choice ---------------------------------------


def test_hc_2027_dmp_access_is_air_simplifie_or_api_pro_sante_connect(referential):
    """S3 (M), HospiConnect 2027 objective 1.4: doctors and nurses reach the DMP from the DPI
    « via AIR simplifié ou API PSC »; any other access mode is not met. Evidence counts up to
    31/12/2027."""
    hc = referential.domain("HOSPICONNECT")

    def status(day: str, mode: str, as_of: str = "2027-12-31") -> str:
        evaluation = run(
            hc,
            as_of=as_of,
            evidence=[
                {"kind": "dmp_integration", "date": day, "attributes": {"access_mode": mode}}
            ],
        )
        return evaluation.result("HC.2027.1.4").status

    assert status("2027-12-31", "air_simplifie") == "met"
    assert status("2027-06-01", "api_pro_sante_connect") == "met"
    assert status("2027-12-31", "lien web vers le DMP") == "partial"  # document yes, mode no
    mode = criterion(
        run(
            hc,
            as_of="2027-12-31",
            evidence=[
                {
                    "kind": "dmp_integration",
                    "date": "2027-12-31",
                    "attributes": {"access_mode": "x"},
                }
            ],
        ),
        "HC.2027.1.4",
        "Mode d'accès",
    )
    assert mode.status == "not_met" and "option « x » non prévue" in mode.reasons[0]
    assert status("2028-01-01", "air_simplifie", as_of="2028-01-01") == "partial"  # too late


# --- 13.3 HospiConnect 2028: degraded modes described ------------------------------------------


def test_hc_2028_2fa_degraded_modes_must_be_described(referential):
    """S3 (M), HospiConnect 2028 objective 1.3: « all DPI users use a 2FA MIE in nominal mode;
    degraded modes described ». The ``degraded_modes`` attribute is now required."""
    hc = referential.domain("HOSPICONNECT")
    coverage = {
        "kind": "mfa_coverage",
        "date": "2028-06-30",
        "attributes": {"numerator": 500, "denominator": 500},
    }

    def status(day: str, attributes: dict, as_of: str = "2028-12-31") -> str:
        deployment = {"kind": "mfa_deployment", "date": day, "attributes": attributes}
        return run(hc, as_of=as_of, evidence=[coverage, deployment]).result("HC.2028.1.3").status

    described = {"degraded_modes": "carte CPS de secours, codes à usage unique en salle de crise"}
    assert status("2028-12-31", described) == "met"
    assert status("2028-12-31", {}) == "partial"
    assert status("2029-01-01", described, as_of="2029-01-01") == "partial"  # after the year


# --- 13.4 HospiConnect: automatic yearly review (2028), maturity indicators updated --------------


def test_hc_2028_account_review_is_automatic(referential):
    """S3 (M), HospiConnect 2028 objective 1.2: accounts reviewed « automatically, at least
    yearly »; a manual review in 2028 or an automatic one in 2027 does not count."""
    hc = referential.domain("HOSPICONNECT")

    def review(day: str, automatic: bool) -> str:
        evaluation = run(
            hc,
            as_of="2028-12-31",
            evidence=[
                {
                    "kind": "access_review",
                    "date": day,
                    "attributes": {"automatic_review": automatic},
                }
            ],
        )
        return criterion(evaluation, "HC.2028.1.2", "Revue automatique").status

    assert review("2028-01-01", True) == "met"
    assert review("2028-01-01", False) == "not_met"
    assert review("2027-12-31", True) == "not_met"


@pytest.mark.parametrize("year", [2027, 2028])
def test_hc_pgssis_includes_updated_maturity_indicators(referential, year):
    """S3 (M), HospiConnect 2027 and 2028 objective 1.0 (PGSSI-S): « maturity indicators
    updated » is part of the target: a maturity questionnaire filled during that year."""
    hc = referential.domain("HOSPICONNECT")
    item_id = f"HC.{year}.1.0"
    pv = {
        "kind": "pgssis_compliance",
        "date": f"{year}-03-01",
        "attributes": {"pssi_updated_with_rie": True, "without_reservations": True},
    }

    def status(day: str) -> str:
        questionnaire = {"kind": "maturity_questionnaire", "date": day}
        return run(hc, as_of=f"{year}-12-31", evidence=[pv, questionnaire]).result(item_id).status

    assert status(f"{year}-01-01") == "met"
    assert status(f"{year - 1}-12-31") == "partial"


# --- 13.5 D2.O4: the test scope, on an IS of a D2.O1.C activity -----------------------------------


def test_d2_o4_restore_test_scope_relates_to_a_bia_activity(referential):
    """S1/S2 (M), D2.O4: « at least one technical test … during the operational phase, on an
    IS that supports an O1.C activity »; evidence: the « test scope document ». The scope is
    required; where the dossier has a BIA listing its critical activities, the test must name
    one of them."""
    d2 = referential.domain("D2")
    bia = {
        "kind": "bia",
        "date": "2025-12-01",
        "objective": "D2.O1.C",
        "attributes": {"critical_activities": ["URG", "PAIE"]},
    }

    def status(day: str, attributes: dict, evidence: tuple = (bia,)) -> str:
        test = {"kind": "restore_test", "date": day, "attributes": attributes}
        return run(d2, filing_date="2026-03-16", evidence=[*evidence, test]).result("D2.O4").status

    full = {
        "business_referent": "cadre de santé des urgences",
        "scope": "DPI",
        "activities": ["urg"],
    }
    assert status("2025-07-16", full) == "met"  # first day of the operational phase
    assert status("2025-07-15", full) == "not_met"
    assert status("2025-07-16", {**full, "scope": ""}) == "partial"  # scope missing
    assert status("2025-07-16", {**full, "activities": ["LABO"]}) == "partial"  # not a BIA one
    # no BIA in the dossier: the link cannot be checked, and the reason says so
    evaluation = run(
        d2,
        filing_date="2026-03-16",
        evidence=[{"kind": "restore_test", "date": "2025-07-16", "attributes": full}],
    )
    assert evaluation.result("D2.O4").status == "met"
    assert any("rattachement non vérifié" in r for r in evaluation.result("D2.O4").reasons)


# --- 13.6 D2.O1.D: the other PCA tests are planned -----------------------------------------------


def test_d2_o1_d_requires_the_plan_of_the_other_pca_tests(referential):
    """S1 (M), D2.O1.D: « test a PCA in a field exercise and plan the other PCA tests »: the
    schedule of the other tests is required evidence (dated no later than the filing date)."""
    d2 = referential.domain("D2")

    def plan(day: str | None) -> str:
        evidence = [{"kind": "pca_test_plan", "date": day}] if day else []
        evaluation = run(d2, filing_date="2026-03-16", evidence=evidence)
        return criterion(evaluation, "D2.O1.D", "Planification").status

    assert plan("2026-03-16") == "met"
    assert plan("2026-03-17") == "missing_evidence"  # after the filing date: ignored
    assert plan(None) == "missing_evidence"


# --- 13.7 D2.O1.C: critical activities listed; an absent perimeter justified --------------------


def test_d2_o1_c_needs_critical_activities_and_reasons_for_absent_perimeters(referential):
    """S2 (M), D2.O1.C evidence: « the list of critical activities per establishment; the
    reason if a BIA is missing »: a BIA counts only with its list of critical activities, and
    a minimum perimeter declared absent only with its reason."""
    d2 = referential.domain("D2")

    def status(attributes: dict, day: str = "2026-03-16") -> Any:
        bia = {"kind": "bia", "date": day, "attributes": attributes}
        evaluation = run(d2, filing_date="2026-03-16", evidence=[bia])
        return criterion(evaluation, "D2.O1.C", "BIA avec la liste")

    complete = {
        "perimeters": ["care_service_major_impact", "critical_admin_process"],
        "perimeters_absent": ["technical_platform"],
        "absence_reasons": {"technical_platform": "aucun plateau technique sur site"},
        "critical_activities": ["URG", "PAIE"],
    }
    assert status(complete).status == "met"
    assert status(complete, day="2026-03-17").status == "missing_evidence"
    unexplained = status({**complete, "absence_reasons": {}})
    assert unexplained.status == "not_met"
    assert "déclaré(s) absent(s) sans justification : plateau technique" in unexplained.reasons[0]
    unlisted = status({**complete, "critical_activities": []})
    assert unlisted.status == "not_met" and "liste des activités critiques" in unlisted.reasons[0]


# --- 13.8 D2.O2.A: a validated policy, role to confirm ------------------------------------------


def test_d2_o2_a_policy_must_be_validated_role_to_confirm(referential):
    """S1 (M), D2.O2.A: « a validated policy … updated between 16/07/2022 and the declaration
    filing date »; the validating role is not published: any declared validation counts, and
    the reason says the role is to be confirmed."""
    d2 = referential.domain("D2")

    def result(day: str, validated_by: str | None) -> Any:
        policy = {
            "kind": "backup_policy",
            "date": day,
            "validated_by": validated_by,
            "attributes": {"covers_outsourced_and_saas": True},
        }
        return run(d2, filing_date="2026-03-16", evidence=[policy]).result("D2.O2.A")

    met = result("2022-07-16", "management_body")
    assert met.status == "met" and met.to_confirm
    assert met.reasons[-1].startswith(
        "règle à confirmer : le texte exige une politique « validée »"
    )
    assert "rôle validant à confirmer" in met.reasons[-1]
    assert result("2022-07-15", "management_body").status == "not_met"
    unvalidated = result("2022-07-16", None)
    assert unvalidated.status == "not_met" and "sans validation déclarée" in unvalidated.reasons[0]


# --- 13.9 D2.O3.B: the start of the 3-year horizon is to be confirmed ----------------------------


def test_d2_o3_b_three_years_from_the_filing_date_to_confirm(referential):
    """S1/S2 (M), D2.O3.B: « if the target is not reached, a schedule to reach it in < 3
    years »; the starting date is not published: careops assumes the filing date, and says it."""
    d2 = referential.domain("D2")

    def result(target: str) -> Any:
        plan = {
            "kind": "backup_isolation_plan",
            "date": "2026-01-15",
            "attributes": {"target_date": target, "milestones": [{"date": "2026-09-30"}]},
        }
        return run(d2, filing_date="2026-03-16", evidence=[plan]).result("D2.O3.B")

    inside = result("2029-03-15")
    assert inside.to_confirm
    assert any("cible au 15/03/2029" in r and r.startswith("atteint") for r in inside.reasons)
    assert "careops compte 3 ans à partir de la date de dépôt" in inside.reasons[-1]
    assert any("limite < 16/03/2029" in r for r in result("2029-03-16").reasons)


# --- 13.11 Eligibility in evaluate --------------------------------------------------------------


def test_evaluate_says_non_eligible_with_the_rule_before_any_status(referential):
    """PP (H), D1 bis: eligible are the GHT des Îles du Nord and structures of FINESS category
    146; « les structures mixtes … ne peuvent pas candidater »; no catch-up. The dossier gives
    each entity's FINESS category; the rules are the app's (careops.catalogue.engine
    .eligibility)."""
    d1bis = referential.domain("D1BIS")

    def dialysis(*categories: str, kind: str = "ej", name: str = "AURA Dialyse") -> Any:
        entities = [
            {"finess": finess, "level": "EG", "weight": 1, "finess_category": category}
            for finess, category in zip(["930000013", "930000021"], categories, strict=False)
        ]
        return run(
            d1bis,
            candidate={"name": name, "kind": kind},
            as_of="2026-03-02",
            entities=entities,
        )

    eligible = dialysis("146")
    assert eligible.eligibility["eligible"] is True
    assert "structures de catégorie FINESS 146" in eligible.eligibility["checks"]
    mixed = dialysis("146", "365")
    assert mixed.eligibility["eligible"] is False and mixed.progress.funding_share == 0
    assert any("structure mixte" in r and "365" in r for r in mixed.eligibility["reasons"])
    lines = text_lines(mixed)
    first_status = next(i for i, line in enumerate(lines) if line.startswith("D1BIS."))
    verdict = next(i for i, line in enumerate(lines) if "NON ÉLIGIBLE" in line)
    assert verdict < first_status and "« non éligible »" in lines[verdict]
    assert any("structure mixte" in line for line in lines[verdict:first_status])
    assert dialysis(kind="ght", name="GHT des Îles du Nord").eligibility["eligible"] is True
    refused = dialysis(kind="ght", name="GHT Exemple Littoral").eligibility
    assert refused["eligible"] is False and any(
        "Pas de rattrapage" in r for r in refused["reasons"]
    )


def test_eligibility_legal_status_and_ght_membership(referential):
    """S9 (H, implied) and S4 (H): D1 and D2 candidates are GHTs (public ES apply through their
    GHT), public ES outside a GHT, private non-profit and for-profit ES; a medico-social
    structure is not among them."""
    d2 = referential.domain("D2")

    def check(**candidate: Any) -> dict:
        data = {"name": "CH Test", "kind": "ej", **candidate}
        return run(d2, candidate=data, as_of="2026-02-01").eligibility

    assert check(legal_status="public")["eligible"] is True
    assert check(legal_status="private_forprofit")["eligible"] is True
    medico = check(legal_status="medico_social")
    assert medico["eligible"] is False and "statut juridique non admis" in medico["reasons"][0]
    member = check(legal_status="public", ght="GHT Val-de-Seine")
    assert member["eligible"] is False and "c'est le GHT qui candidate" in member["reasons"][0]
    esms = check(kind="esms", name="EHPAD Test")
    assert esms["eligible"] is False
    assert "n'est pas un type de candidat admis au domaine D2" in esms["reasons"][0]
    unknown = check()
    assert unknown["eligible"] is True
    assert any("statut juridique non renseigné" in note for note in unknown["notes"])
