"""Imports of ORADAD cleartext output and PingCastle healthcheck reports (hand-written fixtures).

``data/oradad/`` follows the layout of ORADAD's source (ANSSI-FR/ORADAD: Engine.cpp, LDAP.cpp,
Buffer.cpp): ``<forest>/<YYYYMMDD-HHMMSS>/`` with tables.tsv, a UTF-16LE metadata.tsv and
headerless UTF-16LE data files per partition and domain. ``data/pingcastle/`` follows
PingCastle's ``ad_hc_<domain>.xml``. Both were written by hand: no real directory.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from careops.directory.engine import analyze
from careops.directory.engine.analysis import _pingcastle_point, catalogue, from_pingcastle
from careops.directory.engine.dump import DumpError
from careops.directory.engine.imports import load_oradad, load_pingcastle, pingcastle_map
from tests.directory.synthetic import DOMAIN_SID, NOW

DATA = Path(__file__).with_name("data")
ORADAD = DATA / "oradad"
INSTANCE = Path("hop.test") / "20261120-100000"
PINGCASTLE = DATA / "pingcastle" / "ad_hc_hop.test.xml"


def statuses(result) -> dict[str, str]:
    return {p.id: p.status for p in result.points}


@pytest.fixture
def oradad_copy(tmp_path):
    target = tmp_path / "out"
    shutil.copytree(ORADAD, target)
    return target


# ---- ORADAD ----------------------------------------------------------------------------------
def test_oradad_fixture_is_read_with_its_encodings():
    dump = load_oradad(ORADAD)
    assert dump.domain == "hop.test" and dump.domain_sid == DOMAIN_SID
    assert dump.collected_at == "2026-11-20T10:00:00+00:00"
    assert dump.source == "oradad" and not dump.complete
    assert dump.collector["metadata"]["oradad_version"] == "3.4.0.0"
    assert dump.naming_contexts["configuration"] == "CN=Configuration,DC=hop,DC=test"
    by_dn = {o["dn"]: o for o in dump.objects}
    alice = by_dn["CN=adm_alice,OU=Admins,DC=hop,DC=test"]["a"]
    assert alice["useraccountcontrol"] == ["66048"]  # the *_int column, not the flag names
    assert alice["pwdlastset"] == ["134379936000000000"]  # "2026-11-01 08:00:00" → FILETIME
    assert alice["accountexpires"] == ["9223372036854775807"]  # ORADAD's "never"
    assert alice["whencreated"] == ["20230504100000.0Z"]
    assert alice["msds-supportedencryptiontypes"] == ["24"]
    svc = by_dn["CN=svc_app,CN=Users,DC=hop,DC=test"]["a"]
    assert svc["serviceprincipalname"] == ["HTTP/app.hop.test", "HTTP/app"]
    admins = by_dn["CN=Domain Admins,CN=Users,DC=hop,DC=test"]["a"]
    assert len(admins["member"]) == 2
    head = by_dn["DC=hop,DC=test"]
    assert head["a"]["gplink"][0].endswith(";0]")  # single value with ';' kept whole
    assert head["sd"] and all(o["sd"] for o in dump.objects)  # hex descriptors stored once
    assert len(dump.descriptors) == 1
    assert not any(o["dn"] == "dc1.hop.test" for o in dump.objects)  # rootDSE row skipped


def test_oradad_fixture_points():
    result = analyze(load_oradad(ORADAD), NOW)
    status = statuses(result)
    for failing in (
        "vuln_dont_expire_priv-l1",  # adm_alice, DONT_EXPIRE_PASSWD
        "vuln_kerberos_properties_preauth-l2",  # svc_app, DONT_REQUIRE_PREAUTH
        "vuln_krbtgt-l2",  # pwdLastSet 2020-01-01
        "vuln_dsheuristics_bad-l2",  # dSHeuristics 0000002
    ):
        assert status[failing] == "fail", failing
    for passing in (
        "vuln_guest-l2",  # Guest disabled
        "vuln_delegation_t4d-l1",  # only the DC trusted for delegation
        "vuln_spn_priv-l1",
        "vuln_password_change_dc_no_change-l1",
        "vuln_critical_objects-l1",
        "vuln_functional_level-l4",
        "vuln_user_accounts_machineaccountquota-l4",
        "vuln_protected_users-l3",
        "vuln_compatible_2000_anonymous-l2",
    ):
        assert status[passing] == "pass", passing
    assert status["vuln_dnszone_bad_prop-l1"] == "not_evaluated"  # no DNS partition collected
    assert result.level == 1 and not result.level_complete
    alice = next(p for p in result.points if p.id == "vuln_dont_expire_priv-l1").objects
    assert [o["name"] for o in alice] == ["adm_alice"]


def test_oradad_variants_header_utf8_and_archives(oradad_copy, tmp_path):
    instance = oradad_copy / INSTANCE
    # writeHeader=1 and an older UTF-8 release with LF line ends.
    user = instance / "domain" / "hop.test" / "user.tsv"
    text = user.read_bytes()[2:].decode("utf-16-le")
    tables = (instance / "tables.tsv").read_text()
    columns = next(line for line in tables.splitlines() if "\\user.tsv" in line).split("\t")[4::2]
    user.write_text("\t".join(columns) + "\n" + text.replace("\r\n", "\n"), encoding="utf-8")
    reference = load_oradad(ORADAD).objects
    assert load_oradad(oradad_copy).objects == reference
    assert load_oradad(instance).objects == reference  # pointing at the run folder itself
    # tar.gz and zip of the output folder.
    tgz = tmp_path / "oradad.tar.gz"
    with tarfile.open(tgz, "w:gz") as archive:
        archive.add(oradad_copy, arcname="oradad")
    assert load_oradad(tgz).domain == "hop.test"
    archive_zip = tmp_path / "oradad.zip"
    with zipfile.ZipFile(archive_zip, "w") as archive:
        for path in oradad_copy.rglob("*"):
            archive.write(path, path.relative_to(oradad_copy))
    assert len(load_oradad(archive_zip).objects) == len(reference)


def test_oradad_foreign_truncated_and_encrypted_outputs(oradad_copy, tmp_path):
    instance = oradad_copy / INSTANCE
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "users.tsv").write_text("dn\tname\n")
    with pytest.raises(DumpError, match="n'est pas une sortie ORADAD"):
        load_oradad(foreign)
    with pytest.raises(DumpError, match="introuvable"):
        load_oradad(tmp_path / "absent")
    (foreign / "hop.test_20261120-100000.mla").write_bytes(b"MLAv2")
    with pytest.raises(DumpError, match="MLA"):
        load_oradad(foreign)
    # A data file cut in the middle of a row.
    group = instance / "domain" / "hop.test" / "group.tsv"
    data = group.read_bytes()
    group.write_bytes(data[: len(data) // 2 - len(data) // 2 % 2])
    with pytest.raises(DumpError, match="tronqué.*group.tsv"):
        load_oradad(oradad_copy)
    group.write_bytes(data)
    # A run stopped before its end: oradad_processtime is written last.
    meta = instance / "metadata.tsv"
    saved = meta.read_bytes()
    text = saved[2:].decode("utf-16-le")
    meta.write_bytes(b"\xff\xfe" + text.split("oradad_processtime")[0].encode("utf-16-le"))
    with pytest.raises(DumpError, match="interrompue"):
        load_oradad(oradad_copy)
    meta.write_bytes(saved)
    # A listed table that is missing, then present only compressed/encrypted (.oradad).
    computer = instance / "domain" / "hop.test" / "computer.tsv"
    computer.rename(computer.with_name("computer.tsv.oradad"))
    with pytest.raises(DumpError, match="compressée ou chiffrée"):
        load_oradad(oradad_copy)
    computer.with_name("computer.tsv.oradad").unlink()
    with pytest.raises(DumpError, match="manquant"):
        load_oradad(oradad_copy)
    # A truncated tables.tsv and a damaged archive.
    (instance / "tables.tsv").write_text("hop.test_20261120-100000\nuser.tsv\tuser\tuser\t3\tdn\n")
    with pytest.raises(DumpError, match="tables.tsv"):
        load_oradad(oradad_copy)
    bad = tmp_path / "cut.tar.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(DumpError, match="illisible ou tronquée"):
        load_oradad(bad)


# ---- PingCastle ------------------------------------------------------------------------------
def test_pingcastle_map_entries_resolve_to_the_catalogue():
    rules = pingcastle_map()
    assert len(rules) >= 75
    retired = set()
    for risk_id, entry in rules.items():
        assert entry["anssi"], risk_id
        for anssi_id in entry["anssi"]:
            pid, reason = _pingcastle_point(anssi_id)
            if pid is None:
                retired.add(anssi_id)
            else:
                assert pid.removeprefix("vuln_").rsplit("-l", 1)[0] in catalogue()
    # The only ids PingCastle uses that ANSSI's current list dropped (split in two in 2026).
    assert retired == {"vuln3_reversible_password"}


def test_pingcastle_fixture_mapped_unmapped_and_not_evaluated():
    report = load_pingcastle(PINGCASTLE)
    assert report["domain"] == "hop.test" and report["maturity_level"] == 1
    assert report["engine_version"] == "3.3.0.1"
    assert report["generated_at"] == "2026-11-20T10:00:00+01:00"
    sid = next(r for r in report["rules"] if r["risk_id"] == "T-SIDFiltering")
    assert sid["details"] == ["partner.test"] and sid["category"] == "Trusts"
    result = from_pingcastle(report)
    status = statuses(result)
    assert {p.id for p in result.failing()} == {
        "vuln_krbtgt-l2",
        "vuln_trusts_forest_sidhistory-l1",  # one PingCastle rule, two ANSSI points
        "vuln_trusts_domain_notfiltered-l1",
        "vuln_delegation_t4d-l1",  # PingCastle says vuln2_: single-level check in ANSSI v2
        "vuln_dont_expire-l2",
    }
    assert "pass" not in status.values()  # absence from the report is never a pass
    assert status["vuln_guest-l2"] == "not_evaluated"
    assert status["vuln_permissions_adminsdholder-l1"] == "not_evaluated"
    unmapped = {u["risk_id"]: u["reason"] for u in result.completeness["unmapped"]}
    assert set(unmapped) == {"A-ReversiblePwd", "A-LAPS-Not-Installed"}
    assert "référentiel ANSSI courant" in unmapped["A-ReversiblePwd"]
    assert result.completeness["unmapped_rules"] == ["A-ReversiblePwd", "A-LAPS-Not-Installed"]
    assert len(result.completeness["not_evaluated"]) == len(result.points) - 5
    assert result.level == 1 and not result.level_complete and result.source == "pingcastle"
    krbtgt = next(p for p in result.points if p.id == "vuln_krbtgt-l2")
    assert krbtgt.objects[0]["name"] == "A-Krbtgt" and "1 054" in krbtgt.objects[0]["detail"]


def test_pingcastle_truncated_or_foreign(tmp_path):
    cut = tmp_path / "cut.xml"
    cut.write_text(PINGCASTLE.read_text()[:900])
    with pytest.raises(DumpError, match="tronqué"):
        load_pingcastle(cut)
    empty = tmp_path / "empty.xml"
    empty.write_text("<HealthcheckData><NetBIOSName>HOP</NetBIOSName></HealthcheckData>")
    with pytest.raises(DumpError, match="incomplet"):
        load_pingcastle(empty)
    other = tmp_path / "other.xml"
    other.write_text("<PingCastleReport/>")
    with pytest.raises(DumpError, match="pas un rapport healthcheck"):
        load_pingcastle(other)


# ---- command line, end to end ----------------------------------------------------------------
def _cli(*args):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("ad", "analyze", *args, "--now", "2026-11-29", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_cli_analyze_oradad_and_pingcastle_json():
    doc = _cli("--oradad", str(ORADAD))
    assert doc["domain"] == "hop.test" and doc["level"] == 1 and not doc["level_complete"]
    points = {p["id"]: p["status"] for p in doc["points"]}
    assert points["vuln_krbtgt-l2"] == "fail" and points["vuln_guest-l2"] == "pass"
    doc = _cli("--pingcastle", str(PINGCASTLE))
    assert doc["level"] == 1 and not doc["level_complete"]
    assert doc["completeness"]["unmapped_rules"] == ["A-ReversiblePwd", "A-LAPS-Not-Installed"]
    assert {p["status"] for p in doc["points"]} == {"fail", "not_evaluated"}


def test_cli_reports_oradad_errors_in_french(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="n'est pas une sortie ORADAD"):
        _cli("--oradad", str(tmp_path))
