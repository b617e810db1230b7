"""Malformed referential files: every defect is reported in French with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from careops.catalogue.engine import ReferentialError, load_file, load_referential, validate

GOOD = """\
domain: D2
version: "1"
status: published
title: "Test"
events:
  operational_phase_start: 2025-07-16
evidence_kinds:
  pssi: {label: PSSI}
facts:
  dedicated_backup_ad: {label: "AD dédié"}
windows:
  candidacy: {opens: 2025-09-02, closes: 2025-10-31}
items:
  - id: D2.P1
    kind: prerequisite
    title: "PSSI"
    criteria:
      - type: document
        evidence_kind: pssi
        period: {from: 2022-07-16, to: candidacy_date}
  - id: D2.O1
    kind: group
    title: "Groupe"
  - id: D2.O1.A
    kind: objective
    parent: D2.O1
    title: "Objectif"
    criteria:
      - type: event_in_period
        evidence_kind: pssi
        period:
          from: operational_phase_start
          to: filing_date
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``needle`` (what the report must point at)."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def write(tmp_path: Path, text: str, name: str = "d2-v1.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[tuple[int | None, str]]:
    path = write(tmp_path, text)
    found = validate([path])
    assert all(problem.file == str(path) for problem in found)
    return [(problem.line, problem.message) for problem in found]


def test_good_file_is_valid(tmp_path):
    assert problems_of(tmp_path, GOOD) == []
    assert load_file(write(tmp_path, GOOD)).item("d2.01.a").title == "Objectif"


def test_unknown_field_points_at_its_line(tmp_path):
    text = GOOD.replace('    title: "PSSI"\n', '    title: "PSSI"\n    colour: red\n')
    assert problems_of(tmp_path, text) == [(line_of(text, "colour"), "champ inconnu : « colour »")]


def test_unknown_criterion_type(tmp_path):
    text = GOOD.replace("type: event_in_period", "type: magic")
    ((line, message),) = problems_of(tmp_path, text)
    assert line == line_of(text, "type: magic")
    assert message.startswith("type de critère inconnu : « magic »")


def test_bad_date(tmp_path):
    text = GOOD.replace("period: {from: 2022-07-16", "period: {from: 2022-02-30")
    ((line, message),) = problems_of(tmp_path, text)
    assert line == line_of(text, "2022-02-30")
    assert "date invalide : « 2022-02-30 »" in message


def test_bad_window_date(tmp_path):
    text = GOOD.replace("closes: 2025-10-31", "closes: 31/10/2025")
    ((line, message),) = problems_of(tmp_path, text)
    assert line == line_of(text, "31/10/2025") and "date invalide" in message


def test_duplicate_id(tmp_path):
    text = GOOD.replace("  - id: D2.O1.A\n", "  - id: D2.03.A\n").replace("D2.O1.A", "D2.P1")
    text = text.replace("  - id: D2.03.A\n", "  - id: d2.p1\n")
    assert (line_of(text, "id: d2.p1"), "identifiant en double : D2.P1") in problems_of(
        tmp_path, text
    )


def test_missing_parent(tmp_path):
    text = GOOD.replace("parent: D2.O1", "parent: D2.O9")
    found = problems_of(tmp_path, text)
    assert (line_of(text, "parent: D2.O9"), "D2.O1.A : parent inexistant « D2.O9 »") in found
    assert (line_of(text, "id: D2.O1"), "le groupe D2.O1 n'a aucun enfant") in found


def test_duplicate_and_missing_parent_reported_with_schema_errors(tmp_path):
    text = GOOD.replace("parent: D2.O1", "parent: D2.O9").replace(
        '    title: "PSSI"\n', '    title: "PSSI"\n    colour: red\n'
    )
    found = problems_of(tmp_path, text)
    assert (line_of(text, "colour"), "champ inconnu : « colour »") in found
    assert (line_of(text, "parent: D2.O9"), "parent inexistant « D2.O9 »") in found


def test_unknown_event_in_bound(tmp_path):
    text = GOOD.replace("to: filing_date", "to: declaration_day")
    ((line, message),) = problems_of(tmp_path, text)
    assert line == line_of(text, "declaration_day")
    assert message.startswith("événement inconnu dans une borne : « declaration_day »")


def test_unknown_evidence_kind_and_fact(tmp_path):
    text = GOOD.replace(
        "evidence_kind: pssi\n        period:\n", "evidence_kind: bia\n        period:\n"
    )
    assert problems_of(tmp_path, text) == [
        (
            line_of(text, "evidence_kind: bia"),
            "type de preuve inconnu : « bia » (déclarez-le dans evidence_kinds)",
        )
    ]
    conditional = GOOD.replace(
        "      - type: event_in_period\n",
        "      - type: conditional\n        when: {fact: nope}\n        criteria:\n"
        "      - type: event_in_period\n",
    )
    # the nested list is malformed on purpose: criteria must be a list, not null
    assert any("liste attendue" in message for _, message in problems_of(tmp_path, conditional))


