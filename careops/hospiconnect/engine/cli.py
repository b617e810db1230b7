"""``careops hospiconnect indicators``: the indicators from the exports, without Django or a database."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_BLOCKING, EXIT_UNREADABLE = 0, 1, 2


def _mapping(values: list[str]) -> dict[str, dict]:
    """``--colonnes dpi.rpps="N° RPPS"`` → {"dpi": {"rpps": "N° RPPS"}}."""
    mappings: dict[str, dict] = {}
    for value in values:
        target, _, header = value.partition("=")
        source, _, column = target.partition(".")
        if not header or not column:
            raise SystemExit(
                f"--colonnes : « {value} » attendu sous la forme fichier.colonne=En-tête"
            )
        mappings.setdefault(source, {})[column] = header
    return mappings


def _date(text: str) -> dt.date:
    """``--as-of``: an ISO date, or a French argparse error."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"date invalide « {text} » (AAAA-MM-JJ attendu, ex. 2027-11-30)"
        ) from None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",").replace(",0 %", " %")


def as_text(report) -> str:
    lines = [
        f"Indicateurs HospiConnect au {dt.date.fromisoformat(report.as_of).strftime('%d/%m/%Y')}"
    ]
    counts = report.counts
    lines.append(
        f"  {counts['dpi_accounts']} comptes du DPI, {counts['active_accounts']} actifs, "
        f"{counts['regulated']} de professions réglementées, {counts['doctors_and_nurses']} médecins et infirmiers"
    )
    if report.month:
        lines.append(f"  Mois de référence de l'activité DMP : {report.month}")
    for indicator in report.indicators:
        figures = (
            f"{_pct(indicator.ratio)} ({indicator.numerator} / {indicator.denominator})"
            if indicator.ratio is not None
            else f"non calculable : {indicator.reason}"
        )
        lines.append(f"\n• {indicator.label} : {figures}")
        for item in indicator.items:
            if item["target"] is None:
                continue
            verdict = "—" if item["met"] is None else ("atteint" if item["met"] else "non atteint")
            lines.append(
                f"    {item['id']} (cible {_pct(item['target'])}, {item['year']}) : {verdict}"
            )
        if indicator.to_confirm:
            lines.append(f"    à confirmer : {indicator.to_confirm}")
        for failing in indicator.failing[:10]:
            lines.append(f"    ✗ {failing.account} {failing.name} — {failing.reason}")
        if indicator.failing_count > 10:
            lines.append(
                f"    … et {indicator.failing_count - 10} autre(s) compte(s) (--json pour la liste)"
            )
        if indicator.trend:
            lines.append(
                "    évolution : "
                + ", ".join(f"{p['month']} {_pct(p['ratio'])}" for p in indicator.trend[-12:])
            )
    if report.problems:
        lines.append("\nProblèmes :")
        lines += [f"  {'✗' if p.blocking else '!'} {p.as_text()}" for p in report.problems]
        lines += [f"  … {count} autre(s) : {kind}" for kind, count in report.overflow.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str = "careops hospiconnect") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Indicateurs HospiConnect calculés à partir des exports de l'établissement, sans base de données.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    indicators = sub.add_parser("indicators", help="calcule les indicateurs (RPPS, MIE 2FA, DMP)")
    indicators.add_argument(
        "--dpi", required=True, type=Path, help="export des utilisateurs du DPI (CSV ou XLSX)"
    )
    indicators.add_argument(
        "--rpps", type=Path, help="extraction RPPS de l'Annuaire Santé (fichier « | »)"
    )
    indicators.add_argument(
        "--mfa", type=Path, help="export de l'IdP ou de l'annuaire : comptes et moyen 2FA"
    )
    indicators.add_argument(
        "--ad",
        type=Path,
        help="collecte Active Directory (careops ad collect) : comptes à carte à puce obligatoire",
    )
    indicators.add_argument(
        "--dmp",
        type=Path,
        help="activité DMP mensuelle : consultations TD3.1, consentements, file active",
    )
    indicators.add_argument(
        "--as-of",
        type=_date,
        default=None,
        help="date de la mesure (AAAA-MM-JJ ; défaut : aujourd'hui)",
    )
    indicators.add_argument(
        "--colonnes",
        "--columns",
        action="append",
        default=[],
        metavar="FICHIER.COLONNE=EN-TÊTE",
        help='correspondance d\'une colonne, ex. dpi.rpps="N° RPPS"',
    )
    indicators.add_argument(
        "--json", action="store_true", help="sortie JSON (indicateurs, comptes en échec, preuves)"
    )
    args = parser.parse_args(argv)

    from careops.hospiconnect.engine.indicators import compute
    from careops.hospiconnect.engine.tables import TableError

    try:
        report = compute(
            args.dpi,
            rpps_extract=args.rpps,
            mfa=args.mfa,
            ad=args.ad,
            dmp=args.dmp,
            as_of=args.as_of or dt.date.today(),
            mappings=_mapping(args.colonnes),
        )
    except TableError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.json:
        json.dump(report.as_json(), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(as_text(report))
    if report.blocking:
        print(
            "Des erreurs bloquantes empêchent de retenir ces indicateurs comme preuves.",
            file=sys.stderr,
        )
        return EXIT_BLOCKING
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
