"""``careops maturity score|list|nis2``, without Django or a database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",").replace(",0 %", " %")


def maturity_main(argv: list[str], prog: str = "careops maturity") -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description="Auto-évaluation de la maturité, sans base de données."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    score = sub.add_parser("score", help="note un fichier de réponses")
    score.add_argument(
        "questionnaire", help="identifiant (diagnostic-ms, nis2-art21) ou fichier YAML"
    )
    score.add_argument(
        "answers", type=Path, help="fichier YAML : answers: {question: réponse}, facts: {…}"
    )
    score.add_argument("--json", action="store_true")
    sub.add_parser("list", help="questionnaires livrés")
    nis2 = sub.add_parser(
        "nis2", help="classe NIS 2 (essentielle, importante, hors champ) et sa raison"
    )
    nis2.add_argument(
        "--secteur", required=True, help="sante_es, esms, laboratoire, dispositifs_medicaux"
    )
    nis2.add_argument("--effectif", type=int, required=True, help="nombre de salariés")
    nis2.add_argument("--ca", type=float, default=0, help="chiffre d'affaires annuel, en euros")
    nis2.add_argument("--bilan", type=float, default=0, help="total du bilan annuel, en euros")
    parcours = sub.add_parser(
        "parcours", help="parcours de l'AAP MS : liste, ou parcours proposé pour un niveau"
    )
    parcours.add_argument("--niveau", type=int, help="niveau de maturité validé (1 à 5)")
    parcours.add_argument(
        "--reponses", type=Path, help="fichier de réponses : noté puis parcours proposé"
    )
    parcours.add_argument("--questionnaire", default="diagnostic-ms")
    parcours.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.action == "parcours":
        return _pathways(args)
    if args.action == "nis2":
        from careops.maturity.engine.nis2 import classify

        try:
            result = classify(args.secteur, args.effectif, args.ca, args.bilan)
        except ValueError as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            return 2
        print(f"{result.label[:1].upper()}{result.label[1:]} : {result.reason}")
        if result.to_confirm:
            print(f"À confirmer : {result.to_confirm}")
        return 0

    from careops.maturity.engine import questionnaire as engine

    try:
        if args.action == "list":
            for item in engine.shipped():
                print(f"{item.id} (version {item.version}) — {item.title} — {item.framework}")
            return 0
        questionnaire = engine.load(args.questionnaire)
        declared, answers, facts = engine.read_answers(args.answers)
        answers = engine.normalise_answers(questionnaire, answers)
        if declared and declared != questionnaire.id:
            raise engine.QuestionnaireError(
                f"{args.answers.name} répond au questionnaire « {declared} », pas à « {questionnaire.id} »"
            )
        proposed = engine.prefill(questionnaire, facts, answers)
        scored = [q.id for q in questionnaire.questions if q.scored]
        if not any(q in answers or q in proposed for q in scored):
            print(
                f"{args.answers.name} : aucune réponse à une question notée ; rien à évaluer.",
                file=sys.stderr,
            )
            return 1
        merged = {**{k: v for k, (v, _) in proposed.items()}, **answers}
        result = engine.score(questionnaire, merged, {k: why for k, (_, why) in proposed.items()})
    except engine.QuestionnaireError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(result.as_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{questionnaire.title} (version {questionnaire.version})")
    if result.level is None:
        print("Aucune réponse notée : pas de niveau.")
        return 1
    print(f"Niveau {result.level} « {result.level_label} » — score {_pct(result.score)}")
    for theme in result.themes:
        print(
            f"  {theme.title} : {_pct(theme.score)} (niveau {theme.level or '—'}, {theme.answered}/{theme.shown} réponses)"
        )
    if result.missing:
        print(f"Questions sans réponse (comptées 0) : {', '.join(result.missing)}")
    for ident, why in result.prefilled.items():
        print(f"  {ident} : {why}")
    if result.measures:
        print("Mesures prioritaires :")
        for measure in result.measures[:10]:
            print(
                f"  [{measure.priority}] {measure.question} — {measure.text} ({measure.reference})"
            )
    for warning in result.warnings:
        print(f"! {warning}")
    if questionnaire.to_confirm:
        print(f"À confirmer : {questionnaire.to_confirm}")
    return 0


def _pathways(args) -> int:
    from dataclasses import asdict

    from careops.maturity.engine import pathways
    from careops.maturity.engine import questionnaire as engine

    try:
        catalogue = pathways.load()
        level = args.niveau
        if args.reponses is not None:
            questionnaire = engine.load(args.questionnaire)
            _declared, answers, facts = engine.read_answers(args.reponses)
            answers = engine.normalise_answers(questionnaire, answers)
            proposed = engine.prefill(questionnaire, facts, answers)
            merged = {**{k: v for k, (v, _) in proposed.items()}, **answers}
            level = engine.score(questionnaire, merged).level
        if level is None:
            if args.json:
                json.dump(
                    [asdict(p) for p in catalogue.pathways],
                    sys.stdout,
                    ensure_ascii=False,
                    indent=2,
                )
                sys.stdout.write("\n")
                return 0
            print(f"{catalogue.title} (version {catalogue.version})")
            for p in catalogue.pathways:
                print(f"{p.title} — niveaux {p.min_level} à {p.max_level}")
                for m in p.milestones:
                    print(f"  {m.id} {m.title} (échéance : {m.due_months} mois)")
                    for d in m.deliverables:
                        seen = f" [constaté : {pathways.FACTS[d.fact]}]" if d.fact else ""
                        print(f"    {d.id} {d.title}{seen}")
            print(f"À confirmer : {catalogue.to_confirm}")
            return 0
        proposal = pathways.propose(catalogue, args.questionnaire, level)
    except (engine.QuestionnaireError, pathways.PathwayError) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(asdict(proposal), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"Parcours proposé {proposal.pathway} : {proposal.reason}")
        print("À confirmer par un instructeur de l'ARS de la région de la structure.")
    return 0
