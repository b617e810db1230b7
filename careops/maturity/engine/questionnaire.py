"""Questionnaires as data (versioned YAML) and their scoring.

A questionnaire has answer scales, weighted themes, *context* questions (not scored: « do you run
an Active Directory? ») and scored questions. A scored question may be shown only when a context
answer holds (``when``); conditions may name context questions only, so that a better answer can
never reveal new questions: with the context fixed, the score is monotone in the answers, and so
is the level (« more good answers never lower a level »). Each scored question names the measure
of the public framework it comes from and the measure to take when the answer falls short.

Scoring: a theme's score is the weighted mean of the scores of its shown questions (an unanswered
shown question counts 0 and is listed); the overall score is the weighted mean of the themes; the
level is the highest level whose threshold the score reaches (thresholds are data).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

QUESTIONNAIRE_DIR = Path(__file__).parents[2] / "catalogue" / "referential" / "questionnaires"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class QuestionnaireError(ValueError):
    """A questionnaire or an answer file that cannot be used (message in French)."""


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    score: float | None  # None: « not applicable » (the question leaves the computation)


@dataclass(frozen=True)
class Condition:
    question: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Prefill:
    source: str
    rules: tuple[tuple[Any, str], ...]  # (threshold or exact value, answer value), in order


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    scale: str
    theme: str | None
    weight: float
    reference: str
    help: str = ""
    when: Condition | None = None
    measure: str = ""
    priority: int = 2
    prefill: Prefill | None = None

    @property
    def scored(self) -> bool:
        return self.theme is not None


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    weight: float


@dataclass(frozen=True)
class Level:
    level: int
    label: str
    minimum: float


@dataclass
class Questionnaire:
    id: str
    version: str
    title: str
    framework: str
    scales: dict[str, list[Option]]
    themes: list[Theme]
    questions: list[Question]
    levels: list[Level]
    to_confirm: str = ""
    sources: list[str] = field(default_factory=list)
    evidence_kind: str = "maturity_questionnaire"
    evidence_items: list[str] = field(default_factory=list)

    def question(self, ident: str) -> Question | None:
        return next((q for q in self.questions if q.id == ident), None)

    def option(self, question: Question, value: str) -> Option | None:
        return next((o for o in self.scales[question.scale] if o.value == value), None)

    def shown(self, question: Question, answers: dict[str, str]) -> bool:
        return question.when is None or answers.get(question.when.question) in question.when.values


def _error(where: str, message: str) -> QuestionnaireError:
    return QuestionnaireError(f"{where} : {message}")


def parse(document: dict, where: str = "questionnaire") -> Questionnaire:
    """Build and check a questionnaire from its YAML document."""
    try:
        scales = {
            name: [
                Option(
                    str(o["value"]),
                    str(o["label"]),
                    None if o.get("score") is None else float(o["score"]),
                )
                for o in options
            ]
            for name, options in document["scales"].items()
        }
        themes = [
            Theme(str(t["id"]), str(t["title"]), float(t.get("weight", 1)))
            for t in document["themes"]
        ]
        questions = []
        for raw in document.get("context", []):
            questions.append(
                Question(
                    str(raw["id"]),
                    str(raw["text"]),
                    str(raw["scale"]),
                    None,
                    0.0,
                    str(raw.get("reference", "")),
                    str(raw.get("help", "")),
                )
            )
        for raw in document["questions"]:
            when = raw.get("when")
            prefill = raw.get("prefill")
            questions.append(
                Question(
                    id=str(raw["id"]),
                    text=str(raw["text"]),
                    scale=str(raw["scale"]),
                    theme=str(raw["theme"]),
                    weight=float(raw.get("weight", 1)),
                    reference=str(raw["reference"]),
                    help=str(raw.get("help", "")),
                    when=Condition(str(when["question"]), tuple(str(v) for v in when["in"]))
                    if when
                    else None,
                    measure=str(raw.get("measure", "")),
                    priority=int(raw.get("priority", 2)),
                    prefill=Prefill(
                        str(prefill["source"]),
                        tuple(
                            (r.get("min", r.get("is")), str(r["answer"])) for r in prefill["rules"]
                        ),
                    )
                    if prefill
                    else None,
                )
            )
        levels = sorted(
            (
                Level(int(lv["level"]), str(lv["label"]), float(lv["min"]))
                for lv in document["levels"]
            ),
            key=lambda level: level.minimum,
        )
        questionnaire = Questionnaire(
            id=str(document["id"]),
            version=str(document["version"]),
            title=str(document["title"]),
            framework=str(document.get("framework", "")),
            scales=scales,
            themes=themes,
            questions=questions,
            levels=levels,
            to_confirm=str(document.get("to_confirm", "")),
            sources=[str(s) for s in document.get("sources", [])],
            evidence_kind=str(
                (document.get("evidence") or {}).get("kind", "maturity_questionnaire")
            ),
            evidence_items=[str(i) for i in (document.get("evidence") or {}).get("items", [])],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _error(where, f"structure invalide ({exc.__class__.__name__} : {exc})") from exc
    _check(questionnaire, where)
    return questionnaire


def _check(q: Questionnaire, where: str) -> None:
    ids = [question.id for question in q.questions]
    duplicates = {ident for ident in ids if ids.count(ident) > 1}
    if duplicates:
        raise _error(where, f"identifiants en double : {', '.join(sorted(duplicates))}")
    theme_ids = {theme.id for theme in q.themes}
    for question in q.questions:
        if question.scale not in q.scales:
            raise _error(where, f"question {question.id} : échelle « {question.scale} » inconnue")
        if question.scored and question.theme not in theme_ids:
            raise _error(where, f"question {question.id} : thème « {question.theme} » inconnu")
        if question.scored and not question.reference:
            raise _error(
                where, f"question {question.id} : mesure du référentiel d'origine manquante"
            )
        if question.when:
            target = q.question(question.when.question)
            if target is None or target.scored:
                raise _error(
                    where,
                    f"question {question.id} : une condition ne peut porter que sur une question de contexte "
                    f"(non notée), pas sur « {question.when.question} »",
                )
            unknown = [v for v in question.when.values if q.option(target, v) is None]
            if unknown:
                raise _error(
                    where,
                    f"question {question.id} : valeur(s) de condition inconnue(s) {', '.join(unknown)}",
                )
        if question.prefill:
            for _, answer in question.prefill.rules:
                if q.option(question, answer) is None:
                    raise _error(
                        where,
                        f"question {question.id} : pré-remplissage vers une réponse inconnue « {answer} »",
                    )
    if not q.levels or q.levels[0].minimum != 0:
        raise _error(where, "les niveaux doivent commencer à 0")


def load(reference: str | Path) -> Questionnaire:
    """A shipped questionnaire by id (``diagnostic-ms``, newest version) or a YAML file."""
    path = Path(reference)
    if not path.suffix:
        candidates = sorted(
            QUESTIONNAIRE_DIR.glob(f"{reference}-v*.yaml"),
            key=lambda p: tuple(int(x) for x in p.stem.rsplit("-v", 1)[1].split(".")),
        )
        if not candidates:
            known = sorted({p.stem.rsplit("-v", 1)[0] for p in QUESTIONNAIRE_DIR.glob("*.yaml")})
            raise QuestionnaireError(
                f"questionnaire « {reference} » inconnu (disponibles : {', '.join(known)})"
            )
        path = candidates[-1]
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (safe loader)
    except OSError as exc:
        raise QuestionnaireError(f"{path.name} : fichier illisible ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{path.name} : YAML invalide ({exc})") from exc
    return parse(document, path.name)


def shipped() -> list[Questionnaire]:
    return [load(path) for path in sorted(QUESTIONNAIRE_DIR.glob("*.yaml"))]


@dataclass
class Measure:
    question: str
    theme: str
    text: str
    reference: str
    priority: int
    gain: float  # points of the theme the measure would bring, weighted


@dataclass
class ThemeResult:
    id: str
    title: str
    score: float | None
    level: int | None
    answered: int
    shown: int


@dataclass
class Result:
    questionnaire: str
    version: str
    score: float | None
    level: int | None
    level_label: str
    themes: list[ThemeResult]
    measures: list[Measure]
    missing: list[str]
    hidden: list[str]
    warnings: list[str]
    prefilled: dict[str, str]

    def as_json(self) -> dict:
        return asdict(self)


def prefill(
    questionnaire: Questionnaire, facts: dict[str, Any], answers: dict[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """Answers careops can propose from its own data (``facts``: ad_level, exposure_level,
    backup_verified, bia_validated…), as {question: (answer, why)}; a question already answered
    is never overwritten."""
    answers = answers or {}
    proposed = {}
    for question in questionnaire.questions:
        rule = question.prefill
        if (
            rule is None
            or question.id in answers
            or rule.source not in facts
            or facts[rule.source] is None
        ):
            continue
        fact = facts[rule.source]
        for threshold, answer in rule.rules:
            if (
                threshold is None
                or (isinstance(threshold, bool) and fact is threshold)
                or (
                    not isinstance(threshold, bool)
                    and isinstance(threshold, int | float)
                    and not isinstance(fact, bool)
                    and float(fact) >= threshold
                )
                or (isinstance(threshold, str) and str(fact) == threshold)
            ):
                proposed[question.id] = (
                    answer,
                    f"pré-rempli par careops : {fact_text(rule.source, fact)}",
                )
                break
    return proposed


def score(
    questionnaire: Questionnaire, answers: dict[str, str], prefilled: dict[str, str] | None = None
) -> Result:
    """Score ``answers`` ({question id: option value}); unknown ids or values are errors."""
    warnings: list[str] = []
    for ident, value in answers.items():
        question = questionnaire.question(ident)
        if question is None:
            raise QuestionnaireError(f"réponse à une question inconnue : « {ident} »")
        if questionnaire.option(question, str(value)) is None:
            allowed = ", ".join(
                o.value if _folded(o.value) == _folded(o.label) else f"{o.value} « {o.label} »"
                for o in questionnaire.scales[question.scale]
            )
            raise QuestionnaireError(
                f"question {ident} : réponse « {value} » hors de l'échelle ({allowed})"
            )
    themes, measures, missing, hidden = [], [], [], []
    total = weights = 0.0
    theme_weight = {theme.id: theme.weight for theme in questionnaire.themes}
    for theme in questionnaire.themes:
        got = possible = 0.0
        answered = shown = 0
        for question in (q for q in questionnaire.questions if q.theme == theme.id):
            if not questionnaire.shown(question, answers):
                hidden.append(question.id)
                if question.id in answers:
                    warnings.append(
                        f"question {question.id} : réponse ignorée (question sans objet ici)"
                    )
                continue
            shown += 1
            value = answers.get(question.id)
            option = questionnaire.option(question, str(value)) if value is not None else None
            if value is None:
                missing.append(question.id)
                option_score = 0.0
            elif option.score is None:
                answered += 1
                continue  # not applicable
            else:
                answered += 1
                option_score = option.score
            got += question.weight * option_score
            possible += question.weight
            if option_score < 1 and question.measure:
                measures.append(
                    Measure(
                        question.id,
                        theme.id,
                        question.measure,
                        question.reference,
                        question.priority,
                        question.weight * (1 - option_score),
                    )
                )
        theme_score = got / possible if possible else None
        themes.append(
            ThemeResult(
                theme.id,
                theme.title,
                theme_score,
                _level(questionnaire, theme_score).level if theme_score is not None else None,
                answered,
                shown,
            )
        )
        if theme_score is not None:
            total += theme_weight[theme.id] * theme_score
            weights += theme_weight[theme.id]
    overall = total / weights if weights else None
    level = _level(questionnaire, overall) if overall is not None else None
    measures.sort(key=lambda m: (m.priority, -m.gain, m.question))
    return Result(
        questionnaire=questionnaire.id,
        version=questionnaire.version,
        score=overall,
        level=level.level if level else None,
        level_label=level.label if level else "",
        themes=themes,
        measures=measures,
        missing=missing,
        hidden=hidden,
        warnings=warnings,
        prefilled=prefilled or {},
    )


def _level(questionnaire: Questionnaire, value: float | None) -> Level | None:
    if value is None:
        return None
    reached = [level for level in questionnaire.levels if value + 1e-9 >= level.minimum]
    return reached[-1]


class _UniqueKeysLoader(SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a key written twice in one mapping (YAML keeps the last one
    silently: a question answered twice would lose an answer without a word)."""

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise QuestionnaireError(
                    f"« {key} » figure deux fois (ligne {key_node.start_mark.line + 1})"
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_answers(path: Path) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    """An answers file: ``questionnaire`` (optional), ``answers`` {id: value}, ``facts`` {…}."""
    name = Path(path).name
    try:
        document = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeysLoader)  # noqa: S506 (safe loader)
    except OSError as exc:
        raise QuestionnaireError(f"{name} : fichier illisible ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(
            f"{name} : le fichier n'est pas en UTF-8 (octet illisible en position {exc.start}) ; "
            "enregistrez-le en UTF-8"
        ) from exc
    except QuestionnaireError as exc:
        raise QuestionnaireError(f"{name} : {exc}") from exc
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{Path(path).name} : YAML invalide ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("answers", {}), dict):
        raise QuestionnaireError(
            f"{Path(path).name} : « answers » doit associer chaque question à sa réponse"
        )
    stray = [str(key) for key in document if key not in ("questionnaire", "answers", "facts")]
    if stray:
        raise QuestionnaireError(
            f"{name} : clé(s) inconnue(s) {', '.join(f'« {k} »' for k in stray[:5])} ; les "
            "réponses se mettent sous « answers: », une question par ligne, en retrait (« answers: » "
            "puis « G1: oui » à la ligne, précédé de deux espaces)"
        )
    answers = {}
    for key, value in (document.get("answers") or {}).items():
        if value is None:
            continue  # « G1: » left blank: not answered (counted 0 and listed)
        if isinstance(value, bool):  # YAML reads yes/no, true/false, on/off as booleans
            value = "oui" if value else "non"
        answers[str(key)] = str(value)
    facts = dict(document.get("facts") or {})
    check_facts(facts, Path(path).name)
    return document.get("questionnaire"), answers, facts


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def normalise_answers(questionnaire: Questionnaire, answers: dict[str, str]) -> dict[str, str]:
    """Answers as a person writes them from the questionnaire's page — « Oui », « En partie »,
    « Je ne sais pas », « sans objet » — as the scale's values (« oui », « partiel »,
    « ne_sait_pas », « sans_objet »); anything else is left for ``score`` to refuse."""
    found = {}
    for ident, value in answers.items():
        question = questionnaire.question(ident)
        if question is not None and questionnaire.option(question, value) is None:
            wanted = _folded(value)
            value = next(
                (
                    o.value
                    for o in questionnaire.scales[question.scale]
                    if wanted in (_folded(o.value), _folded(o.label))
                ),
                value,
            )
        found[ident] = value
    return found


