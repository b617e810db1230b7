"""The scenario library as data: every shipped scenario loads and is consistent; a broken file
is refused with a French message naming the file and the place; the clock and grid summary;
the CLI runs without Django."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from careops.exercises.engine import clock, scenarios

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = scenarios.LIBRARY_DIR / "rancongiciel-dpi-v1.yaml"


def test_library_ships_the_five_scenarios_with_roles_injects_and_grid():
    library = {s.id: s for s in scenarios.shipped()}
    assert set(library) >= {
        "rancongiciel-dpi",
        "perte-active-directory",
        "compromission-prestataire",
        "fuite-donnees",
        "rancongiciel-ehpad",
    }
    for scenario in library.values():
        roles = {r.id for r in scenario.roles}
        assert {"directeur_crise", "rssi", "dsi", "communication"} <= roles, scenario.id
        assert scenario.injects[0].offset == 0
        assert all(i.offset <= scenario.duration_minutes for i in scenario.injects)
        assert {c.objective for c in scenario.criteria} <= {o.id for o in scenario.objectives}
        assert scenario.evidence_kind == "crisis_exercise" and "D1.O3" in scenario.evidence_items
        assert "D1.O3" in scenario.to_confirm  # the programme's evidence rule is unknown
        assert len(scenario.sha256) == 64
    ransomware = library["rancongiciel-dpi"]
    assert {"direction_medicale", "cadre_sante"} <= {r.id for r in ransomware.roles}
    # a medico-social structure: no hospital services, the medicines round kept going
    ehpad = library["rancongiciel-ehpad"]
    assert {"idec", "medecin_coordonnateur"} <= {r.id for r in ehpad.roles}
    assert "AAPMS.O1" in ehpad.evidence_items
    assert "urgences" not in " ".join(i.content for i in ehpad.injects).lower()


# A shipped version never changes (an exercise records the digest it was planned with): a
# correction goes into a new file, <id>-v<next version>.yaml, added here.
SHIPPED_DIGESTS = {
    "compromission-prestataire-v1.yaml": "23feab2e172f41ee8e569ce3548af8c126da8304d5f49e420e35d994c8ab402e",
    "fuite-donnees-v1.yaml": "e45fe87efc137ed3ee4cfae39ae91019011dc2e407b6d100cdfc1e7570ed567b",
    "perte-active-directory-v1.yaml": "d46299aec6fcee2de7fb6b1da8e3c5dea38401e4bbe084355a2758c9a86a374b",
    "rancongiciel-dpi-v1.yaml": "8274240c22b4998a59a2d3a095e2f9fe49a0b1d2d7847fc43b31bdd1973ffaba",
    "rancongiciel-ehpad-v1.yaml": "964fc95659c71b4d832f909b734534e01f24faeddafc7c58e07258053cf8582e",
}


def test_shipped_versions_stay_byte_identical():
    found = {p.name: scenarios.read(p).sha256 for p in scenarios.files()}
    assert found == SHIPPED_DIGESTS


def _broken(tmp_path, replace: tuple[str, str], name="rancongiciel-dpi-v1.yaml") -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert replace[0] in text
    path = tmp_path / name
    path.write_text(text.replace(replace[0], replace[1], 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            ("channel: telephone", "channel: pigeon"),
            "rancongiciel-dpi-v1.yaml : injects[1].channel : canal « pigeon » inconnu",
        ),
        (
            ("to: [dsi]", "to: [standardiste]"),
            "injects[1].to : rôle(s) inconnu(s) : standardiste (déclarez-les dans roles)",
        ),
        (("offset: 15", "offset: 900"), "injects[2].offset : 900 min est hors de la durée"),
        (("offset: 15", "offset: quinze"), "injects[2].offset : un nombre entier est attendu"),
        (
            ("objective: O1,", "objective: O9,"),
            "grid.criteria[1].objective : objectif « O9 » inconnu",
        ),
        (("level: intermediaire", "level: expert"), "level : niveau « expert » inconnu"),
        (("  - id: I2\n", "  - id: I1\n"), "injects : identifiant « I1 » en double"),
        (("offset: 140", "offset: 10"), "I8 (10 min) précède I7 (110 min) : rangez la chronologie"),
        (("- {value: 2, label: ", "- {value: 1, label: "), "grid.scale : au moins deux échelons"),
        (('title: "Rançongiciel', 'titre: "Rançongiciel'), "title : champ obligatoire manquant"),
        (
            ("level: intermediaire", "level: intermediaire\nlevel: debutant"),
            "YAML illisible (« level » figure deux fois : la seconde valeur effacerait la première)",
        ),
    ],
)
def test_a_broken_scenario_is_refused_with_a_french_message(tmp_path, replace, message):
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.read(_broken(tmp_path, replace))
    assert message in str(caught.value)


def test_bad_yaml_names_the_line_and_a_wrong_file_name_is_refused(tmp_path):
    path = _broken(tmp_path, ("objectives:\n", "objectives: [\n"))
    with pytest.raises(
        scenarios.ScenarioError, match=r"^rancongiciel-dpi-v1\.yaml:\d+ : YAML illisible"
    ):
        scenarios.read(path)
    renamed = _broken(tmp_path, ("level:", "level:"), name="rancon-v2.yaml")
    with pytest.raises(scenarios.ScenarioError, match="doit s'appeler rancongiciel-dpi-v1.yaml"):
        scenarios.read(renamed)
    (tmp_path / "vide-v1.yaml").write_text("- juste une liste\n", encoding="utf-8")
    with pytest.raises(scenarios.ScenarioError, match="le fichier doit décrire un scénario"):
        scenarios.read(tmp_path / "vide-v1.yaml")


def test_newest_version_wins_and_unknown_ids_list_the_library(tmp_path):
    (tmp_path / "rancongiciel-dpi-v1.yaml").write_bytes(SHIPPED.read_bytes())
    _broken(tmp_path, ('version: "1"', 'version: "1.1"'), name="rancongiciel-dpi-v1.1.yaml")
    assert scenarios.load("rancongiciel-dpi", directory=tmp_path).version == "1.1"
    with pytest.raises(scenarios.ScenarioError, match="disponibles : rancongiciel-dpi"):
        scenarios.load("inondation", directory=tmp_path)


def test_clock_banks_time_across_pauses_and_grid_means_skip_unrated():
    start = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    assert clock.elapsed_seconds(0, start, start + dt.timedelta(minutes=5)) == 300
    assert clock.elapsed_seconds(300, None, start + dt.timedelta(hours=9)) == 300  # paused
    assert clock.elapsed_seconds(300, start, start + dt.timedelta(seconds=65)) == 365
    assert clock.format_elapsed(3909) == "T+01:05:09"
    criteria = [{"id": "G1", "text": "a"}, {"id": "G2", "text": "b"}, {"id": "G3", "text": "c"}]
    results, overall = clock.grid_results(
        criteria, [("G1", 4, "bien"), ("G1", 2, ""), ("G2", None, "pas vu"), ("G3", 3, "")], 4
    )
    assert [(r.mean, r.ratings) for r in results] == [(3.0, 2), (None, 0), (3.0, 1)]
    assert results[1].comments == ("pas vu",)
    assert overall == pytest.approx(0.75)


def _cli(*args: str) -> subprocess.CompletedProcess:
    code = (
        "import sys\nfrom careops import cli\ntry:\n"
        f"    cli.main({list(args)!r})\nexcept SystemExit as exc:\n"
        "    sys.stderr.write(f'exit={exc.code} django={\"django\" in sys.modules}\\n')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CAREOPS_DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )


def test_cli_lists_validates_and_shows_without_django(tmp_path):
    listing = _cli("exercises", "scenarios")
    assert "exit=0 django=False" in listing.stderr, listing.stderr
    assert (
        "rancongiciel-dpi (version 1) — Rançongiciel sur le dossier patient informatisé"
        in listing.stdout
    )
    as_json = _cli("exercises", "scenarios", "--json")
    assert len(json.loads(as_json.stdout)["scenarios"]) >= 4
    bad = _broken(tmp_path, ("channel: telephone", "channel: pigeon"))
    refused = _cli("exercises", "scenarios", str(bad))
    assert "exit=2 django=False" in refused.stderr
    assert (
        "Erreur : rancongiciel-dpi-v1.yaml : injects[1].channel : canal « pigeon » inconnu"
        in refused.stderr
    )
    shown = _cli("exercises", "show", "fuite-donnees")
    assert "T+  0 min  I1 [courriel] Chercheur en sécurité → RSSI" in shown.stdout
    assert "exit=0 django=False" in shown.stderr
    unknown = _cli("exercises", "show", "inondation")
    assert "exit=2" in unknown.stderr and "scénario « inondation » inconnu" in unknown.stderr
