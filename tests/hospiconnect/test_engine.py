"""HospiConnect indicators from exports: hand-checked figures, encodings, columns, bad input."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from careops.hospiconnect.engine import identifiers
from careops.hospiconnect.engine.indicators import compute
from careops.hospiconnect.engine.tables import TableError
from tests.hospiconnect.synthetic import rpps, rpps_line, write_rpps_extract

AS_OF = dt.date(2027, 11, 30)
HEADER = ["Identifiant", "Nom", "Profession", "N° RPPS", "Actif", "Authentification"]
# Hand-checked population (active unless said):
#  doctors: d1 (RPPS ok, CPS), d2 (RPPS ok, SMS), d3 (no RPPS, e-CPS)
#  nurses: n1 (RPPS ok, FIDO2), n2 (RPPS wrong key, password), n3 (inactive, RPPS ok, CPS)
#  pharmacist p1 (RPPS ok, e-CPS); secretary s1 (no RPPS, CPS); aide-soignant a1 (no RPPS, none)
ROWS = [
    ["d1", "Martin", "Médecin", rpps(1), "oui", "CPS"],
    ["d2", "Bernard", "Praticien hospitalier", rpps(2), "oui", "SMS"],
    ["d3", "Durand", "médecin anesthésiste", "", "oui", "e-CPS"],
    ["n1", "Petit", "IDE", rpps(4), "oui", "Clé FIDO2"],
    [
        "n2",
        "Robert",
        "Infirmière",
        rpps(5)[:-1] + str((int(rpps(5)[-1]) + 1) % 10),
        "oui",
        "mot de passe",
    ],
    ["n3", "Richard", "Infirmier", rpps(6), "non", "CPS"],
    ["p1", "Dubois", "Pharmacien", rpps(7), "oui", "e-CPS"],
    ["s1", "Moreau", "Secrétaire médicale", "", "oui", "CPS"],
    ["a1", "Laurent", "Aide-soignante", "", "oui", ""],
]


def write_csv(path: Path, rows=ROWS, header=HEADER, encoding="utf-8", delimiter=";"):
    text = "\r\n".join(delimiter.join(row) for row in [header, *rows]) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def by_id(report):
    return {indicator.id: indicator for indicator in report.indicators}


def test_rpps_key_is_luhn_over_eleven_digits():
    good = rpps(42)
    assert identifiers.rpps_problem(good) is None
    assert identifiers.rpps_problem("8" + good) is None  # identification nationale PP
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert "clé de contrôle" in identifiers.rpps_problem(bad)
    assert "11 chiffres" in identifiers.rpps_problem(good[:-1])
    assert identifiers.rpps_problem("") == "RPPS absent"


def test_hand_checked_population(tmp_path):
    report = compute(write_csv(tmp_path / "dpi.csv"), as_of=AS_OF)
    indicators = by_id(report)
    assert report.counts["dpi_accounts"] == 9 and report.counts["active_accounts"] == 8
    # regulated active: d1 d2 d3 n1 n2 p1 → RPPS valid for d1 d2 n1 p1
    assert (indicators["rpps_regulated"].numerator, indicators["rpps_regulated"].denominator) == (
        4,
        6,
    )
    assert {f.account for f in indicators["rpps_regulated"].failing} == {"d3", "n2"}
    assert "clé de contrôle" in next(
        f.reason for f in indicators["rpps_regulated"].failing if f.account == "n2"
    )
    # all active users: 4 / 8
    assert (indicators["rpps_all"].numerator, indicators["rpps_all"].denominator) == (4, 8)
    # doctors and nurses active: d1 d2 d3 n1 n2 → MIE 2FA: d1 (CPS), d3 (e-CPS), n1 (FIDO2)
    mfa = indicators["mfa_doctors_nurses"]
    assert (mfa.numerator, mfa.denominator) == (3, 5)
    assert {f.account: f.reason for f in mfa.failing} == {
        "d2": "pas de MIE 2FA (moyen : SMS)",
        "n2": "pas de MIE 2FA (moyen : Mot de passe seul)",
    }
    # everyone active: + p1 (e-CPS) and s1 (CPS); a1 has none → 5 / 8
    assert (indicators["mfa_all"].numerator, indicators["mfa_all"].denominator) == (5, 8)
    assert "aucun moyen" in next(
        f.reason for f in indicators["mfa_all"].failing if f.account == "a1"
    )
    # 2027: HC.2027.1.3 (100 %) is the item of the year, not met; its evidence is scoped to it
    item = next(i for i in mfa.items if i["id"] == "HC.2027.1.3")
    assert item["target"] == 1.0 and item["met"] is False and item["current_year"]
    evidence = {e["kind"]: e for e in report.evidence}
    assert evidence["mfa_coverage"]["objectives"] == ["HC.2027.1.3"]
    assert evidence["mfa_coverage"]["attributes"] == {"numerator": 3, "denominator": 5}
    assert "dmp_viewing" not in evidence  # no DMP activity given


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ";"), ("utf-8-sig", ";"), ("cp1252", ";"), ("latin-1", ","), ("utf-8", "\t")],
)
def test_encodings_and_separators_give_the_same_figures(tmp_path, encoding, delimiter):
    reference = compute(write_csv(tmp_path / "ref.csv"), as_of=AS_OF)
    other = compute(
        write_csv(tmp_path / "x.csv", encoding=encoding, delimiter=delimiter), as_of=AS_OF
    )
    assert [(i.id, i.numerator, i.denominator) for i in other.indicators] == [
        (i.id, i.numerator, i.denominator) for i in reference.indicators
    ]
    assert not other.problems


def test_xlsx_export_is_read_like_the_csv(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    workbook.save(tmp_path / "dpi.xlsx")
    report = compute(tmp_path / "dpi.xlsx", as_of=AS_OF)
    assert (by_id(report)["mfa_all"].numerator, by_id(report)["mfa_all"].denominator) == (5, 8)


def test_missing_column_names_what_was_found_and_mapping_fixes_it(tmp_path):
    header = ["Identifiant", "Nom", "Profession", "Numéro pro", "Actif", "Authentification"]
    path = write_csv(tmp_path / "dpi.csv", header=header)
    with pytest.raises(TableError) as refused:
        compute(path, as_of=AS_OF)
    assert "colonne(s) obligatoire(s) introuvable(s) : RPPS" in str(refused.value)
    assert "Numéro pro" in str(refused.value)
    report = compute(path, as_of=AS_OF, mappings={"dpi": {"rpps": "Numéro pro"}})
    assert by_id(report)["rpps_all"].numerator == 4
    with pytest.raises(TableError, match="« Matricule » choisie pour « RPPS » est absente"):
        compute(path, as_of=AS_OF, mappings={"dpi": {"rpps": "Matricule"}})


def test_duplicate_accounts_block_with_line_numbers_and_file_no_evidence(tmp_path):
    rows = [*ROWS, ["D1", "Martin bis", "Médecin", rpps(9), "oui", "CPS"]]
    report = compute(write_csv(tmp_path / "dpi.csv", rows=rows), as_of=AS_OF)
    assert report.blocking
    problem = next(p for p in report.problems if "double" in p.message)
    assert problem.line == 11 and "déjà ligne 2" in problem.message
    assert report.evidence == []


def test_mixed_encoding_is_refused_with_its_line(tmp_path):
    path = tmp_path / "dpi.csv"
    good = ("\r\n".join(";".join(row) for row in [HEADER, *ROWS]) + "\r\n").encode("utf-8")
    filler = b"".join(f"x{i};N;Administratif;;oui;CPS\r\n".encode() for i in range(60_000))
    path.write_bytes(good + filler + "z1;Zoé;Infirmière;;oui;CPS\r\n".encode("cp1252"))
    with pytest.raises(TableError, match="caractère illisible en utf-8"):
        compute(path, as_of=AS_OF)


def test_rpps_extract_confirms_people_and_professions(tmp_path):
    dpi = write_csv(tmp_path / "dpi.csv")
    extract = tmp_path / "PS_LibreAcces_Personne_activite.txt"
    # d1 and p1 exist; d2 is a nurse in the national directory; n1 is unknown to it
    write_rpps_extract(
        extract, 500, [(1, "10", "Médecin"), (7, "21", "Pharmacien"), (2, "60", "Infirmier")]
    )
    report = compute(dpi, rpps_extract=extract, as_of=AS_OF)
    indicators = by_id(report)
    failing = {f.account: f.reason for f in indicators["rpps_all"].failing}
    assert failing["n1"] == f"RPPS {rpps(4)} absent de l'extraction RPPS fournie"
    assert "d1" not in failing and "p1" not in failing
    assert any("l'extraction fait foi" in p.message and p.line == 3 for p in report.problems)
    assert not report.blocking
    assert report.inputs["rpps"]["found"] == 3


def test_extract_in_windows_1252_with_national_identifiers(tmp_path):
    extract = tmp_path / "extraction.txt"
    header = "Type d'identifiant PP|Identification nationale PP|Nom d'exercice|Code profession|Libellé profession|\n"
    body = "8|8" + rpps(1) + "|NOM|10|Médecin|\n"
    extract.write_bytes((header + body).encode("cp1252"))
    report = compute(write_csv(tmp_path / "dpi.csv"), rpps_extract=extract, as_of=AS_OF)
    assert "d1" not in {f.account for f in by_id(report)["rpps_all"].failing}


def test_not_an_extract_is_refused(tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("a|b|c\n1|2|3\n", encoding="utf-8")
    with pytest.raises(TableError, match="ce n'est pas une extraction RPPS"):
        compute(write_csv(tmp_path / "dpi.csv"), rpps_extract=other, as_of=AS_OF)


def test_idp_export_overrides_the_dpi_column(tmp_path):
    mfa = tmp_path / "idp.csv"
    mfa.write_text(
        "sAMAccountName,Méthode\nCARE\\d2,FIDO2\nn2@chu.fr,e-CPS\nghost,CPS\nd1,SMS\n",
        encoding="utf-8",
    )
    report = compute(write_csv(tmp_path / "dpi.csv"), mfa=mfa, as_of=AS_OF)
    indicator = by_id(report)["mfa_doctors_nurses"]
    # d1 now SMS (fails), d2 FIDO2 and n2 e-CPS (pass), d3 e-CPS, n1 FIDO2 → 4 / 5
    assert (indicator.numerator, indicator.denominator) == (4, 5)
    assert report.inputs["mfa"]["accounts_not_in_dpi"] == 1


def test_dmp_viewing_consent_access_and_trend(tmp_path):
    dmp = tmp_path / "dmp.csv"
    dmp.write_text(
        "mois;compte;consultations TD3.1;consentements;file active\n"
        "2027-09;;0;2400;4000\n2027-10;;0;3000;4000\n2027-11;;0;3100;4000\n"
        "2027-10;d1;3;0;\n2027-10;d2;1;0;\n"
        "11/2027;d1;2;0;\n2027-11;n1;1;0;\n2027-11;p1;4;0;\n"
        "2027-12;d2;5;0;\n2027-12;;0;3900;4000\n",
        encoding="utf-8",
    )
    report = compute(write_csv(tmp_path / "dpi.csv"), dmp=dmp, as_of=AS_OF)
    indicators = by_id(report)
    assert report.month == "2027-11"  # December is after the measure date
    # authorised (no DMP column): active doctors and nurses d1 d2 d3 n1 n2; November: d1, n1
    viewing = indicators["dmp_viewing"]
    assert (viewing.numerator, viewing.denominator) == (2, 5)
    assert [(p["month"], p["numerator"]) for p in viewing.trend] == [("2027-10", 2), ("2027-11", 2)]
    consent = indicators["dmp_consent"]
    assert (consent.numerator, consent.denominator) == (3100, 4000)
    assert [p["month"] for p in consent.trend] == ["2027-09", "2027-10", "2027-11"]
    assert (
        next(i for i in consent.items if i["id"] == "HC.2027.2.1")["met"] is True
    )  # 77.5 % ≥ 75 %
    access = indicators["dmp_access"]  # 12 months: d1, d2, n1
    assert (access.numerator, access.denominator) == (3, 5)
    kinds = {e["kind"] for e in report.evidence}
    assert {"dmp_viewing", "dmp_consent", "mfa_coverage"} <= kinds


def test_evidence_is_what_careops_evaluate_reads(tmp_path):
    dmp = tmp_path / "dmp.csv"
    dmp.write_text(
        "mois;compte;consultations;consentements;file active\n2027-11;;0;3100;4000\n2027-11;d1;1;0;\n",
        encoding="utf-8",
    )
    report = compute(write_csv(tmp_path / "dpi.csv"), dmp=dmp, as_of=AS_OF)
    dossier = {
        "domain": "HOSPICONNECT",
        "candidate": {"name": "CH Exemple", "finess": "450000013", "kind": "ej"},
        "entities": [{"finess": "450000013", "name": "CH Exemple", "level": "EJ", "weight": 1}],
        "as_of": AS_OF.isoformat(),
        "evidence": report.evidence,
    }
    path = tmp_path / "dossier.json"
    path.write_text(json.dumps(dossier), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "careops.cli", "evaluate", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statuses = {item["id"]: item["status"] for item in json.loads(result.stdout)["results"]}
    assert statuses["HC.2027.2.1"] == "met"  # 77.5 % of the file active
    assert statuses["HC.2027.1.3"] == "not_met"  # 3 / 5 doctors and nurses


def test_cli_runs_without_django_and_exits_by_outcome(tmp_path):
    dpi = write_csv(tmp_path / "dpi.csv")
    probe = (
        "import sys; from careops.cli import main\n"
        "try:\n    main(['hospiconnect', 'indicators', '--dpi', sys.argv[1], '--as-of', '2027-11-30', '--json'])\n"
        "except SystemExit as exit:\n    code = exit.code\n"
        "assert 'django' not in sys.modules, 'Django imported'\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(dpi)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["counts"]["active_accounts"] == 8 and data["blocking"] is False
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "careops.cli",
            "hospiconnect",
            "indicators",
            "--dpi",
            str(dpi),
            "--as-of",
            "2027-11-30",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert text.returncode == 0
    assert "Médecins et infirmiers équipés d'un MIE 2FA : 60 % (3 / 5)" in text.stdout
    assert "HC.2027.1.3 (cible 100 %, 2027) : non atteint" in text.stdout
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "careops.cli",
            "hospiconnect",
            "indicators",
            "--dpi",
            str(tmp_path / "absent.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "fichier introuvable" in missing.stderr


def test_half_a_million_lines_error_names_the_last_line(tmp_path):
    path = tmp_path / "dpi.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(";".join(HEADER) + "\n")
        for index in range(500_000):
            handle.write(f"u{index};N;Aide-soignant;;oui;CPS\n")
        handle.write("u7;N;Aide-soignant;;oui;CPS\n")
    report = compute(path, as_of=AS_OF)
    assert report.counts["dpi_accounts"] == 500_000
    duplicate = next(p for p in report.problems if "double" in p.message)
    assert duplicate.line == 500_002 and "déjà ligne 9" in duplicate.message


def test_rpps_line_has_the_extract_width():
    from tests.hospiconnect.synthetic import RPPS_HEADER

    assert rpps_line(1, "10", "Médecin").count("|") == len(RPPS_HEADER)


def test_ad_collection_smart_card_logon_counts_as_a_mie(tmp_path):
    from careops.directory.engine.dump import Dump, save_dump

    def user(name, uac):
        return {
            "dn": f"CN={name},CN=Users,DC=chu,DC=test",
            "a": {
                "objectclass": ["top", "person", "organizationalPerson", "user"],
                "samaccountname": [name],
                "useraccountcontrol": [str(uac)],
            },
        }

    dump = Dump(
        domain="chu.test",
        domain_sid="S-1-5-21-1-2-3",
        collected_at="2027-11-29T10:00:00+00:00",
        naming_contexts={"default": "DC=chu,DC=test"},
        objects=[user("d2", 0x200 | 0x40000), user("n2", 0x200), user("a1", 0x200 | 0x40000)],
    )
    save_dump(dump, tmp_path / "ad.json.gz")
    report = compute(write_csv(tmp_path / "dpi.csv"), ad=tmp_path / "ad.json.gz", as_of=AS_OF)
    indicators = by_id(report)
    # d2 (SMS in the DPI) logs on with a smart card: 4 / 5 doctors and nurses; n2 still fails
    assert (
        indicators["mfa_doctors_nurses"].numerator,
        indicators["mfa_doctors_nurses"].denominator,
    ) == (4, 5)
    assert report.inputs["ad"] == {"domain": "chu.test", "smart_card_accounts": 2, "applied": 2}
    assert "a1" not in {f.account for f in indicators["mfa_all"].failing}
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(TableError, match="broken.json.gz : Fichier de collecte"):
        compute(write_csv(tmp_path / "dpi.csv"), ad=broken, as_of=AS_OF)


def test_an_unclosed_quote_is_named_with_its_line(tmp_path):
    rows = [*ROWS[:3], ['"d9', "Quote", "Médecin", "", "oui", "CPS"], *ROWS[3:]]
    with pytest.raises(TableError, match="ligne 5 : guillemet ouvrant sans guillemet fermant"):
        compute(write_csv(tmp_path / "dpi.csv", rows=rows), as_of=AS_OF)


def test_xlsx_with_a_stale_stated_size_is_read_whole(tmp_path):
    import re
    import zipfile

    workbook = openpyxl.Workbook()
    for row in [HEADER, *ROWS]:
        workbook.active.append(row)
    workbook.save(tmp_path / "full.xlsx")
    stale = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(tmp_path / "full.xlsx") as source, zipfile.ZipFile(stale, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:F2"/>', data)
            target.writestr(item, data)
    assert compute(stale, as_of=AS_OF).counts["dpi_accounts"] == len(ROWS)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 pas un classeur")
    with pytest.raises(TableError, match="ce n'est pas un fichier XLSX valide"):
        compute(broken, as_of=AS_OF)


def test_cli_refuses_an_impossible_measure_date_in_french(tmp_path, capsys):
    from careops.commandkit import french_argparse
    from careops.hospiconnect.engine.cli import main

    french_argparse()
    dpi = tmp_path / "dpi.csv"
    dpi.write_text(
        "Identifiant;Profession;N° RPPS\njdupont;Médecin;10001234565\n", encoding="utf-8"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["indicators", "--dpi", str(dpi), "--as-of", "2027-13-01"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "date invalide « 2027-13-01 » (AAAA-MM-JJ attendu" in error
    assert "fromisoformat" not in error


def _bomb_workbook(path, megabytes):
    """A valid xlsx whose first cell holds ``megabytes`` MiB of « A » (a few KB on disk)."""
    import io
    import zipfile

    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, source.read(item.filename))
                continue
            head = source.read(item.filename).split(b"<sheetData>")[0]
            with target.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(head + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
                for _ in range(megabytes):
                    sheet.write(b"A" * (1 << 20))
                sheet.write(b"</t></is></c></row></sheetData></worksheet>")
    return path


def test_an_xlsx_decompression_bomb_is_refused_before_openpyxl_reads_it(tmp_path):
    # 40 MiB in one cell from a ~40 KB file: openpyxl would hold the whole cell in memory
    bomb = _bomb_workbook(tmp_path / "dpi.xlsx", 40)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(TableError, match="dpi.xlsx : import refusé, taux de compression anormal"):
        compute(bomb, as_of=AS_OF)