def test_unknown_fact_in_condition(tmp_path):
    text = GOOD.replace(
        "      - type: event_in_period\n        evidence_kind: pssi\n",
        "      - type: conditional\n        when: {fact: nope}\n        criteria:\n"
        "          - type: document\n            evidence_kind: pssi\n"
        "      - type: event_in_period\n        evidence_kind: pssi\n",
    )
    found = problems_of(tmp_path, text)
    assert found == [(line_of(text, "nope"), "fait inconnu : « nope » (déclarez-le dans facts)")]


def test_unknown_window_bound_needs_to_confirm(tmp_path):
    text = GOOD.replace("closes: 2025-10-31}", "closes: null}")
    assert problems_of(tmp_path, text) == [
        (line_of(text, "closes: null"), "borne de guichet inconnue : indiquez to_confirm: true")
    ]
    assert (
        problems_of(tmp_path, text.replace("closes: null}", "closes: null, to_confirm: true}"))
        == []
    )


def test_objective_without_criteria_must_be_to_confirm(tmp_path):
    text = GOOD.split("    criteria:\n      - type: event_in_period")[0]
    found = problems_of(tmp_path, text)
    assert found == [
        (
            line_of(text, "id: D2.O1.A"),
            "l'élément D2.O1.A n'a aucun critère : ajoutez-en ou marquez-le to_confirm",
        )
    ]
    assert problems_of(tmp_path, text + "    to_confirm: true\n") == []


def test_yaml_syntax_error_has_a_line(tmp_path):
    text = GOOD.replace('title: "Objectif"', 'title: "Objectif')
    ((line, message),) = problems_of(tmp_path, text)
    assert message.startswith("YAML illisible")
    assert line is not None and line >= line_of(text, '"Objectif')


def test_duplicate_yaml_key(tmp_path):
    text = GOOD.replace('title: "Test"\n', 'title: "Test"\ntitle: "Encore"\n')
    assert (line_of(text, "Encore"), "clé en double : « title »") in problems_of(tmp_path, text)


def test_id_with_wrong_prefix(tmp_path):
    text = GOOD.replace("id: D2.P1", "id: D1.P1")
    assert problems_of(tmp_path, text) == [
        (line_of(text, "id: D1.P1"), "l'identifiant D1.P1 ne commence pas par « D2. »")
    ]


def test_unknown_source_is_reported_when_programme_is_present(tmp_path):
    write(
        tmp_path,
        "programme: {name: CaRE, title: CaRE}\nsources:\n  S1: {title: x}\n",
        "programme.yaml",
    )
    text = GOOD.replace('    title: "PSSI"\n', '    title: "PSSI"\n    sources: [S1, S99]\n')
    assert problems_of(tmp_path, text) == [(line_of(text, "S99"), "source inconnue : « S99 »")]


def test_same_domain_version_twice(tmp_path):
    write(tmp_path, GOOD, "d2-v1.yaml")
    write(tmp_path, GOOD, "d2-v1-copie.yaml")
    found = validate([tmp_path])
    assert len(found) == 1 and "D2 version 1 déjà définie" in found[0].message


def test_load_referential_refuses_any_problem(tmp_path):
    text = GOOD.replace("type: event_in_period", "type: magic")
    write(tmp_path, text)
    with pytest.raises(ReferentialError) as raised:
        load_referential(tmp_path)
    assert f"{tmp_path / 'd2-v1.yaml'}:{line_of(text, 'magic')}:" in str(raised.value)


def test_versions_pick_newest_published(tmp_path):
    write(tmp_path, GOOD, "d2-v1.yaml")
    write(
        tmp_path,
        GOOD.replace('version: "1"', 'version: "2"').replace("published", "draft"),
        "d2-v2.yaml",
    )
    write(tmp_path, GOOD.replace('version: "1"', 'version: "1.1"'), "d2-v1.1.yaml")
    referential = load_referential(tmp_path)
    assert referential.versions("D2") == ["1", "1.1", "2"]
    assert referential.domain("D2").version == "1.1"
    assert referential.domain("D2", "2").status == "draft"


def test_related_evidence_kind_must_be_declared(tmp_path):
    text = GOOD.replace(
        "      - type: event_in_period\n",
        "      - type: related_evidence\n        attribute: activities\n"
        "        related_kind: horoscope\n        related_attribute: signs\n"
        "      - type: event_in_period\n",
    ).replace(
        "      - type: related_evidence\n",
        "      - type: related_evidence\n        evidence_kind: pssi\n",
    )
    assert problems_of(tmp_path, text) == [
        (
            line_of(text, "related_kind: horoscope"),
            "type de preuve inconnu : « horoscope » (déclarez-le dans evidence_kinds)",
        )
    ]


def test_mandatory_for_funding_is_not_for_groups(tmp_path):
    text = GOOD.replace(
        '    title: "Groupe"\n', '    title: "Groupe"\n    mandatory_for_funding: true\n'
    )
    ((line, message),) = problems_of(tmp_path, text)
    assert "mandatory_for_funding porte sur un prérequis ou un objectif" in message
