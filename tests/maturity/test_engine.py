"""Questionnaires as data, their scoring (hand-checked), conditions, pre-filling, properties;
the CLI without Django (GoPhish exports: tests/awareness)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careops.maturity.engine import questionnaire as engine


@pytest.fixture(scope="module")
def diagnostic():
    return engine.load("diagnostic-ms")


@pytest.fixture(scope="module")
def nis2():
    return engine.load("nis2-art21")


def test_shipped_questionnaires_cite_their_framework_and_condition_only_on_context():
    shipped = {q.id: q for q in engine.shipped()}
    assert set(shipped) == {"diagnostic-ms", "nis2-art21"}
    nis2 = shipped["nis2-art21"]
    assert {t.id[0] for t in nis2.themes} == set("abcdefghij")  # the ten measures of art. 21 §2
    for questionnaire in shipped.values():
        for question in questionnaire.questions:
            if question.scored:
                assert question.reference and question.measure, question.id
            if question.when:
                assert not questionnaire.question(question.when.question).scored


def answers_all(questionnaire, value, **context):
    answers = {q.id: value for q in questionnaire.questions if q.scored}
    answers.update(context)
    return answers


def test_all_yes_is_level_5_and_all_no_level_1(diagnostic):
    best = engine.score(
        diagnostic, answers_all(diagnostic, "oui", ctx_annuaire="oui", ctx_prestataires="oui")
    )
    assert best.score == pytest.approx(1) and best.level == 5 and best.level_label == "Optimisé"
    assert best.measures == []
    worst = engine.score(
        diagnostic, answers_all(diagnostic, "non", ctx_annuaire="oui", ctx_prestataires="oui")
    )
    assert worst.score == 0 and worst.level == 1
    assert worst.measures[0].priority == 1


def test_hand_checked_theme_and_overall(diagnostic):
    answers = answers_all(diagnostic, "oui", ctx_annuaire="non", ctx_prestataires="non")
    answers.update(S1="oui", S2="non", S3="partiel")
    result = engine.score(diagnostic, answers)
    backups = next(t for t in result.themes if t.id == "sauvegardes")
    # S1 weight 2 × 1 + S2 weight 1.5 × 0 + S3 weight 1 × 0.5 = 2.5 over 4.5
    assert backups.score == pytest.approx(2.5 / 4.5) and backups.level == 3
    # themes weighted 1, 1.5, 1, 1.5, 1, 1 (total 7); every other theme scores 1
    assert result.score == pytest.approx((7 - 1.5 + 1.5 * 2.5 / 4.5) / 7)
    assert [m.question for m in result.measures] == ["S2", "S3"]  # priority 1 first


def test_conditions_hide_questions_and_warn_on_their_answers(diagnostic):
    answers = answers_all(diagnostic, "oui", ctx_annuaire="non", ctx_prestataires="non")
    answers["C5"] = "non"
    result = engine.score(diagnostic, answers)
    assert {"C5", "C6"} <= set(result.hidden)
    assert result.level == 5  # the hidden « non » does not count
    assert "question C5 : réponse ignorée (question sans objet ici)" in result.warnings


def test_not_applicable_leaves_the_computation(diagnostic):
    answers = answers_all(diagnostic, "oui", ctx_annuaire="non", ctx_prestataires="non")
    answers.update(R1="non", R2="sans_objet")
    network = next(t for t in engine.score(diagnostic, answers).themes if t.id == "reseau")
    assert network.score == 0 and network.answered == 2


def test_unanswered_questions_count_zero_and_are_listed(nis2):
    result = engine.score(nis2, {"A1": "oui", "ctx_developpement": "non"})
    assert "A2" in result.missing and "E3" not in result.missing
    assert next(t for t in result.themes if t.id == "a_risques").score == pytest.approx(0.5)


def test_bad_answers_are_refused_in_french(diagnostic):
    with pytest.raises(engine.QuestionnaireError, match="question inconnue : « Z9 »"):
        engine.score(diagnostic, {"Z9": "oui"})
    with pytest.raises(engine.QuestionnaireError, match="réponse « peut-être » hors de l'échelle"):
        engine.score(diagnostic, {"G1": "peut-être"})


def test_a_condition_on_a_scored_question_is_refused():
    document = {
        "id": "x",
        "version": "1",
        "title": "x",
        "scales": {
            "s": [
                {"value": "oui", "label": "Oui", "score": 1},
                {"value": "non", "label": "Non", "score": 0},
            ]
        },
        "themes": [{"id": "t", "title": "T"}],
        "questions": [
            {"id": "Q1", "theme": "t", "text": "?", "reference": "r", "scale": "s"},
            {
                "id": "Q2",
                "theme": "t",
                "text": "?",
                "reference": "r",
                "scale": "s",
                "when": {"question": "Q1", "in": ["oui"]},
            },
        ],
        "levels": [{"level": 1, "label": "a", "min": 0}],
    }
    with pytest.raises(
        engine.QuestionnaireError, match="condition ne peut porter que sur une question de contexte"
    ):
        engine.parse(document)


def test_prefill_proposes_from_careops_data_and_never_overwrites(diagnostic):
    proposed = engine.prefill(
        diagnostic, {"ad_level": 3, "backup_verified": False, "bia_validated": False}
    )
    assert proposed["C5"] == (
        "oui",
        "pré-rempli par careops : dernier audit de l'Active Directory au niveau ANSSI 3",
    )
    assert proposed["S2"][0] == "non"
    assert "S3" not in proposed  # no rule for a BIA not validated
    kept = engine.prefill(diagnostic, {"ad_level": 1}, answers={"C5": "oui"})
    assert "C5" not in kept


def _better(questionnaire, question, value):
    current = questionnaire.option(question, value).score
    return [
        o.value
        for o in questionnaire.scales[question.scale]
        if o.score is not None and current is not None and o.score > current
    ]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_more_good_answers_never_lower_the_level(data):
    for questionnaire in (engine.load("diagnostic-ms"), engine.load("nis2-art21")):
        answers = {}
        for question in questionnaire.questions:
            options = [
                o.value
                for o in questionnaire.scales[question.scale]
                if o.score != 0 or not question.scored
            ]
            values = [o.value for o in questionnaire.scales[question.scale]]
            if data.draw(st.booleans()):
                answers[question.id] = data.draw(st.sampled_from(values or options))
        before = engine.score(questionnaire, answers)
        scored = [
            q for q in questionnaire.questions if q.scored and questionnaire.shown(q, answers)
        ]
        question = data.draw(st.sampled_from(scored))
        current = answers.get(question.id)
        candidates = (
            [o.value for o in questionnaire.scales[question.scale] if o.score is not None]
            if current is None
            else _better(questionnaire, question, current)
        )
        if not candidates or (
            current is not None and questionnaire.option(question, current).score is None
        ):
            continue
        improved = dict(answers, **{question.id: data.draw(st.sampled_from(candidates))})
        after = engine.score(questionnaire, improved)
        assert after.score >= before.score - 1e-12
        assert after.level >= before.level


def test_cli_without_django(tmp_path):
    answers = tmp_path / "reponses.yaml"
    answers.write_text(
        "questionnaire: nis2-art21\nfacts: {backup_verified: true}\nanswers:\n  A1: oui\n  ctx_developpement: non\n",
        encoding="utf-8",
    )
    probe = (
        "import sys; from careops.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "assert 'django' not in sys.modules, 'Django imported'\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "maturity", "score", "nis2-art21", str(answers), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["prefilled"] == {
        "C1": "pré-rempli par careops : test de restauration réussi dans l'année"
    }
    wrong = subprocess.run(
        [sys.executable, "-m", "careops.cli", "maturity", "score", "diagnostic-ms", str(answers)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode == 2 and "répond au questionnaire « nis2-art21 »" in wrong.stderr


@pytest.mark.parametrize(
    ("sector", "employees", "turnover", "balance", "expected", "size"),
    [
        ("sante_es", 1200, 90e6, 80e6, "essentielle", "grande"),
        ("sante_es", 249, 51e6, 44e6, "essentielle", "grande"),  # both financial thresholds
        ("sante_es", 249, 51e6, 40e6, "importante", "moyenne"),  # balance under 43 M€
        ("sante_es", 50, 0, 0, "importante", "moyenne"),
        ("sante_es", 49, 9e6, 9e6, "hors_champ", "petite"),
        ("dispositifs_medicaux", 300, 0, 0, "importante", "grande"),
        ("esms", 400, 20e6, 20e6, "hors_champ", "grande"),
    ],
)
def test_nis2_classification(sector, employees, turnover, balance, expected, size):
    from careops.maturity.engine.nis2 import classify

    result = classify(sector, employees, turnover, balance)
    assert (result.category, result.size) == (expected, size)
    assert result.reason
    if sector == "esms":
        assert "non confirmée" in result.to_confirm


def test_nis2_unknown_sector_is_refused():
    from careops.maturity.engine.nis2 import classify

    with pytest.raises(ValueError, match="secteur inconnu « banque »"):
        classify("banque", 10)


def test_cli_refuses_empty_answers_and_impossible_facts(tmp_path):
    empty = tmp_path / "vide.yaml"
    empty.write_text("answers: {}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "careops.cli", "maturity", "score", "diagnostic-ms", str(empty)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and "aucune réponse à une question notée" in done.stderr
    wrong = tmp_path / "faux.yaml"
    wrong.write_text("facts: {ad_level: 99}\nanswers: {G1: oui}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "careops.cli", "maturity", "score", "diagnostic-ms", str(wrong)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (
        done.returncode == 2
        and "« ad_level » vaut 99, attendu un niveau ANSSI de 1 à 5" in done.stderr
    )


def _score(path):
    return subprocess.run(
        [sys.executable, "-m", "careops.cli", "maturity", "score", "diagnostic-ms", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_refuses_an_answers_file_not_in_utf8_with_a_french_message(tmp_path):
    latin = tmp_path / "réponses-excel.yaml"
    latin.write_bytes("answers:\n  G1: oui\n  G2: « en partie »\n".encode("cp1252"))
    done = _score(latin)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "n'est pas en UTF-8" in done.stderr


def test_cli_refuses_a_question_answered_twice(tmp_path):
    twice = tmp_path / "doublon.yaml"
    twice.write_text("answers:\n  G1: oui\n  G2: non\n  G1: non\n", encoding="utf-8")
    done = _score(twice)
    assert done.returncode == 2, done.stderr
    assert "« G1 » figure deux fois (ligne 4)" in done.stderr


# --- answer files written from the docs alone, as a structure's RSSI writes them --------------

HAND_WRITTEN = """\
questionnaire: diagnostic-ms
answers:
  ctx_annuaire: non
  ctx_prestataires: oui
  G1: oui
  G2: partiel
  G3: non
  C1: oui
  C2: partiel
  C3: non
  C4: oui
  C6: ne_sait_pas
  P1: oui
  P2: oui
  P3: partiel
  S1: partiel
  S2: non
  S3: oui
  R1: oui
  R2: sans_objet
  H1: partiel
  H2: non
  H3: oui
