"""Awareness engines on real files: sign-in sheets (cp1252 with ;, UTF-8 with BOM and , an XLSX
LMS export), staff headcounts, shares hand-checked, deduplication, malformed files refused with
their lines; GoPhish « Results » exports as GoPhish writes them; the CLI without Django."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from careops.awareness.engine import training
from careops.awareness.engine.phishing import read_campaigns, read_results
from careops.hospiconnect.engine.tables import TableError

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "awareness-examples"
SHEET = EXAMPLES / "emargement-2026-03-12.csv"  # Windows-1252, « ; », CRLF
LMS = EXAMPLES / "export-lms.csv"  # UTF-8 with BOM, « , »
HEADCOUNT = EXAMPLES / "effectifs.csv"
MARCH = EXAMPLES / "Campagne mars 2026 - Results.csv"
OCTOBER = EXAMPLES / "Campagne octobre 2026 - Results.csv"
TODAY = dt.date(2026, 12, 1)
END = dt.date(2026, 11, 30)

PROBE = (
    "import sys; from careops.cli import main\n"
    "try:\n    main(sys.argv[1:])\n"
    "except SystemExit as exit:\n    code = exit.code\n"
    "assert 'django' not in sys.modules, 'Django imported'\nsys.exit(code)\n"
)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-c", PROBE, "awareness", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_sign_in_sheet_in_windows_1252_with_french_headers():
    sheet = training.read_sheet(SHEET, today=TODAY)
    assert sheet.columns == {
        "last_name": "NOM",
        "first_name": "Prénom",
        "profession": "Fonction",
        "structure": "Établissement",
        "date": "Date",
        "status": "Émargement",
    }
    assert len(sheet.rows) == 6 and sheet.absent == 1  # « Absente »
    assert sheet.rows[1].profession == "Aide-soignant" and sheet.rows[0].date == dt.date(
        2026, 3, 12
    )
    # « DUPONT Marie Infirmier » and « Dupont Marie infirmier »: one person
    assert sheet.merged == [[2, 5]]
    assert len(sheet.people) == 4


def test_lms_export_with_bom_commas_full_names_and_completion_status():
    sheet = training.read_sheet(LMS, today=TODAY)
    assert sheet.columns["full_name"] == "Nom complet"
    assert sheet.columns["email"] == "Adresse e-mail"
    assert sheet.columns["status"] == "Statut"
    first = sheet.rows[0]
    assert (first.last_name, first.first_name, first.email) == (
        "DUPONT",
        "Marie",
        "marie.dupont@ch-alpha.test",
    )
    assert first.date == dt.date(2026, 6, 15)  # « 2026-06-15 14:32 »
    assert [r.present for r in sheet.rows] == [True, False, True, True, True, True]  # En cours
    assert sheet.merged == [[4, 5]]  # the same address in another case


def test_dedupe_joins_a_name_without_address_to_the_one_with_it():
    rows = training.read_sheet(SHEET, today=TODAY).rows + training.read_sheet(LMS, today=TODAY).rows
    people, merged = training.dedupe(rows)
    marie = next(p for p in people if p.last_name == "DUPONT")
    assert marie.email == "marie.dupont@ch-alpha.test"
    assert marie.date == dt.date(2026, 6, 15)  # the latest attendance
    assert len(people) == 7  # Marie, Paul, Luc, Julie, Sophie, Hugo, Emma
    # two people named alike in two professions stay two people
    twins = [
        training.Attendance(2, "MARTIN", "Paul", "", "Infirmier", "", dt.date(2026, 1, 1), True),
        training.Attendance(3, "MARTIN", "Paul", "", "Médecin", "", dt.date(2026, 1, 1), True),
    ]
    assert len(training.dedupe(twins)[0]) == 2


def test_shares_hand_checked_per_structure_and_profession_with_roll_up():
    rows = training.read_sheet(SHEET, today=TODAY).rows + training.read_sheet(LMS, today=TODAY).rows
    people, _ = training.dedupe(rows)
    headcounts = training.read_headcount(HEADCOUNT)
    start = training.period_ending(END, 12)
    assert start == dt.date(2025, 12, 1)
    report = training.shares(people, headcounts, start, END)
    by_structure = {s.label: s for s in report.structures}
    alpha, beta = by_structure["CH Alpha"], by_structure["CH Bêta"]
    # CH Alpha: Marie and Sophie (nurses), Paul (care assistant), Emma (doctor) over 10 + 8 + 4
    assert (alpha.total.trained, alpha.total.headcount) == (4, 22)
    assert {p.label: (p.trained, p.headcount) for p in alpha.professions} == {
        "Aide-soignant": (1, 8),
        "Infirmier": (2, 10),
        "Médecin": (1, 4),
    }
    # CH Bêta: Luc (nurse), Julie (administrative); Hugo trained 01/10/2025 is before the period
    assert (beta.total.trained, beta.total.headcount) == (2, 8)
    assert (report.total.trained, report.total.headcount) == (6, 30)
    assert report.total.share == pytest.approx(0.2)
    nurses = next(p for p in report.professions if p.label == "Infirmier")
    assert (nurses.trained, nurses.headcount) == (3, 16)
    assert training.percent(nurses.share) == "18,8 %"
    assert report.warnings == []


def test_twelve_month_periods_and_more_trained_than_staff():
    assert training.period_ending(dt.date(2027, 3, 15)) == dt.date(2026, 3, 16)
    assert training.period_ending(dt.date(2028, 2, 29)) == dt.date(2027, 3, 1)
    assert training.period_ending(dt.date(2026, 12, 31), 1) == dt.date(2026, 12, 1)
    person = training.Person("k", "A", "B", "", "Infirmier", "", dt.date(2026, 5, 1))
    report = training.shares(
        [person, training.Person("j", "C", "D", "", "Sage-femme", "", dt.date(2026, 5, 1))],
        [training.Headcount("", "infirmier", 0)],
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    assert report.total.trained == 2
    assert any("sans effectif déclaré : Ensemble / Sage-femme" in w for w in report.warnings)


def test_an_xlsx_lms_export(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["E-MAIL", "NOM", "PRÉNOM", "Catégorie professionnelle", "Statut", "Terminé le"])
    sheet.append(
        [
            "a.b@ehpad.test",
            "BLANC",
            "Alice",
            "Aide-soignant",
            "Complété",
            dt.datetime(2026, 5, 4, 10, 0),
        ]
    )
    sheet.append(["c.d@ehpad.test", "NOIR", "Chloé", "Infirmier", "Non commencé", None])
    path = tmp_path / "lms.xlsx"
    workbook.save(path)
    read = training.read_sheet(path, default_date=dt.date(2026, 5, 1), today=TODAY)
    assert [(r.email, r.present, r.date) for r in read.rows] == [
        ("a.b@ehpad.test", True, dt.date(2026, 5, 4)),
        ("c.d@ehpad.test", False, dt.date(2026, 5, 1)),  # no date: the session's
    ]


def test_malformed_sheet_lists_every_bad_line_and_imports_nothing(tmp_path):
    bad = tmp_path / "emargement.csv"
    bad.write_text(
        "Nom,Prénom,Courriel,Profession,Date,Présence\n"
        "DUPONT,Marie,marie.dupont@ch.test,Infirmier,12/03/2026,oui\n"
        "MARTIN,Paul,paul.martin(at)ch.test,Infirmier,12/03/2026,oui\n"
        "LEROY,Anne,,Médecin,31/02/2026,oui\n"
        "ROUX,Julie,,Administratif,12/03/2026,peut-être\n"
        ",,,Infirmier,12/03/2026,oui\n"
        "PETIT,Hugo,,Infirmier,12/03/2030,oui\n",
        encoding="utf-8",
    )
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(bad, today=TODAY)
    message = str(caught.value)
    assert "fichier refusé, rien n'est importé (5 problème(s))" in message
    assert "ligne 3, colonne « Courriel » : adresse électronique illisible" in message
    assert "ligne 4, colonne « Date » : date illisible « 31/02/2026 »" in message
    assert "ligne 5, colonne « Présence » : présence illisible « peut-être »" in message
    assert "ligne 6 : ni nom ni adresse électronique" in message
    assert "ligne 7 : date future" in message
    assert [p.line for p in caught.value.problems] == [3, 4, 5, 6, 7]


def test_files_that_are_not_sign_in_sheets(tmp_path):
    other = tmp_path / "liste.csv"
    other.write_text("Matériel;Quantité\nPC;3\n", encoding="utf-8")
    with pytest.raises(
        TableError, match="colonne\\(s\\) obligatoire\\(s\\) introuvable\\(s\\) : profession"
    ):
        training.read_sheet(other, default_date=TODAY, today=TODAY)
    undated = tmp_path / "sans-date.csv"
    undated.write_text("Nom;Profession\nDUPONT;Infirmier\n", encoding="utf-8")
    with pytest.raises(TableError, match="indiquez la date de la séance"):
        training.read_sheet(undated, today=TODAY)
    counts = tmp_path / "effectifs.csv"
    counts.write_text("Profession;Effectif\nInfirmier;12,5\nInfirmier;3\n", encoding="utf-8")
    with pytest.raises(training.TrainingError) as caught:
        training.read_headcount(counts)
    assert "ligne 2 : effectif illisible « 12,5 »" in str(caught.value)
    assert "ligne 3 : « ensemble / Infirmier » déjà donné" not in str(
        caught.value
    )  # line 2 refused


GOPHISH_HEADER = "id,status,ip,latitude,longitude,send_date,reported,modified_date,email,first_name,last_name,position"


def gophish_csv(path, rows):
    lines = [GOPHISH_HEADER]
    for index, (status, reported, position) in enumerate(rows):
        sent = (
            "2027-03-02T09:15:00.123456789Z"
            if status not in ("Scheduled", "Error")
            else "0001-01-01T00:00:00Z"
        )
        lines.append(
            f"r{index:06d},{status},203.0.113.{index % 250},0,0,{sent},{str(reported).lower()},"
            f"2027-03-02T10:00:00Z,agent{index}@chu.test,Prénom,Nom,{position}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_gophish_results_rates_hand_checked(tmp_path):
    rows = (
        [("Email Sent", False, "Infirmier")] * 4
        + [("Email Opened", True, "Infirmier")] * 2
        + [("Clicked Link", False, "Médecin")] * 2
        + [("Submitted Data", False, "Médecin"), ("Submitted Data", True, "'=Administratif")]
        + [("Error", False, "Infirmier"), ("Scheduled", False, "Médecin")]
    )
    campaign = read_results(gophish_csv(tmp_path / "Campagne mars - Results.csv", rows))
    totals = campaign.totals
    assert (totals.targets, totals.delivered) == (12, 10)
    # opened includes clicks and submissions: 2 + 2 + 2 = 6 of the 10 delivered
    assert (totals.opened, totals.clicked, totals.submitted, totals.reported) == (6, 4, 2, 3)
    assert totals.rate("clicked") == pytest.approx(0.4)
    assert campaign.name == "Campagne mars" and campaign.started == "2027-03-02"
    assert (
        campaign.by_position["Médecin"].clicked == 3
        and campaign.by_position["Médecin"].delivered == 3
    )
    assert "=Administratif" in campaign.by_position  # GoPhish's formula escaping undone


def test_the_shipped_gophish_exports_as_papaparse_writes_them():
    """CRLF, no final newline, RFC 3339 nanosecond dates with offsets, quoted and escaped cells."""
    march, october = read_campaigns([OCTOBER, MARCH])  # oldest first
    assert (march.name, march.started) == ("Campagne mars 2026", "2026-03-10")
    t = march.totals
    assert (t.targets, t.delivered, t.opened, t.clicked, t.submitted, t.reported) == (
        12, 11, 7, 5, 2, 2,
    )  # fmt: skip
    t = october.totals
    assert (t.delivered, t.opened, t.clicked, t.submitted, t.reported) == (11, 3, 1, 0, 6)
    assert "-Direction, achats" in october.by_position  # quoted, formula escape undone
    assert set(march.as_json()) == {"name", "started", "totals", "by_position", "unknown_statuses"}
    assert "agent" not in json.dumps(march.as_json())  # no address leaves the engine


def test_the_shipped_exports_are_two_campaigns_with_their_own_target_ids():
    """GoPhish draws a new result id for every target of every campaign: the March and October
    examples share their targets (the same people) but no id, and are never taken for one
    campaign exported twice."""
    header = MARCH.read_text("utf-8").splitlines()[0]
    assert OCTOBER.read_text("utf-8").splitlines()[0] == header  # GoPhish's exact layout

    def ids(path):
        return [line.split(",", 1)[0] for line in path.read_text("utf-8").splitlines()[1:]]

    march, october = ids(MARCH), ids(OCTOBER)
    assert len(set(march)) == len(march) == 12 and len(set(october)) == len(october) == 12
    assert all(len(i) == 7 and i.isalnum() for i in march + october)  # GoPhish's 7-char RId
    assert not set(march) & set(october)
    first, second = read_results(MARCH), read_results(OCTOBER)
    assert first.targets_fingerprint != second.targets_fingerprint
    assert len(read_campaigns([MARCH, OCTOBER])) == 2


def test_wrong_files_refused(tmp_path):
    first = gophish_csv(tmp_path / "B - Results.csv", [("Clicked Link", False, "x")])
    second = gophish_csv(tmp_path / "A - Results.csv", [("Email Sent", False, "x")])
    second.write_text(second.read_text().replace("2027-03-02", "2027-01-10"), encoding="utf-8")
    assert [c.name for c in read_campaigns([first, second])] == ["A", "B"]
    other = tmp_path / "other.csv"
    other.write_text("nom,prénom\nx,y\n", encoding="utf-8")
    with pytest.raises(TableError, match="ce n'est pas un export « Results » de GoPhish"):
        read_results(other)
    events = tmp_path / "Campagne - Events.csv"
    events.write_text(
        'campaign_id,email,time,message,details\n1,a@b.test,2027-03-02T10:00:00Z,Submitted Data,"{""payload"":{""password"":[""x""]}}"\n',
        encoding="utf-8",
    )
    with pytest.raises(TableError, match="c'est l'export « Events » de GoPhish"):
        read_results(events)


def test_cli_without_django():
    done = run_cli("phishing", MARCH, OCTOBER)
    assert done.returncode == 0, done.stderr
    assert "Campagne mars 2026 (2026-03-10) : 11 courriels reçus sur 12" in done.stdout
    assert "clic 45,5 %, saisie 18,2 %, signalement 18,2 %" in done.stdout
    done = run_cli("training", SHEET, LMS, "--effectifs", HEADCOUNT, "--fin", "30/11/2026")
    assert done.returncode == 0, done.stderr
    assert (
        "Période du 01/12/2025 au 30/11/2026 : 6 personne(s) formée(s) sur 30, soit 20 %"
        in done.stdout
    )
    assert "CH Alpha : 4/22 (18,2 %)" in done.stdout and "Infirmier : 3/16 (18,8 %)" in done.stdout
    done = run_cli("training", SHEET, "--effectifs", HEADCOUNT, "--fin", "2026-11-30", "--json")
    data = json.loads(done.stdout)
    assert data["total"] == {"label": "Ensemble", "trained": 4, "headcount": 30, "share": 4 / 30}
    refused = run_cli("training", HEADCOUNT, "--effectifs", HEADCOUNT)
    assert refused.returncode == 2 and "Erreur" in refused.stderr


def test_rows_of_separators_only_are_blank_lines(tmp_path):
    """Excel's « CSV (séparateur : point-virgule) » writes ``;;;;;`` for formatted empty rows
    (the bottom of a printed sign-in sheet): they are skipped like empty lines."""
    sheet = tmp_path / "emargement-excel.csv"
    sheet.write_bytes(
        "Nom;Prénom;Fonction;Date;Émargement;\r\n"
        "DUPONT;Marie;Infirmier;12/03/2026;X;\r\n"
        ";;;;;\r\n"
        "MARTIN;Paul;Aide-soignant;12/03/2026;présent;\r\n"
        ";;;;;\r\n"
        " ; ;;;;\r\n".encode("cp1252")
    )
    read = training.read_sheet(sheet, today=TODAY)
    assert [r.last_name for r in read.rows] == ["DUPONT", "MARTIN"]


def test_a_gophish_target_listed_twice_refuses_the_file(tmp_path):
    """A results export has one row per target (its result id): a file where a target appears
    twice (two exports pasted together) would count that person twice."""
    path = gophish_csv(tmp_path / "Campagne - Results.csv", [("Clicked Link", False, "IDE")] * 3)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(TableError, match="ligne 5 : la cible « r000000 » figure déjà ligne 2"):
        read_results(path)


def test_a_workbook_with_an_empty_chart_sheet_is_refused_in_french(tmp_path):
    """openpyxl cannot reopen an empty chart sheet (even one it wrote): a French refusal, never a
    server error."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Nom", "Fonction", "Présence"])
    book.active.append(["DUPONT", "Infirmier", "oui"])
    book.create_chartsheet("Graphique", 0)
    path = tmp_path / "emargement-avec-graphique.xlsx"
    book.save(path)
    with pytest.raises(
        TableError, match="emargement-avec-graphique.xlsx : classeur Excel illisible"
    ):
        training.read_sheet(path, default_date=TODAY, today=TODAY)


