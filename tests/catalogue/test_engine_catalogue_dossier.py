"""Dossiers: loading with French located errors, refusal of unknown references, and the
evaluation of the shipped example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from careops.catalogue.engine import (
    Candidate,
    Dossier,
    DossierError,
    Evidence,
    evaluate,
    load_dossier,
    load_referential,
    parse_dossier,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(scope="module")
def referential():
    return load_referential()


@pytest.fixture(scope="module")
def d2(referential):
    return referential.domain("D2")


def example(name: str) -> Dossier:
    return load_dossier(EXAMPLES / name)


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def test_example_dossier_fails_only_on_pssi_date(d2):
    evaluation = evaluate(d2, example("d2-chu-exemple.yaml"))
    statuses = {result.id: result.status for result in evaluation.results}
    assert statuses.pop("D2.P1") == "not_met"
    assert set(statuses.values()) == {"met"}
    assert evaluation.result("D2.P1").reasons == [
        "non atteint : la PSSI a été revue le 10/07/2022, avant le 16/07/2022"
    ]
    assert evaluation.result("D2.O3.A").reasons[-1] == (
        "atteint : audit ADS du 30/01/2026 au niveau 3 (≥ 3), 45 jours avant la date de dépôt (≤ 60)"
    )
    assert evaluation.progress.met == 12 and evaluation.progress.applicable == 13
    assert evaluation.progress.funding_share == 0.0  # a prerequisite is not met


def test_to_json_shape_and_determinism(d2):
    first = evaluate(d2, example("d2-chu-exemple.yaml")).to_json()
    second = evaluate(d2, example("d2-chu-exemple.yaml")).to_json()
    assert first == second
    assert json.dumps(first, ensure_ascii=False)
    assert {"domain", "version", "candidate", "results", "progress"} <= set(first)
    assert first["domain"] == "D2" and first["version"] == "1.1"
    assert first["eligibility"]["eligible"] is True
    assert first["candidate"]["name"] == "GHT Exemple Val-de-Loire"
    assert {"id", "status", "reasons"} <= set(first["results"][0])


@pytest.mark.parametrize(
    "name", sorted(path.name for path in EXAMPLES.iterdir() if path.suffix in {".yaml", ".json"})
)
def test_every_shipped_example_evaluates(referential, name):
    dossier = example(name)
    evaluation = evaluate(referential.domain(dossier.domain, dossier.version), dossier)
    assert evaluation.results
    assert all(result.reasons for result in evaluation.results)


def test_unknown_objective_is_a_french_error_naming_it(tmp_path, d2):
    source = (EXAMPLES / "d2-chu-exemple.yaml").read_text(encoding="utf-8")
    path = tmp_path / "dossier.yaml"
    path.write_text(source.replace("objective: D2.O4", "objective: D2.O9.Z"), encoding="utf-8")
    dossier = load_dossier(path)
    with pytest.raises(DossierError) as raised:
        evaluate(d2, dossier)
    (problem,) = raised.value.problems
    assert problem.file == str(path)
    assert problem.line == line_of(path, "D2.O9.Z")
    assert "élément inconnu dans D2 version 1.1 : « D2.O9.Z »" in problem.message
    assert "test-restauration" in problem.message


def test_unknown_kind_fact_and_entity_are_all_reported(d2):
    dossier = parse_dossier(
        {
            "domain": "D2",
            "candidate": {"name": "CH", "kind": "ej"},
            "filing_date": "2026-03-16",
            "facts": {"dedicated_backup_ad": "oui", "moon_phase": True},
            "evidence": [
                {"id": "x", "kind": "horoscope", "date": "2026-01-01"},
                {"id": "y", "kind": "pssi", "date": "2026-01-01", "entities": ["370000994"]},
            ],
        }
    )
    with pytest.raises(DossierError) as raised:
        evaluate(d2, dossier)
    messages = [problem.message for problem in raised.value.problems]
    assert any("type de preuve inconnu pour D2 « horoscope »" in m for m in messages)
    assert any("fait inconnu pour D2 : « moon_phase »" in m for m in messages)
    assert any("le fait « dedicated_backup_ad » attend true ou false" in m for m in messages)
    assert any("établissement non déclaré dans entities : 370000994" in m for m in messages)


def test_dossier_for_another_domain_is_refused(referential):
    dossier = example("d2-chu-exemple.yaml")
    with pytest.raises(DossierError, match="concerne le domaine D2, pas D1"):
        evaluate(referential.domain("D1"), dossier)


def test_bad_date_in_dossier_has_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "domain: D2\ncandidate: {name: CH, kind: ej}\nfiling_date: 2026-02-30\n", encoding="utf-8"
    )
    with pytest.raises(DossierError) as raised:
        load_dossier(path)
    (problem,) = raised.value.problems
    assert (problem.line, problem.message) == (
        3,
        "date invalide : « 2026-02-30 » (format attendu AAAA-MM-JJ)",
    )


def test_dossier_needs_a_reference_date():
    with pytest.raises(DossierError, match="filing_date .* ou as_of"):
        parse_dossier({"domain": "D2", "candidate": {"name": "CH", "kind": "ej"}})


def test_invalid_finess_and_candidate_kind():
    with pytest.raises(DossierError) as raised:
        parse_dossier(
            {
                "domain": "D2",
                "candidate": {"name": "CH", "kind": "clinic"},
                "as_of": "2026-01-01",
                "entities": [{"finess": "12", "level": "EJ", "weight": 1}],
            }
        )
    messages = " | ".join(problem.message for problem in raised.value.problems)
    assert "valeur non admise : « clinic »" in messages
    assert "Numéro FINESS « 12 » invalide : il doit compter 9 caractères" in messages


@pytest.mark.parametrize(
    "number, reason",
    [
        ("370000480", "la clé de contrôle (9e caractère) ne correspond pas"),
        ("000000000", "le préfixe départemental « 00 » n'existe pas"),
        ("620000011", "la clé de contrôle (9e caractère) ne correspond pas"),
    ],
)
def test_dossier_finess_uses_the_apps_validator(tmp_path, number, reason):
    """Issue 13.10: a dossier refuses the FINESS numbers the app refuses (wrong check key,
    unknown département), with the app's message and the line."""
    from careops.tenancy import finess

    with pytest.raises(finess.FinessError) as app:
        finess.validate(number)
    path = tmp_path / "dossier.yaml"
    path.write_text(
        "domain: D1\ncandidate: {name: CH, kind: ej}\nas_of: 2025-01-01\n"
        f'entities:\n  - {{finess: "{number}", level: EJ, weight: 1}}\n',
        encoding="utf-8",
    )
    with pytest.raises(DossierError) as raised:
        load_dossier(path)
    (problem,) = raised.value.problems
    assert problem.message.endswith(str(app.value)) and reason in problem.message
    assert problem.line == 5
    # a number the app accepts (right key, " 37 0000 481 " normalised) is accepted
    entity = {"finess": " 37 0000 481 ", "level": "EJ", "weight": 1}
    dossier = {"domain": "D1", "candidate": {"name": "CH", "kind": "ej"}, "as_of": "2025-01-01"}
    assert parse_dossier({**dossier, "entities": [entity]}).entities[0].finess == "370000481"


