"""``careops awareness phishing|training``, without Django or a database."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path


def _date(text: str) -> dt.date:
    from careops.awareness.engine.training import parse_date

    value = parse_date(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"date illisible « {text} » (jj/mm/aaaa ou aaaa-mm-jj)")
    return value


def main(argv: list[str], prog: str = "careops awareness") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Sensibilisation : formations et exercices d'hameçonnage, sans base de données.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    phishing = sub.add_parser(
        "phishing", help="taux d'ouverture, de clic, de saisie et de signalement d'exports GoPhish"
    )
    phishing.add_argument(
        "files", nargs="+", type=Path, help="exports « Results » de GoPhish (CSV), un par campagne"
    )
    phishing.add_argument("--json", action="store_true")
    training = sub.add_parser(
        "training", help="part du personnel formé par structure et par profession"
    )
    training.add_argument(
        "sheets", nargs="+", type=Path, help="feuilles d'émargement ou exports LMS (CSV ou XLSX)"
    )
    training.add_argument(
        "--effectifs", type=Path, required=True, help="effectifs : structure, profession, effectif"
    )
    training.add_argument(
        "--fin", type=_date, default=None, help="fin de la période (aujourd'hui par défaut)"
    )
    training.add_argument(
        "--mois", type=int, default=12, help="durée de la période en mois (12 par défaut)"
    )
    training.add_argument(
        "--date", type=_date, default=None, help="date de la séance si la feuille n'en a pas"
    )
    training.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.action == "phishing":
        return _phishing(args)
    return _training(args)


def _phishing(args) -> int:
    from careops.awareness.engine.phishing import read_campaigns
    from careops.awareness.engine.training import percent
    from careops.hospiconnect.engine.tables import TableError

    try:
        campaigns = read_campaigns(args.files)
    except TableError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump([c.as_json() for c in campaigns], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    for campaign in campaigns:
        t = campaign.totals
        print(
            f"{campaign.name} ({campaign.started or 'date inconnue'}) : {t.delivered} courriels reçus sur {t.targets}"
        )
        print(
            f"  ouverture {percent(t.rate('opened'))}, clic {percent(t.rate('clicked'))}, "
            f"saisie {percent(t.rate('submitted'))}, signalement {percent(t.rate('reported'))}"
        )
        for position, rates in sorted(campaign.by_position.items()):
            print(
                f"    {position} : clic {percent(rates.rate('clicked'))}, saisie {percent(rates.rate('submitted'))} ({rates.delivered})"
            )
        for earlier in campaign.replaces:
            print(f"  (remplace « {earlier} », export antérieur de la même campagne, non compté)")
        for status, count in campaign.unknown_statuses.items():
            print(f"  ! statut inconnu « {status} » : {count} cible(s) non comptée(s)")
        if campaign.nothing_delivered():
            print(f"  ! {campaign.nothing_delivered()}")
    return 0


def _training(args) -> int:
    from careops.awareness.engine import training as engine

    if args.mois < 1 or args.mois > 120:
        print("Erreur : --mois attend une durée de 1 à 120 mois", file=sys.stderr)
        return 2
    end = args.fin or dt.date.today()
    start = engine.period_ending(end, args.mois)
    try:
        sheets = [
            engine.read_sheet(path, args.date, today=max(end, dt.date.today()))
            for path in args.sheets
        ]
        headcounts = engine.read_headcount(args.effectifs)
    except engine.TableError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    rows = [row for sheet in sheets for row in sheet.rows]
    people, merged = engine.dedupe(rows)
    report = engine.shares(people, headcounts, start, end)
    if args.json:
        data = report.as_json() | {
            "sheets": [s.as_json() for s in sheets],
            "people": len(people),
        }
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    pct = engine.percent
    print(
        f"Période du {start:%d/%m/%Y} au {end:%d/%m/%Y} : {report.total.trained} personne(s) "
        f"formée(s) sur {report.total.headcount}, soit {pct(report.total.share)}"
    )
    for sheet in sheets:
        print(
            f"  {sheet.file} : {len(sheet.rows)} ligne(s), {sheet.absent} absence(s) ou formation(s) "
            f"non terminée(s), {len(sheet.people)} personne(s)"
        )
    if merged:
        print(f"  {len(merged)} personne(s) présente(s) plusieurs fois, comptée(s) une fois")
    for structure in report.structures:
        t = structure.total
        print(f"{structure.label} : {t.trained}/{t.headcount} ({pct(t.share)})")
        for share in structure.professions:
            print(f"    {share.label} : {share.trained}/{share.headcount} ({pct(share.share)})")
    print("Par profession :")
    for share in report.professions:
        print(f"    {share.label} : {share.trained}/{share.headcount} ({pct(share.share)})")
    for warning in report.warnings:
        print(f"! {warning}")
    return 0
