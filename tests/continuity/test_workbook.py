"""The BIA workbook: template, round trip, and bad input located by sheet, row and column."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from careops.continuity.engine.example import example_bia
from careops.continuity.engine.report import analyse_workbook
from careops.continuity.engine.workbook import (
    SHEETS,
    WorkbookError,
    read_workbook,
    workbook_bytes,
)
from tests.continuity.helpers import example_workbook, find_row, normalised, to_bytes


def messages(data: bytes) -> list[str]:
    _, _, problems = analyse_workbook(io.BytesIO(data))
    return [str(p) for p in problems]


def test_template_has_one_sheet_per_concept_instructions_and_drop_downs():
    wb = load_workbook(io.BytesIO(workbook_bytes(None)))
    assert wb.sheetnames == ["Lisez-moi", *SHEETS]
    assert "Ne renommez" in " ".join(str(c.value) for c in wb["Lisez-moi"]["A"]).replace(
        "ne renommez", "Ne renommez"
    )
    kinds = [dv for dv in wb["Activités"].data_validations.dataValidation if dv.type == "list"]
    assert any("Plateau technique" in dv.formula1 for dv in kinds)
    assert any("oui,non" in dv.formula1 for dv in kinds)
    levels = wb["Cotations"].data_validations.dataValidation
    assert any(dv.formula1 == '"0,1,2,3,4"' for dv in levels)
    assert [c.value for c in wb["Cotations"][1]] == [
        "Activité",
        "Type d'impact",
        "1 h",
        "4 h",
        "24 h",
        "72 h",
        "7 j",
        "30 j",
    ]


def test_example_round_trip_is_exact():
    original = example_bia()
    back, problems = read_workbook(io.BytesIO(workbook_bytes(original)))
    assert problems == []
    assert normalised(back) == normalised(original)


def test_not_a_workbook_is_refused():
    with pytest.raises(WorkbookError, match="illisible"):
        read_workbook(io.BytesIO(b"PK not really"))


def test_zip_bomb_is_refused(monkeypatch):
    from careops.continuity.engine import workbook

    monkeypatch.setattr(workbook, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(WorkbookError, match="import refusé"):
        read_workbook(io.BytesIO(workbook_bytes(example_bia())))


def test_wrong_sheet_name():
    wb = example_workbook()
    wb["Activités"].title = "Activites"
    found = messages(to_bytes(wb))
    assert "Activites : feuille « Activites » inconnue" in found
    assert "Activités : feuille « Activités » absente" in found


def test_wrong_column_name():
    wb = example_workbook()
    wb["Activités"]["G1"] = "RTO"
    found = messages(to_bytes(wb))
    assert "Activités, ligne 1, colonne G « RTO » : colonne inconnue" in found


def test_missing_required_column():
    wb = example_workbook()
    wb["Ressources"]["C1"] = None
    found = messages(to_bytes(wb))
    assert "Ressources, ligne 1, colonne « Type » : colonne obligatoire absente" in found


def test_text_where_a_number_is_expected():
    wb = example_workbook()
    row = find_row(wb["Activités"], "URG")
    wb["Activités"][f"G{row}"] = "deux heures"
    found = messages(to_bytes(wb))
    assert (
        f"Activités, ligne {row}, colonne G « RTO (heures) » : nombre attendu, « deux heures » trouvé"
        in found
    )


def test_decimal_comma_is_accepted_as_a_number():
    wb = example_workbook()
    row = find_row(wb["Activités"], "URG")
    wb["Activités"][f"G{row}"] = "1,5"
    bia, problems = read_workbook(io.BytesIO(to_bytes(wb)))
    assert problems == [] and bia.activities[0].rto_seconds == 5400


def test_unknown_resource_in_a_dependency():
    wb = example_workbook()
    ws = wb["Dépendances"]
    ws.append(["URG", "PACS", "forte", "non", ""])
    found = messages(to_bytes(wb))
    assert f"Dépendances, ligne {ws.max_row}, colonne B « Vers » : ressource « PACS » inconnue" in (
        found
    )


def test_dependency_cycle_names_its_path_rows_and_column():
    wb = example_workbook()
    ws = wb["Dépendances"]
    ws.append(["RESEAU", "DPI", "forte", "non", ""])
    rows = [find_row(ws, "AD", "RESEAU"), find_row(ws, "RESEAU", "DPI"), find_row(ws, "DPI", "AD")]
    _, _, problems = analyse_workbook(io.BytesIO(to_bytes(wb)))
    (cycle,) = [p for p in problems if p.message.endswith("AD → RESEAU → DPI → AD")]
    # like every other error: sheet, the rows of the cycle's edges (in its order), the column
    assert (cycle.sheet, cycle.row, cycle.column) == ("Dépendances", rows[0], "B « Vers »")
    assert cycle.as_dict()["rows"] == rows
    lines = ", ".join(str(row) for row in rows)
    assert str(cycle) == (
        f"Dépendances, lignes {lines}, colonne B « Vers » : "
        "cycle de dépendances : AD → RESEAU → DPI → AD"
    )


def test_columns_are_named_by_the_letters_of_the_file_read():
    wb = example_workbook()
    ws = wb["Dépendances"]
    ws.insert_cols(1)  # every column moves one letter to the right
    ws.append([None, "URG", "PACS", "forte", "non", ""])
    found = messages(to_bytes(wb))
    assert f"Dépendances, ligne {ws.max_row}, colonne C « Vers » : ressource « PACS » inconnue" in (
        found
    )


def test_non_monotone_rating_is_located():
    wb = example_workbook()
    ws = wb["Cotations"]
    row = find_row(ws, "URG", "Prise en charge des patients")
    ws[f"E{row}"] = 1  # 24 h, after a 3 at 4 h
    found = messages(to_bytes(wb))
    assert any(
        m.startswith(f"Cotations, ligne {row}, colonne E « 24 h » : cotation non croissante")
        for m in found
    ), found


def test_rating_out_of_scale_and_unknown_activity():
    wb = example_workbook()
    ws = wb["Cotations"]
    row = find_row(ws, "LAB", "Financier")
    ws[f"C{row}"] = 7
    ws.append(["XYZ", "Financier", 0, 0, 0, 0, 0, 0])
    found = messages(to_bytes(wb))
    assert (
        f"Cotations, ligne {row}, colonne C « 1 h » : niveau entier de 0 à 4 attendu, « 7 » trouvé"
        in found
    )
    assert (
        f"Cotations, ligne {ws.max_row}, colonne A « Activité » : activité « XYZ » inconnue (feuille Activités)"
        in found
    )


def test_invalid_code_is_refused():
    wb = example_workbook()
    row = find_row(wb["Ressources"], "DPI")
    wb["Ressources"][f"A{row}"] = 'D"PI <x>'
    found = messages(to_bytes(wb))
    assert any(
        m.startswith(f'Ressources, ligne {row}, colonne A « Code » : code « D"PI <x> » invalide')
        for m in found
    ), found


def test_unknown_choice_and_boolean():
    wb = example_workbook()
    row = find_row(wb["Activités"], "LAB")
    wb["Activités"][f"C{row}"] = "Laboratoire"
    wb["Activités"][f"F{row}"] = "peut-être"
    found = messages(to_bytes(wb))
    assert any(
        m.startswith(
            f"Activités, ligne {row}, colonne C « Type » : valeur « Laboratoire » inconnue"
        )
        for m in found
    )
    assert (
        f"Activités, ligne {row}, colonne F « Impact patient majeur » : « oui » ou « non » attendu, « peut-être » trouvé"
        in found
    )


def test_cli_template_and_analyze(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "bia.xlsx"
    call_command("bia", "template", str(path), "--exemple")
    capsys.readouterr()
    call_command("bia", "analyze", str(path), "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["valid"] and data["coverage"]["met"]
    assert [w["label"] for w in data["waves"]][0] == "Vague 0 — socle de confiance"
    call_command("bia", "analyze", str(path))
    text = capsys.readouterr().out
    assert "URG" in text and "DMIA 4 h" in text and "BIA complet" in text

    wb = load_workbook(path)
    wb["Dépendances"].append(["URG", "PACS"])
    wb.save(path)
    with pytest.raises(CommandError, match="1 erreur"):
        call_command("bia", "analyze", str(path))
    assert "ressource « PACS » inconnue" in capsys.readouterr().out
    blank = tmp_path / "vierge.xlsx"
    call_command("bia", "template", str(blank))
    call_command("bia", "analyze", str(blank))
    text = capsys.readouterr().out
    assert "aucune activité analysée" in text
    # the missing D2.O1.C perimeters are named in words, not by their referential keys
    assert "manque service de soins à impact majeur" in text
    assert "care_service_major_impact" not in text


def test_cli_template_never_overwrites_a_workbook_unless_forced(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "bia.xlsx"
    call_command("bia", "template", str(path), "--exemple")
    filled = path.read_bytes()
    with pytest.raises(CommandError, match="existe déjà"):
        call_command("bia", "template", str(path))
    assert path.read_bytes() == filled
    call_command("bia", "template", str(path), "--force")
    assert path.read_bytes() != filled


def test_cli_needs_no_database(tmp_path):
    """``careops bia`` runs with an unreachable database."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "DJANGO_SETTINGS_MODULE": "careops.settings",
        "CAREOPS_DATA_DIR": str(tmp_path / "data"),
        "CAREOPS_DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    path = tmp_path / "bia.xlsx"
    cli = [sys.executable, "-m", "careops.cli", "bia"]
    subprocess.run([*cli, "template", str(path), "--exemple"], env=env, check=True, timeout=120)
    done = subprocess.run(
        [*cli, "analyze", str(path), "--json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["valid"] is True


def test_threshold_out_of_scale_names_its_row_and_column():
    wb = example_workbook()
    ws = wb["Paramètres"]
    row = find_row(ws, "Seuil d'acceptabilité")
    ws[f"B{row}"] = 9
    found = messages(to_bytes(wb))
    assert f"Paramètres, ligne {row}, colonne B « Valeur » : seuil 9 hors de l'échelle" in found


def test_cli_refuses_a_row_beyond_excel_s_last_naming_the_file(tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from tests.security.test_hostile_tables import inline_row, patched_workbook

    path = tmp_path / "bia.xlsx"
    path.write_bytes(
        patched_workbook(
            workbook_bytes(None), "sheet8", inline_row(2_000_000_000, {"A": "X", "B": "Y"})
        )
    )
    with pytest.raises(CommandError) as caught:
        call_command("bia", "analyze", str(path))
    assert str(caught.value).startswith(
        "bia.xlsx : Feuille « Activités » : ligne 1048577 au-delà de la dernière ligne d'Excel"
    )