def test_a_cell_longer_than_the_csv_limit_is_a_french_message(tmp_path):
    sheet = tmp_path / "emargement.csv"
    sheet.write_text("Nom;Fonction\n" + "A" * 200_000 + ";IDE\n", encoding="utf-8")
    with pytest.raises(TableError, match="ligne 2 : cellule de plus de 131072 caractères"):
        training.read_sheet(sheet, default_date=TODAY, today=TODAY)
    export = tmp_path / "Campagne - Results.csv"
    export.write_text(
        GOPHISH_HEADER
        + "\nr1,Email Sent,,0,0,2026-01-01T00:00:00Z,false,,a@b.fr,A,B,"
        + "P" * 200_000
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(TableError, match="ligne 2 : cellule de plus de 131072 caractères"):
        read_results(export)


def test_a_damaged_sheet_inside_a_valid_zip_is_refused_in_french(tmp_path):
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    for row in (["Nom", "Fonction", "Présence"], ["DUPONT", "IDE", "oui"], ["MARTIN", "AS", "oui"]):
        book.active.append(row)
    sound = tmp_path / "sain.xlsx"
    book.save(sound)
    damaged = tmp_path / "abime.xlsx"
    with zipfile.ZipFile(sound) as src, zipfile.ZipFile(damaged, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</row><row", b"</row><row <<<", 1)
            out.writestr(item, data)
    with pytest.raises(TableError, match="abime.xlsx, vers la ligne 2 : classeur Excel endommagé"):
        training.read_sheet(damaged, default_date=TODAY, today=TODAY)


def test_a_gophish_export_resaved_by_french_excel_reads_the_same(tmp_path):
    """Opened in Excel and saved again (« CSV (séparateur : point-virgule) »): semicolons,
    Windows-1252, VRAI/FAUX, dates as 10/03/2026 09:00. Same counts, same start date."""
    import csv
    import io

    with MARCH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0])
    for row in rows[1:]:
        row = list(row)
        for index in (5, 7):  # send_date, modified_date
            day, time = row[index][:10], row[index][11:16]
            row[index] = f"{day[8:10]}/{day[5:7]}/{day[:4]} {time}"
        row[6] = "VRAI" if row[6] == "true" else "FAUX"
        writer.writerow(row)
    resaved = tmp_path / "Campagne mars 2026 - Results.csv"
    resaved.write_bytes(out.getvalue().encode("cp1252"))
    original, again = read_results(MARCH), read_results(resaved)
    assert again.totals == original.totals
    assert again.started == original.started == "2026-03-10"
    assert again.by_position == original.by_position


