"""Synthetic HospiConnect exports in the layouts the engine reads (DPI users, IdP MFA, DMP
activity, Annuaire Santé RPPS extraction), for tests and the benchmark. Deterministic."""

from __future__ import annotations

import random
from pathlib import Path

from careops.hospiconnect.engine.identifiers import with_luhn_key

# Columns of the public Annuaire Santé « PS_LibreAcces_Personne_activite » extraction
# (pipe-separated, one line per professional and activity, trailing separator).
RPPS_HEADER = [
    "Type d'identifiant PP",
    "Identifiant PP",
    "Identification nationale PP",
    "Code civilité d'exercice",
    "Libellé civilité d'exercice",
    "Code civilité",
    "Libellé civilité",
    "Nom d'exercice",
    "Prénom d'exercice",
    "Code profession",
    "Libellé profession",
    "Code catégorie professionnelle",
    "Libellé catégorie professionnelle",
    "Code type savoir-faire",
    "Libellé type savoir-faire",
    "Code savoir-faire",
    "Libellé savoir-faire",
    "Code mode exercice",
    "Libellé mode exercice",
    "Numéro SIRET site",
    "Numéro SIREN site",
    "Numéro FINESS site",
    "Numéro FINESS établissement juridique",
    "Identifiant technique de la structure",
    "Raison sociale site",
    "Enseigne commerciale site",
    "Complément destinataire (coord. structure)",
    "Complément point géographique (coord. structure)",
    "Numéro Voie (coord. structure)",
    "Indice répétition voie (coord. structure)",
    "Code type de voie (coord. structure)",
    "Libellé type de voie (coord. structure)",
    "Libellé Voie (coord. structure)",
    "Mention distribution (coord. structure)",
    "Bureau cedex (coord. structure)",
    "Code postal (coord. structure)",
    "Code commune (coord. structure)",
    "Libellé commune (coord. structure)",
    "Code pays (coord. structure)",
    "Libellé pays (coord. structure)",
    "Téléphone (coord. structure)",
    "Téléphone 2 (coord. structure)",
    "Télécopie (coord. structure)",
    "Adresse e-mail (coord. structure)",
    "Code Département (structure)",
    "Libellé Département (structure)",
    "Ancien identifiant de la structure",
    "Autorité d'enregistrement",
    "Code secteur d'activité",
    "Libellé secteur d'activité",
    "Code section tableau pharmaciens",
    "Libellé section tableau pharmaciens",
    "Code rôle",
    "Libellé rôle",
    "Code genre activité",
    "Libellé genre activité",
]
PROFESSIONS = [
    ("10", "Médecin", 0.25),
    ("60", "Infirmier", 0.40),
    ("21", "Pharmacien", 0.03),
    ("50", "Sage-Femme", 0.03),
    ("70", "Masseur-Kinésithérapeute", 0.04),
]
NON_REGULATED = [("Aide-soignant", 0.15), ("Secrétaire médicale", 0.07), ("Administratif", 0.03)]
MFA = ["CPS", "e-CPS", "FIDO2", "SMS", "mot de passe", "e-CPS", "CPS"]


def rpps(number: int) -> str:
    return with_luhn_key(f"10{number:08d}")


def rpps_line(number: int, code: str, label: str) -> str:
    identifier = rpps(number)
    fields = [
        "8",
        identifier,
        "8" + identifier,
        "DR",
        "Docteur",
        "M",
        "Monsieur",
        f"NOM{number}",
        f"PRENOM{number}",
        code,
        label,
        "C",
        "Civil",
        "S",
        "Spécialité ordinale",
        "SM26",
        "Qualifié en Médecine Générale",
        "S",
        "Salarié",
        "",
        "",
        "450000013",
        "450000005",
        "R10000000000001",
        "CH EXEMPLE",
        "",
        "",
        "",
        "1",
        "",
        "R",
        "Rue",
        "DE LA SANTE",
        "",
        "",
        "45000",
        "45234",
        "Orléans",
        "99000",
        "France",
        "",
        "",
        "",
        "",
        "45",
        "Loiret",
        "",
        "ARS/ONIAM/ORDRE",
        "SA01",
        "Etablissement public de santé",
        "",
        "",
        "FON-01",
        "Titulaire",
        "GENR01",
        "Activité standard",
    ]
    return "|".join(fields) + "|\n"


def write_rpps_extract(path: Path, lines: int, known: list[tuple[int, str, str]]) -> None:
    """``lines`` activity lines; ``known`` (number, code, label) are spread through the file."""
    rng = random.Random(7)
    every = max(1, lines // max(1, len(known)))
    pending = list(known)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("|".join(RPPS_HEADER) + "|\n")
        for index in range(lines):
            if pending and index % every == 0:
                number, code, label = pending.pop()
            else:
                number = 50_000_000 + index
                code, label, _ = rng.choice(PROFESSIONS)
            handle.write(rpps_line(number, code, label))


def write_dpi(
    path: Path, users: int, *, encoding: str = "utf-8", delimiter: str = ";"
) -> list[tuple[int, str, str]]:
    """A DPI export of ``users`` accounts; returns (number, code, label) of those with an RPPS."""
    rng = random.Random(11)
    known = []
    with path.open("w", encoding=encoding, newline="") as handle:
        handle.write(
            delimiter.join(
                [
                    "Identifiant",
                    "Nom",
                    "Prénom",
                    "Profession",
                    "N° RPPS",
                    "Actif",
                    "Dernière connexion",
                    "Authentification",
                ]
            )
            + "\r\n"
        )
        for index in range(users):
            draw = rng.random()
            total = 0.0
            profession = None
            for code, label, share in PROFESSIONS:
                total += share
                if draw < total:
                    profession = (code, label)
                    break
            if profession:
                number = index
                identifier = (
                    rpps(number)
                    if rng.random() > 0.03
                    else ("1234567890" if rng.random() > 0.5 else "")
                )
                known.append((number, profession[0], profession[1]))
                label = profession[1]
            else:
                identifier = ""
                label = rng.choice(NON_REGULATED)[0]
            active = "oui" if rng.random() > 0.05 else "non"
            handle.write(
                delimiter.join(
                    [
                        f"u{index:06d}",
                        f"Nom{index}",
                        f"Prénom{index}",
                        label,
                        identifier,
                        active,
                        "2027-11-02",
                        rng.choice(MFA),
                    ]
                )
                + "\r\n"
            )
    return known


def write_dmp(path: Path, users: int, months: list[str]) -> None:
    rng = random.Random(13)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("mois;compte;consultations TD3.1;consentements;file active\n")
        for month in months:
            handle.write(f"{month};;0;{rng.randint(2500, 3800)};4000\n")
            for index in range(users):
                consultations = rng.randint(1, 9) if rng.random() < 0.45 else 0
                handle.write(f"{month};u{index:06d};{consultations};0;\n")