"""


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "careops.cli", "maturity", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_hand_written_diagnostic_scored_by_hand(tmp_path):
    """Themes: gouvernance (1+0.5+0)/3 = 0.5; comptes (C5 hidden, no directory)
    (2·1 + 0.5 + 1.5·0 + 1.5·1 + 0)/7 = 4/7; postes (1.5+1+0.5)/3.5 = 6/7; sauvegardes
    (2·0.5 + 0 + 1)/4.5 = 4/9; réseau (R2 « sans objet » out) 1; humain (0.75+0+1)/3.5 = 0.5.
    Overall (0.5 + 1.5·4/7 + 6/7 + 1.5·4/9 + 1 + 0.5)/7 = 0.6259 → level 3 (0.45 ≤ s < 0.7)."""
    path = tmp_path / "reponses.yaml"
    path.write_text(HAND_WRITTEN, encoding="utf-8")
    done = cli("score", "diagnostic-ms", path, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["level"] == 3 and result["score"] == pytest.approx(
        (0.5 + 1.5 * 4 / 7 + 6 / 7 + 1.5 * 4 / 9 + 1 + 0.5) / 7
    )
    themes = {t["id"]: t["score"] for t in result["themes"]}
    assert themes["comptes"] == pytest.approx(4 / 7) and themes["sauvegardes"] == pytest.approx(
        4 / 9
    )


@pytest.mark.parametrize(
    ("line", "written"),
    [
        ("  G2: partiel", "  G2: En partie"),  # the label shown on the page
        ("  G1: oui", "  G1: Oui"),
        ("  C6: ne_sait_pas", "  C6: Je ne sais pas"),
        ("  R2: sans_objet", "  R2: Sans objet"),
        ("  ctx_annuaire: non", "  ctx_annuaire: no"),  # YAML reads « no » as false
        ("  G1: oui", "  G1: yes"),
    ],
)
def test_answers_written_as_the_page_shows_them_score_the_same(tmp_path, line, written):
    path = tmp_path / "reponses.yaml"
    path.write_text(HAND_WRITTEN.replace(line, written), encoding="utf-8")
    done = cli("score", "diagnostic-ms", path)
    assert done.returncode == 0, done.stderr
    assert "Niveau 3 « Intermédiaire » — score 62,6 %" in done.stdout


def test_an_answer_left_blank_is_unanswered_not_none(tmp_path):
    path = tmp_path / "reponses.yaml"
    path.write_text(HAND_WRITTEN.replace("  G1: oui", "  G1:"), encoding="utf-8")
    done = cli("score", "diagnostic-ms", path)
    assert done.returncode == 0, done.stderr
    assert "Questions sans réponse (comptées 0) : G1" in done.stdout
    assert "None" not in done.stdout + done.stderr


def test_wrong_answers_files_get_french_errors(tmp_path):
    path = tmp_path / "reponses.yaml"
    path.write_text(HAND_WRITTEN.replace("  G2: partiel", "  G2: peut-être"), encoding="utf-8")
    done = cli("score", "diagnostic-ms", path)
    assert done.returncode == 2
    assert (
        "question G2 : réponse « peut-être » hors de l'échelle (non, partiel « En partie », oui, "
        "ne_sait_pas « Je ne sais pas »)" in done.stderr
    )
    path.write_text(HAND_WRITTEN.replace("  G2: partiel", "  G9: partiel"), encoding="utf-8")
    done = cli("score", "diagnostic-ms", path)
    assert done.returncode == 2 and "réponse à une question inconnue : « G9 »" in done.stderr
    path.write_text("G1: oui\nG2: non\n", encoding="utf-8")  # forgot « answers: »
    done = cli("score", "diagnostic-ms", path)
    assert done.returncode == 2
    assert "clé(s) inconnue(s) « G1 », « G2 » ; les réponses se mettent sous « answers: »" in (
        done.stderr
    )


def test_nis2_reason_never_rounds_a_figure_onto_its_threshold():
    from careops.maturity.engine.nis2 import classify

    just_over = classify("sante_es", 49, 50_000_001, 43_000_001)
    assert just_over.category == "essentielle"
    assert "50\u202f000\u202f001 € > 50 M€" in just_over.reason
    assert "43\u202f000\u202f001 € > 43 M€" in just_over.reason
    at = classify("sante_es", 49, 10e6, 10e6)  # « > », not « ≥ »: exactly 10 M€ stays small
    assert at.category == "hors_champ"
    assert "49 salariés < 50, chiffre d'affaires 10 M€ et bilan 10 M€" in at.reason
    assert classify("sante_es", 10, 12.5e6, 11e6).category == "importante"
    assert "12,5 M€ > 10 M€" in classify("sante_es", 10, 12.5e6, 11e6).reason