def test_a_structure_cell_merged_down_several_rows_applies_to_each_row(tmp_path):
    """Hand-made sign-in sheets merge the « Établissement » or « Date » cell down the rows of a
    group: Excel shows the value on every row, so every row gets it (not the default)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nom", "Fonction", "Établissement", "Date", "Présence"])
    sheet.append(["DUPONT", "Infirmier", "CH Bêta", "12/03/2026", "oui"])
    sheet.append(["MARTIN", "Infirmier", None, None, "oui"])
    sheet.append(["LEROY", "Médecin", None, None, "oui"])
    sheet.append([None, None, None, None, None])  # a line left for a late signer
    sheet.append(["BERNARD", "Médecin", "CH Alpha", "13/03/2026", "oui"])
    sheet.merge_cells("C2:C5")
    sheet.merge_cells("D2:D5")
    path = tmp_path / "emargement-fusionne.xlsx"
    book.save(path)
    read = training.read_sheet(path, default_date=dt.date(2026, 3, 1), today=TODAY)
    assert [(r.last_name, r.structure, r.date.isoformat()) for r in read.rows] == [
        ("DUPONT", "CH Bêta", "2026-03-12"),
        ("MARTIN", "CH Bêta", "2026-03-12"),
        ("LEROY", "CH Bêta", "2026-03-12"),
        ("BERNARD", "CH Alpha", "2026-03-13"),
    ]


def test_the_same_campaign_exported_twice_counts_once(tmp_path):
    """GoPhish draws one result id per target at launch: a later export of the same campaign
    carries the same ids and send dates, whatever its file name; the latest export is kept."""
    text = MARCH.read_text("utf-8")
    assert "2026-03-10T10:" in text
    later = tmp_path / "Campagne mars 2026 - Results (1).csv"
    later.write_text(
        text.replace("2026-03-10T10:", "2026-03-17T10:").replace("Email Opened", "Clicked Link", 1),
        "utf-8",
    )
    first, again = read_results(MARCH), read_results(later)
    assert first.targets_fingerprint == again.targets_fingerprint != ""
    assert again.name == "Campagne mars 2026" and again.last_change > first.last_change
    for order in ([MARCH, later], [later, MARCH]):
        (kept,) = read_campaigns(order)
        assert kept.totals.clicked == 6 and kept.replaces == [MARCH.name]
    # edited by hand without the id column: nothing says it is the same campaign
    rows = [line.split(",", 1)[1] for line in text.splitlines()]
    bare = tmp_path / "Campagne mars 2026 - sans id - Results.csv"
    bare.write_text("\n".join(rows) + "\n", "utf-8")
    assert read_results(bare).targets_fingerprint == ""
    assert len(read_campaigns([MARCH, bare])) == 2
    done = run_cli("phishing", later, MARCH, OCTOBER)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Campagne mars 2026 (2026-03-10)") == 1
    assert f"(remplace « {MARCH.name} », export antérieur de la même campagne" in done.stdout
    assert "clic 54,5 %" in done.stdout


SHEET_WITH_TITLE = [
    "Feuille d'émargement — Sensibilisation cybersécurité — EHPAD Les Tilleuls;;;",
    "Séance du 12/11/2026 — formateur : RSSI mutualisé;;;",
    ";;;",
    "Nom Prénom;Fonction;Date;Émargement",
    "DUPONT Marie;Infirmière;12/11/2026;X",
    "LEFÈVRE Jean-François;Aide-soignant;12/11/2026;X",
    ";;;",
    "N'GUESSAN Aïcha;Aide-soignante;12/11/2026;présente",
    "Éloïse Bérénice GARÇON;Agent de service hospitalier;12/11/2026;X",
    "MARTIN Paul;Cuisinier;12/11/2026;absent",
    "",
    "O'BRIEN Zoé;Infirmière;12/11/2026;X",
    ";;;",
]


def test_a_sign_in_sheet_with_a_title_above_its_table(tmp_path):
    """Excel sign-in sheets carry a title, the session and blank lines above the table: the
    header is looked for in the first lines, and line numbers stay those of the file."""
    path = tmp_path / "emargement-tilleuls-2026-11-12.csv"
    path.write_bytes(("\r\n".join(SHEET_WITH_TITLE) + "\r\n").encode("cp1252"))
    read = training.read_sheet(path, today=TODAY)
    assert [(r.line, r.last_name, r.first_name, r.present) for r in read.rows] == [
        (5, "DUPONT", "Marie", True),
        (6, "LEFÈVRE", "Jean-François", True),
        (8, "N'GUESSAN", "Aïcha", True),
        (9, "GARÇON", "Éloïse Bérénice", True),
        (10, "MARTIN", "Paul", False),
        (12, "O'BRIEN", "Zoé", True),
    ]
    bad = tmp_path / "emargement-faux.csv"
    lines = list(SHEET_WITH_TITLE)
    lines[7] = "N'GUESSAN Aïcha;Aide-soignante;31/11/2026;présente"
    bad.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    with pytest.raises(training.TrainingError, match="ligne 8, colonne « Date »"):
        training.read_sheet(bad, today=TODAY)
    # the same sheet as a workbook, the title merged over the columns
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in SHEET_WITH_TITLE:
        sheet.append(line.split(";") if line else [])
    sheet.merge_cells("A1:D1")
    xlsx = tmp_path / "emargement.xlsx"
    workbook.save(xlsx)
    assert [r.line for r in training.read_sheet(xlsx, today=TODAY).rows] == [5, 6, 8, 9, 10, 12]
    # no header anywhere: the advice names what works here, not a mapping field it lacks
    none = tmp_path / "liste.csv"
    none.write_text("Titre;;\n;;\nMatériel;Quantité;\nPC;3;\n", encoding="utf-8")
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(none, today=TODAY)
    assert "cherchée dans ses 10 premières lignes" in str(caught.value)
    assert "Correspondance des colonnes" not in str(caught.value)


# --- inputs written by hand the way EHPAD staff and GoPhish produce them --------------------


def ehpad_headcount(tmp_path):
    path = tmp_path / "effectifs.csv"
    path.write_bytes(
        "Structure;Profession;Effectif\r\nEHPAD Les Tilleuls;Infirmier;5\r\n"
        "EHPAD Les Tilleuls;Aide-soignant;10\r\nEHPAD Les Tilleuls;ASH;6\r\n".encode("cp1252")
    )
    return training.read_headcount(path)


def test_professions_written_freely_share_their_profession_headcount(tmp_path):
    """A sign-in sheet prepared in Excel: title block, merged « Établissement » and « Date »,
    a signature column, professions as people write them. « IDE », « Infirmière » and
    « Infirmier(e) » are nurses, « Aide-soignante » an « Aide-soignant »."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "FEUILLE D'ÉMARGEMENT — Sensibilisation à la cybersécurité"
    sheet.merge_cells("A1:F1")
    sheet["A2"] = "Formateur : RSSI mutualisé"
    sheet.append([])
    sheet.append(["Établissement", "NOM", "Prénom", "Fonction", "Date", "Signature"])
    for row in [
        ("EHPAD Les Tilleuls", "DUPONT", "Marie", "IDE", "10/11/2026", "X"),
        (None, "MARTIN", "Jeanne", "Aide-soignante", None, "X"),
        (None, "PETIT", "Paul", "ASH", None, "présent"),
        (None, "ROUX", "Zoé", "Infirmier(e)", None, ""),
        (None, "FAURE", "Luc", "Aide-soignant", None, "x"),
        (None, "MOREL", "Anne", "Infirmière", None, "Oui"),
    ]:
        sheet.append(row)
    sheet.merge_cells("A5:A10")
    sheet.merge_cells("E5:E10")
    path = tmp_path / "emargement-tilleuls.xlsx"
    book.save(path)
    read = training.read_sheet(path, today=TODAY)
    assert len(read.people) == 5 and read.absent == 1  # Zoé ROUX did not sign
    report = training.shares(read.people, ehpad_headcount(tmp_path), dt.date(2025, 12, 1), END)
    (structure,) = report.structures
    assert [(s.label, s.trained, s.headcount) for s in structure.professions] == [
        ("Aide-soignant", 2, 10),
        ("ASH", 1, 6),
        ("Infirmier", 2, 5),
    ]
    assert (structure.total.trained, structure.total.headcount) == (5, 21)
    assert report.warnings == []


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("IDE", "Infirmier"),
        ("Infirmier(e)", "Infirmière"),
        ("Infirmiers", "infirmier"),
        ("Aide-soignante", "Aide soignant"),
        ("AS", "Aide-soignant(e)"),
        ("A.S.H.", "Agent de service hospitalier"),
        ("Éducatrice spécialisée", "Educateur specialise"),
        ("Agente administrative", "Agent administratif"),
    ],
)
def test_profession_key_matches_the_ways_one_profession_is_written(written, same_as):
    assert training.profession_key(written) == training.profession_key(same_as)


