"""``careops exercises scenarios|show``: the scenario library, without Django or a database."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str], prog: str = "careops exercises") -> int:
    from careops.exercises.engine import scenarios

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Exercices de crise : bibliothèque de scénarios, sans base de données.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser(
        "scenarios", help="liste et valide la bibliothèque livrée, ou les fichiers donnés"
    )
    listing.add_argument("files", nargs="*", type=Path, help="fichiers ou dossiers YAML à valider")
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser(
        "show", help="affiche un scénario : objectifs, rôles, chronologie, grille"
    )
    show.add_argument("scenario", help="identifiant (rancongiciel-dpi…) ou fichier YAML")
    show.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.action == "scenarios":
        found, errors = scenarios.validate(args.files or [scenarios.LIBRARY_DIR])
        if args.json:
            payload = {
                "scenarios": [
                    {
                        "id": s.id,
                        "version": s.version,
                        "title": s.title,
                        "injects": len(s.injects),
                        "level": s.level,
                        "duration_minutes": s.duration_minutes,
                        "sha256": s.sha256,
                    }
                    for s in found
                ],
                "errors": errors,
            }
            json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            for s in found:
                print(
                    f"{s.id} (version {s.version}) — {s.title} — niveau {s.level_label}, "
                    f"{s.duration_minutes} min, {len(s.injects)} injects, {len(s.criteria)} critères"
                )
            for error in errors:
                print(f"Erreur : {error}", file=sys.stderr)
            if not found and not errors:
                print("Aucun scénario trouvé.", file=sys.stderr)
        return 2 if errors or not found else 0

    try:
        path = Path(args.scenario)
        scenario = (
            scenarios.read(path)
            if path.suffix in {".yaml", ".yml"}
            else scenarios.load(args.scenario)
        )
    except scenarios.ScenarioError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(scenario.as_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(
        f"{scenario.title} (version {scenario.version}, niveau {scenario.level_label}, {scenario.duration_minutes} min)"
    )
    print(scenario.summary)
    print("Objectifs :")
    for o in scenario.objectives:
        print(f"  {o.id} — {o.text}")
    print("Cellule de crise :")
    for r in scenario.roles:
        print(f"  {r.title}" + (f" : {r.mission}" if r.mission else ""))
    print("Chronologie :")
    for i in scenario.injects:
        to = ", ".join(scenario.role(x).title for x in i.to)
        print(f"  T+{i.offset:>3} min  {i.id} [{i.channel_label}] {i.sender} → {to}")
        print(f"           {i.content}")
        for e in i.expected:
            print(f"           attendu : {e}")
    print(
        "Grille d'observation ("
        + " / ".join(f"{s.value} {s.label}" for s in scenario.scale)
        + ") :"
    )
    for c in scenario.criteria:
        print(f"  {c.id} ({c.objective}) {c.text}")
    if scenario.to_confirm:
        print(f"À confirmer : {scenario.to_confirm}")
    return 0
