"""The AAP MS pathways as data: proposal by maturity level (boundaries included), milestones and
progress, the checks on the file, and the shipped version frozen."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from careops.maturity.engine import pathways as engine


@pytest.fixture(scope="module")
def shipped():
    return engine.load()


def test_three_pathways_cover_levels_one_to_five_and_are_to_confirm(shipped):
    assert [p.id for p in shipped.pathways] == ["P1", "P2", "P3"]
    assert "non publiées" in shipped.to_confirm
    assert set(shipped.questionnaires) == {"diagnostic-ms", "nis2-art21"}
    for pathway in shipped.pathways:
        assert pathway.milestones and all(m.deliverables for m in pathway.milestones)
        assert {t for t in pathway.themes} <= set(shipped.themes)
    assert {item for _, item in shipped.themes.values()} == {f"AAPMS.O{i}" for i in range(1, 6)}


@pytest.mark.parametrize(
    ("level", "expected"), [(1, "P1"), (2, "P1"), (3, "P2"), (4, "P3"), (5, "P3")]
)
def test_proposal_follows_the_entry_levels_at_every_boundary(shipped, level, expected):
    proposal = engine.propose(shipped, "diagnostic-ms", level)
    assert proposal.pathway == expected
    assert f"niveau {level}" in proposal.reason and "à confirmer" in proposal.reason


@pytest.mark.parametrize("level", [None, 0, 6])
def test_no_proposal_outside_levels_one_to_five(shipped, level):
    with pytest.raises(engine.PathwayError, match="hors de 1 à 5"):
        engine.propose(shipped, "nis2-art21", level)


def test_an_unknown_questionnaire_proposes_nothing(shipped):
    with pytest.raises(engine.PathwayError, match="ne propose pas de parcours"):
        engine.propose(shipped, "autre", 3)


def test_a_higher_level_never_proposes_a_lower_pathway(shipped):
    order = [engine.propose(shipped, "diagnostic-ms", level).pathway for level in range(1, 6)]
    assert order == sorted(order)


def test_progress_counts_declared_and_observed_deliverables_and_overdue_milestones(shipped):
    p1 = shipped.pathway("P1")
    start = dt.date(2026, 1, 31)
    state = engine.progress(
        p1, start, dt.date(2026, 5, 1), {"P1.L1", "P1.L3"}, {"pooled": True, "reassessed": False}
    )
    j1, j2, j3 = state.milestones
    assert (j1.status, j1.done, j1.total) == ("done", 3, 3)  # L2 observed: the pool
    assert next(d for d in j1.deliverables if d.id == "P1.L2").observed
    assert j2.due == "2026-07-31" and j2.status == "open"
    assert j3.due == "2027-01-31"
    assert state.done == 3 and state.total == 7 and state.overdue == []
    # the day after J2's due date, J2 is overdue; on the due date itself it is not
    on_due = engine.progress(p1, start, dt.date(2026, 7, 31), {"P1.L1", "P1.L3"}, {"pooled": True})
    after = engine.progress(p1, start, dt.date(2026, 8, 1), {"P1.L1", "P1.L3"}, {"pooled": True})
    assert on_due.overdue == [] and after.overdue == ["P1.J2"]


def test_months_are_added_calendar_wise():
    assert engine.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert engine.add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)


def _document(shipped_path):
    import yaml

    return yaml.safe_load(shipped_path.read_text(encoding="utf-8"))


def test_file_checks_refuse_gaps_overlaps_and_unknown_facts():
    path = sorted(engine.PATHWAY_DIR.glob("*.yaml"))[0]
    document = _document(path)
    document["pathways"][1]["entry"] = {"min_level": 2, "max_level": 3}
    with pytest.raises(engine.PathwayError, match="le niveau 2 ouvre deux parcours"):
        engine.parse(document)
    document = _document(path)
    document["pathways"][2]["entry"] = {"min_level": 5, "max_level": 5}
    with pytest.raises(engine.PathwayError, match=r"aucun parcours pour le\(s\) niveau\(x\) 4"):
        engine.parse(document)
    document = _document(path)
    document["pathways"][0]["milestones"][0]["deliverables"][0]["fact"] = "devine"
    with pytest.raises(engine.PathwayError, match="fait inconnu « devine »"):
        engine.parse(document)


def test_a_shipped_version_edited_in_place_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "aapms-parcours-v0.yaml"
    shutil.copy(engine.PATHWAY_DIR / "aapms-parcours-v0.yaml", copy)
    copy.write_text(copy.read_text(encoding="utf-8") + "# retouche\n", encoding="utf-8")
    monkeypatch.setattr(engine, "PATHWAY_DIR", tmp_path)
    with pytest.raises(engine.PathwayError, match="version déjà publiée modifiée"):
        engine.load("0")


def test_every_shipped_pathways_file_is_frozen_by_its_digest():
    assert {p.name for p in engine.PATHWAY_DIR.glob("*.yaml")} == set(engine.SHIPPED)


def test_cli_lists_and_proposes_without_a_database(capsys, tmp_path):
    from careops.maturity.engine.cli import maturity_main

    assert maturity_main(["parcours"]) == 0
    listing = capsys.readouterr().out
    assert "P3.L3" in listing and "À confirmer" in listing
    assert maturity_main(["parcours", "--niveau", "3"]) == 0
    assert capsys.readouterr().out.startswith("Parcours proposé P2 : ")
    assert maturity_main(["parcours", "--niveau", "6"]) == 2
    assert "hors de 1 à 5" in capsys.readouterr().err
    answers = tmp_path / "reponses.yaml"
    answers.write_text("answers: {ctx_annuaire: non, ctx_prestataires: non}\n", encoding="utf-8")
    assert maturity_main(["parcours", "--reponses", str(answers), "--json"]) == 0
    assert '"pathway": "P1"' in capsys.readouterr().out  # nothing answered: level 1