def test_distinct_professions_keep_distinct_keys():
    keys = {
        training.profession_key(p)
        for p in ("Infirmier", "Aide-soignant", "ASH", "Médecin", "Cadre de santé", "Psychologue")
    }
    assert len(keys) == 6


def test_a_headcount_file_giving_one_profession_twice_under_two_spellings_is_refused(tmp_path):
    """Imported, the second line would silently replace the first: refused with both lines."""
    path = tmp_path / "effectifs.csv"
    path.write_text("Profession;Effectif\nInfirmier;5\nInfirmière;3\n", encoding="utf-8")
    with pytest.raises(training.TrainingError, match="ligne 3 : « ensemble / Infirmière » déjà"):
        training.read_headcount(path)


def test_a_signature_column_left_empty_on_every_row_is_refused(tmp_path):
    """The sheet typed before the session, signed on paper: nobody would count as trained."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nom", "Prénom", "Fonction", "Date", "Signature"])
    sheet.append(["DURAND", "Luc", "IDE", dt.datetime(2026, 11, 12), None])
    sheet.append(["LEBLANC", "Sara", "AS", dt.datetime(2026, 11, 12), None])
    path = tmp_path / "emargement-papier.xlsx"
    book.save(path)
    with pytest.raises(training.TrainingError) as caught:
        training.read_sheet(path, today=TODAY)
    assert "la colonne « Signature » est vide sur toutes les lignes" in str(caught.value)
    assert "Rien n'est importé" in str(caught.value)


def test_an_lms_export_with_french_long_dates_and_unfinished_learners(tmp_path):
    """Moodle in French writes « mardi 3 novembre 2026, 14:05 »; a learner who has not finished
    has no completion date; the establishment is the « Institution » profile field."""
    path = tmp_path / "moodle.csv"
    path.write_text(
        "Prénom,Nom,Adresse de courriel,Institution,Fonction,Statut,Date d'achèvement\n"
        "Marie,Dupont,marie.dupont@tilleuls.test,EHPAD Les Tilleuls,IDE,Terminé,3 novembre 2026\n"
        'Jeanne,Martin,j.martin@tilleuls.test,EHPAD Les Tilleuls,Aide-soignante,Terminé,"mardi 3 novembre 2026, 14:05"\n'
        "Paul,Petit,,EHPAD Les Tilleuls,ASH,Non terminé,\n"
        "Luc,Faure,l.faure@tilleuls.test,EHPAD Les Tilleuls,AS,Complété,1er déc. 2025\n",
        encoding="utf-8",
    )
    read = training.read_sheet(path, today=TODAY)
    assert [(r.last_name, r.date.isoformat(), r.present, r.structure) for r in read.rows] == [
        ("Dupont", "2026-11-03", True, "EHPAD Les Tilleuls"),
        ("Martin", "2026-11-03", True, "EHPAD Les Tilleuls"),
        ("Petit", TODAY.isoformat(), False, "EHPAD Les Tilleuls"),
        ("Faure", "2025-12-01", True, "EHPAD Les Tilleuls"),
    ]
    assert training.parse_date("31 février 2026") is None
    assert training.parse_date("novembre 2026") is None
    # Moodle's short French date and time (« strftimedatetimeshort »)
    assert training.parse_date("03/11/26, 14:05") == dt.date(2026, 11, 3)


def gophish_results(path, rows, encoding="utf-8"):
    """Rows as GoPhish's « Export CSV → Results » writes them (Papa.unparse, CRLF)."""
    lines = [GOPHISH_HEADER] + [",".join(row) for row in rows]
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def test_a_campaign_sent_after_midnight_in_paris_is_dated_in_paris(tmp_path):
    """GoPhish stores dates in UTC: 23:30Z on 2 November is 00:30 on 3 November in Paris."""
    path = gophish_results(
        tmp_path / "Nuit - Results.csv",
        [
            ["aB7cD2e", "Email Sent", "", "0", "0", "2026-11-02T23:30:00.123456789Z", "false",
             "0001-01-01T00:00:00Z", "a@x.test", "A", "B", "IDE"],
            ["fG4hI8j", "Clicked Link", "192.0.2.1", "0", "0", "2026-11-02T23:30:01Z", "false",
             "2026-11-03T07:30:00Z", "b@x.test", "C", "D", "IDE"],
        ],
    )  # fmt: skip
    assert read_results(path).started == "2026-11-03"