# The facts careops can supply and their form (anything else in ``facts`` is refused).
FACTS = {
    "ad_level": (int, range(1, 6), "un niveau ANSSI de 1 à 5"),
    "exposure_minimum_met": (bool, None, "vrai ou faux"),
    "backup_verified": (bool, None, "vrai ou faux"),
    "bia_validated": (bool, None, "vrai ou faux"),
}


# How each fact reads on a page: its French wording when true, when false; a level in words.
FACT_WORDS = {
    "ad_level": "dernier audit de l'Active Directory au niveau ANSSI {value}",
    "exposure_minimum_met": (
        "dernier audit d'exposition au niveau minimal",
        "dernier audit d'exposition sous le niveau minimal",
    ),
    "backup_verified": (
        "test de restauration réussi dans l'année",
        "aucun test de restauration réussi dans l'année",
    ),
    "bia_validated": ("analyse d'impact (BIA) validée", "aucune analyse d'impact (BIA) validée"),
}


def fact_text(name: str, value: Any) -> str:
    """What careops observed, in French (« backup_verified = True » meant nothing to a user)."""
    words = FACT_WORDS.get(name)
    if isinstance(words, tuple) and isinstance(value, bool):
        return words[0] if value else words[1]
    if isinstance(words, str):
        return words.format(value=value)
    return f"{name} = {value}"


def check_facts(facts: dict, where: str = "faits") -> None:
    """Refuse an unknown fact or a value of the wrong form (French message)."""
    for name, value in facts.items():
        if name not in FACTS:
            raise QuestionnaireError(
                f"{where} : fait inconnu « {name} » (connus : {', '.join(FACTS)})"
            )
        kind, allowed, label = FACTS[name]
        valid = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not valid or (allowed is not None and value not in allowed):
            raise QuestionnaireError(f"{where} : « {name} » vaut {value!r}, attendu {label}")