def test_shipped_examples_use_valid_finess_numbers():
    from careops.tenancy import finess

    for path in EXAMPLES.iterdir():
        dossier = load_dossier(path)
        for number in [dossier.candidate.finess, *(e.finess for e in dossier.entities)]:
            if number is not None:
                assert finess.validate(number) == number, path.name


def test_json_dossier(tmp_path, d2):
    path = tmp_path / "dossier.json"
    path.write_text(
        json.dumps(
            {
                "domain": "D2",
                "candidate": {"name": "CH", "kind": "ej"},
                "candidacy_date": "2025-10-01",
                "as_of": "2026-02-01",
                "evidence": [
                    {"kind": "pssi", "date": "2024-01-01", "validated_by": "legal_representative"}
                ],
            }
        ),
        encoding="utf-8",
    )
    evaluation = evaluate(d2, load_dossier(path))
    assert evaluation.reference == "as_of"
    assert evaluation.result("D2.P1").status == "met"
    assert evaluation.result("D2.O4").status == "missing_evidence"


def test_as_of_is_named_in_reasons(d2):
    dossier = Dossier(
        domain="D2",
        candidate=Candidate(name="CH", kind="ej"),
        as_of="2026-02-01",
        evidence=[
            Evidence(
                kind="restore_test",
                date="2025-09-01",
                attributes={"business_referent": "x", "scope": "DPI"},
            )
        ],
    )
    reason = evaluate(d2, dossier).result("D2.O4").reasons[0]
    assert "la date d'évaluation (01/02/2026)" in reason


def test_dossier_built_from_python_objects(d2):
    dossier = Dossier(
        domain="d2",
        candidate=Candidate(name="CH", kind="ej"),
        candidacy_date="2025-10-01",
        filing_date="2026-02-01",
        evidence=[Evidence(kind="pssi", date="2023-01-01", validated_by="legal_representative")],
    )
    assert evaluate(d2, dossier).result("D2.P1").status == "met"


def test_evidence_scoped_to_another_objective_is_not_used(d2):
    evidence = Evidence(kind="backup_architecture", date="2026-01-01", objectives=["D2.03.B"])
    dossier = Dossier(
        domain="D2",
        candidate=Candidate(name="CH", kind="ej"),
        filing_date="2026-02-01",
        evidence=[evidence],
    )
    evaluation = evaluate(d2, dossier)
    assert evaluation.result("D2.O3.B").criteria[0].status == "met"
    assert evaluation.result("D2.O3.C").criteria[0].status == "missing_evidence"


def test_drafts_and_to_confirm_items_evaluate_as_missing_evidence(referential):
    dossier = Dossier(domain="D3", candidate=Candidate(name="CH", kind="ej"), as_of="2026-06-01")
    evaluation = evaluate(referential.domain("D3"), dossier)
    assert {result.status for result in evaluation.results} == {"missing_evidence"}
    assert evaluation.results[0].reasons[0].startswith("règle à confirmer : ")