def test_an_empty_export_file_says_it_is_empty(tmp_path):
    path = tmp_path / "Campagne - Results.csv"
    path.write_bytes(b"")
    with pytest.raises(TableError, match="fichier vide"):
        read_results(path)


def test_an_export_where_no_email_was_delivered_says_why_there_is_no_rate(tmp_path):
    """Every target in « Error » (the mail server refused) or still « Scheduled »."""
    path = gophish_results(
        tmp_path / "Erreurs - Results.csv",
        [
            [f"id{i:05d}", "Error", "", "0", "0", "2026-11-03T08:12:44Z", "false",
             "2026-11-03T08:12:45Z", f"a{i}@x.test", "A", "B", "IDE"]
            for i in range(3)
        ]
        + [["id99999", "Scheduled", "", "0", "0", "2026-12-20T08:00:00Z", "false",
            "2026-12-01T08:00:00Z", "z@x.test", "Z", "Y", "ASH"]],
    )  # fmt: skip
    campaign = read_results(path)
    assert (campaign.totals.targets, campaign.totals.delivered) == (4, 0)
    assert "aucun courriel n'a été remis (4 cible(s) : « Error » 3, « Scheduled » 1)" in (
        campaign.nothing_delivered()
    )
    done = run_cli("phishing", path)
    assert done.returncode == 0 and "! aucun courriel n'a été remis" in done.stdout
    assert read_results(MARCH).nothing_delivered() == ""


def test_an_export_saved_again_by_excel_is_not_older_than_itself():
    """Excel keeps the minute of « 2026-03-17T10:00:40 »: the same activity, not older."""
    from careops.awareness.engine.phishing import is_older

    assert not is_older("2026-03-17T10:00", "2026-03-17T10:00:40")
    assert not is_older("2026-03-17T10:00:40", "2026-03-17T10:00")
    assert is_older("2026-03-17T09:59", "2026-03-17T10:00:40")
    assert is_older("2026-03-10T10:00:40", "2026-03-17T10:00:40")
    assert not is_older("", "2026-03-17T10:00:40")


def test_gophish_positions_written_several_ways_are_one_position(tmp_path):
    """Target groups typed by hand: « IDE », « Infirmière », « Infirmier(e) » are the nurses."""
    rows = [
        ("Clicked Link", False, "IDE"),
        ("Email Opened", False, "Infirmière"),
        ("Email Sent", True, "Infirmier(e)"),
        ("Submitted Data", False, "Aide-soignante"),
        ("Email Sent", False, "AS"),
    ]
    campaign = read_results(gophish_csv(tmp_path / "Positions - Results.csv", rows))
    assert set(campaign.by_position) == {"IDE", "Aide-soignante"}
    nurses = campaign.by_position["IDE"]
    assert (nurses.delivered, nurses.opened, nurses.clicked, nurses.reported) == (3, 2, 1, 1)
    assert campaign.by_position["Aide-soignante"].delivered == 2


def test_ticks_and_crosses_in_the_signature_column(tmp_path):
    """A tick (✓, ✔) is a presence and a cross or a dash an absence; an unknown mark (« ? ») is
    refused — before, every mark without a letter was silently an absence."""
    path = tmp_path / "coche.csv"
    path.write_text(
        "Nom;Prénom;Fonction;Date;Signature\nDUPONT;Marie;IDE;10/11/2026;✓\n"
        "MARTIN;Jeanne;AS;10/11/2026;✔\nPETIT;Paul;ASH;10/11/2026;\nROUX;Zoé;IDE;10/11/2026;-\n"
        "FAURE;Luc;AS;10/11/2026;✗\n",
        encoding="utf-8",
    )
    read = training.read_sheet(path, today=TODAY)
    assert [(r.last_name, r.present) for r in read.rows] == [
        ("DUPONT", True),
        ("MARTIN", True),
        ("PETIT", False),
        ("ROUX", False),
        ("FAURE", False),
    ]
    path.write_text(path.read_text("utf-8").replace("✗", "?"), encoding="utf-8")
    with pytest.raises(training.TrainingError, match="ligne 6, colonne « Signature » : présence"):
        training.read_sheet(path, today=TODAY)
