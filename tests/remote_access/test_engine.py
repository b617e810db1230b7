"""The remote-access engine without any service: inventory round trip, parsers, checks, scores."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from careops.remote_access.engine import bastion, checks, exposure, inventory, rules, vpn
from careops.remote_access.engine.model import AccessPath
from tests.remote_access.helpers import (
    guacamole_csv,
    the_bastion_json,
    the_bastion_syslog,
    vendor_path,
)

RULES = rules.load()
TODAY = dt.date.today()


def _sources(**kw) -> checks.Sources:
    return checks.Sources(as_of=TODAY, **kw)


def _check(report_path, code):
    return report_path.check(code)


def test_inventory_round_trip_keeps_every_field_and_neutralises_formulas():
    path = vendor_path(name='=HYPERLINK("http://x")', vendor="@SUM(A1)", accounts=["a", "b"])
    data = inventory.write_inventory([path])
    sheet = load_workbook(io.BytesIO(data)).active
    cells = {sheet.cell(1, c).value: sheet.cell(2, c).value for c in range(1, sheet.max_column + 1)}
    assert (
        cells["Nom"] == '\'=HYPERLINK("http://x")'
        and cells["Fournisseur / organisation"] == "'@SUM(A1)"
    )
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in cells.values() if v)
    back, problems = inventory.read_inventory(data)
    assert problems == []
    assert back[0] == path  # the quote added on export is removed on import


def test_inventory_problems_name_row_and_column_in_french():
    wb = Workbook()
    ws = wb.active
    ws.append(
        ["Référence", "Nom", "Population", "Exposé sur internet", "Facteurs d'authentification"]
    )
    ws.append(["RA-1", "VPN", "fournisseur inconnu", "peut-être", "totp, sms"])
    ws.append(["RA-1", "Doublon", "Télétravail du personnel", "non", "TOTP"])
    ws.append([None, "Sans référence"])
    out = io.BytesIO()
    wb.save(out)
    paths, problems = inventory.read_inventory(out.getvalue())
    text = [str(p) for p in problems]
    assert "ligne 2, colonne « Population » : valeur « fournisseur inconnu » inconnue" in text[0]
    assert any("« peut-être » n'est ni oui ni non" in t for t in text)
    assert any("« sms » inconnue" in t for t in text)
    assert any(t.startswith("ligne 3") and "en double" in t for t in text)
    assert any(t.startswith("ligne 4") and "obligatoires" in t for t in text)
    assert [p.ref for p in paths] == ["RA-1"]


def test_inventory_refuses_target_networks_that_are_not_ip_networks():
    wb = Workbook()
    ws = wb.active
    ws.append(["Référence", "Nom", "Population", "Réseaux cibles"])
    ws.append(["RA-1", "VPN", "Télétravail du personnel", "10.0.0.0/33; 10.1.2.3/24, serveurs"])
    out = io.BytesIO()
    wb.save(out)
    paths, problems = inventory.read_inventory(out.getvalue())
    text = [str(p) for p in problems]
    assert any("« 10.0.0.0/33 » n'est pas un réseau IP" in t for t in text)
    assert any("« serveurs » n'est pas un réseau IP" in t for t in text)
    assert all(t.startswith("ligne 2, colonne « Réseaux cibles »") for t in text)


def test_inventory_rejects_files_that_are_not_workbooks():
    with pytest.raises(inventory.InventoryError, match="illisible comme classeur"):
        inventory.read_inventory(b"ref;name\nRA-1;x\n")


def test_inventory_refuses_a_decompression_bomb_before_openpyxl_reads_it():
    import zipfile

    book = io.BytesIO()
    Workbook().save(book)
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(book) as source,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                # one 20 MiB cell from a ~20 KB file: openpyxl would hold it whole in memory
                cell = b"A" * (20 << 20)
                target.writestr(item.filename, b"<worksheet><sheetData><row><c><v>" + cell)
            else:
                target.writestr(item, source.read(item.filename))
    assert len(bomb.getvalue()) < 200_000
    with pytest.raises(inventory.InventoryError, match="taux de compression anormal"):
        inventory.read_inventory(bomb.getvalue())


def test_well_run_vendor_path_passes_every_declared_check():
    report = checks.evaluate([vendor_path()], _sources(), RULES)
    result = report.paths[0]
    statuses = {c.code: c.status for c in result.checks}
    assert statuses == {
        **{f"A{n}": "pass" for n in range(1, 14)},
        "A14": "na",
    }, [(c.code, c.reason) for c in result.checks if c.status != "pass"]
    assert (result.score, result.band, result.blocked) == (100, "good", False)
    assert report.remediation == []


def test_shared_permanent_account_blocks_and_caps_the_score():
    path = vendor_path(account_model="shared", activation="permanent")
    result = checks.evaluate([path], _sources(), RULES).paths[0]
    a5 = _check(result, "A5")
    assert (a5.status, a5.blocking) == ("fail", True)
    assert result.blocked and result.score == 40 and result.band == "critical"
    # shared but on demand: failed, not blocking (the rule says "yes if shared + permanent")
    on_demand = checks.evaluate([vendor_path(account_model="shared")], _sources(), RULES).paths[0]
    assert _check(on_demand, "A5").blocking is False and not on_demand.blocked


def test_establishment_score_weights_paths_by_inherited_priority_and_ranks_remediation():
    good = vendor_path(ref="GOOD", priority="P1")
    bad = vendor_path(ref="BAD", priority="P4", auth_factors=["password"], activation="permanent")
    report = checks.evaluate([good, bad], _sources(), RULES)
    scores = {p.ref: p.score for p in report.paths}
    assert scores["GOOD"] == 100 and scores["BAD"] == 40
    assert report.score == round((3 * 100 + 1 * 40) / 4)
    first = report.remediation[0]
    assert (first.ref, first.code, first.blocking) == ("BAD", "A3", True)
    assert [r.code for r in report.remediation] == ["A3", "A6"]


def test_undeclared_rdp_and_exposure_findings_fail_the_path():
    scan = {
        "hosts": [
            {
                "address": "203.0.113.5",
                "hostnames": ["bastion.chu-test.fr"],
                "services": [{"port": 443, "service": "https"}, {"port": 3389, "service": "rdp"}],
            },
            {
                "address": "203.0.113.9",
                "hostnames": [],
                "services": [
                    {"port": 5900, "service": "vnc"},
                    {"port": 5938, "service": "unknown"},  # TeamViewer's port
                    {"port": 8080, "service": "http"},
                ],
            },
        ],
        "findings": [
            {
                "rule": "EXP-RDP-001",
                "host": "203.0.113.5",
                "port": 3389,
                "title": "RDP exposé",
                "kev": False,
            },
            {
                "rule": "EXP-VNC-001",
                "host": "203.0.113.9",
                "port": 5900,
                "title": "VNC exposé",
                "kev": False,
            },
        ],
    }
    view = exposure.load(scan)
    report = checks.evaluate([vendor_path()], _sources(exposure=view), RULES)
    a2 = _check(report.paths[0], "A2")
    assert a2.status == "fail" and a2.source == "exposure" and "EXP-RDP-001" in a2.reason
    assert {(u.host, u.port, u.service) for u in report.undeclared} == {
        ("203.0.113.5", 3389, "rdp"),
        ("203.0.113.9", 5900, "vnc"),
        ("203.0.113.9", 5938, "teamviewer"),
    }
    with pytest.raises(exposure.ExposureError, match="careops exposure scan"):
        exposure.load({"foo": 1})


SWANCTL_WEAK = """
connections {
  telemaintenance {
    version = 1
    aggressive = yes
    local_addrs = 203.0.113.5
    proposals = 3des-sha1-modp1024
    local { auth = psk  id = vpn.chu-test.fr }
    remote { auth = psk }
    children { biomed { local_ts = 10.0.0.0/8  esp_proposals = aes128-sha1 } }
  }
  personnel {
    version = 2
    local_addrs = 203.0.113.6
    proposals = aes256gcm16-prfsha384-ecp384
    local { auth = pubkey  certs = gw.pem }
    remote-1 { auth = pubkey }
    remote-2 { auth = eap-radius }
    children { lan { local_ts = 10.20.0.0/24 } }
  }
}
secrets { ike-1 { secret = "do-not-keep-me" } }
"""


def test_swanctl_parser_flags_psk_ikev1_aggressive_weak_and_wide_routes():
    weak, strong = vpn.parse_swanctl(SWANCTL_WEAK)
    assert (weak.ike_versions, weak.aggressive, weak.psk_only, weak.mfa) == ([1], True, True, False)
    assert weak.weak == ["3DES", "SHA-1", "groupe DH 2 (1024 bits)"]
    assert vpn.wider_routes(weak.routes, ["10.20.0.0/24"]) == ["10.0.0.0/8"]
    assert (strong.ike_versions, strong.client_certificate, strong.mfa, strong.weak) == (
        [2],
        True,
        True,
        [],
    )
    assert "do-not-keep-me" not in repr(weak.to_json()) + repr(strong.to_json())
    path = vendor_path(technology="ipsec_vpn", vpn_connection="telemaintenance")
    result = checks.evaluate([path], _sources(vpn=[weak, strong]), RULES).paths[0]
    assert _check(result, "A3").status == "pass"  # the bastion behind the VPN enforces TOTP
    a11 = _check(result, "A11")
    assert a11.status == "fail" and a11.source == "vpn"
    assert "accepte IKEv1" in a11.reason and "10.0.0.0/8, plus large que les cibles" in a11.reason
    direct = vendor_path(
        technology="ipsec_vpn", vpn_connection="telemaintenance", through_bastion=False
    )
    a3 = _check(checks.evaluate([direct], _sources(vpn=[weak]), RULES).paths[0], "A3")
    assert (a3.status, a3.blocking, a3.source) == ("fail", True, "vpn")
    assert "clé pré-partagée seule" in a3.reason


def test_ipsec_conf_openvpn_and_wireguard_parsers():
    ipsec = vpn.parse_ipsec_conf(
        "config setup\n\nconn %default\n\tkeyexchange=ikev1\n\tike=aes128-md5-modp1024!\n\n"
        "conn vendor\n\tleft=203.0.113.5\n\tleftsubnet=0.0.0.0/0\n\tauthby=xauthpsk\n\taggressive=yes\n\tauto=add\n"
    )[0]
    assert (ipsec.ike_versions, ipsec.aggressive, ipsec.remote_auth) == (
        [1],
        True,
        ["psk", "xauth"],
    )
    assert "MD5" in ipsec.weak and ipsec.routes == ["0.0.0.0/0"]
    ovpn = vpn.parse_openvpn(
        "port 1194\nproto udp\ndev tun\nserver 10.8.0.0 255.255.255.0\nverify-client-cert none\n"
        "plugin /usr/lib/openvpn/openvpn-plugin-auth-pam.so login\ncipher BF-CBC\n"
        'push "route 10.0.0.0 255.0.0.0"\n'
    )[0]
    assert (ovpn.client_certificate, ovpn.mfa, ovpn.routes) == (False, False, ["10.0.0.0/8"])
    assert "Blowfish" in ovpn.weak and any("verify-client-cert" in i for i in ovpn.issues)
    static = vpn.parse_openvpn("dev tun\nsecret /etc/openvpn/static.key\n")[0]
    assert static.psk_only and not static.client_certificate
    wg = vpn.parse_wireguard(
        "[Interface]\nPrivateKey = x\nAddress = 10.9.0.2/32\n"
        "[Peer]\nPublicKey = y\nEndpoint = 203.0.113.7:51820\nAllowedIPs = 0.0.0.0/0\n"
    )[0]
    assert wg.routes == ["0.0.0.0/0"] and not wg.mfa
    with pytest.raises(vpn.VpnConfigError, match="accolade"):
        vpn.parse_swanctl("connections { a { version = 2 }")
    assert vpn.detect_kind("[Interface]\n", "x") == "wireguard"


def test_guacamole_history_gives_sessions_and_out_of_window_use():
    monday = dt.datetime.combine(TODAY - dt.timedelta(days=TODAY.weekday() + 7), dt.time(10, 0))
    saturday_night = monday + dt.timedelta(days=5, hours=12)
    text = guacamole_csv(
        [
            ("imagerie.dupont", monday, 1800.5, "IRM console", "198.51.100.7"),
            ("imagerie.dupont", saturday_night, 600, "IRM console", "198.51.100.7"),
            ("autre", monday, 60, "PACS", "198.51.100.8"),
        ]
    )
    log = bastion.parse_guacamole(text)
    assert [(s.account, s.target, s.duration_seconds) for s in log.sessions][:1] == [
        ("imagerie.dupont", "IRM console", 1800.5)
    ]
    result = checks.evaluate([vendor_path()], _sources(bastion=[log]), RULES).paths[0]
    a6 = _check(result, "A6")
    assert a6.status == "fail" and a6.source == "bastion"
    assert "1 session(s) hors des plages autorisées" in a6.reason
    assert _check(result, "A4").source == "bastion"
    with pytest.raises(bastion.BastionLogError, match="Username"):
        bastion.parse_guacamole("a,b\n1,2\n")


def test_the_bastion_logs_show_recording_and_unused_accounts():
    recent = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(9, 30))
    sessions = [
        {
            "account": "imagerie.dupont",
            "user": "root",
            "ip_to": "10.20.0.12",
            "start": recent,
            "duration": 900,
        },
        {
            "account": "imagerie.dupont",
            "user": "root",
            "ip_to": "10.20.0.13",
            "start": recent,
            "duration": 60,
            "recorded": False,
        },
    ]
    # logs covering less than 90 days cannot say an account is unused
    short = bastion.parse_bytes(the_bastion_json(sessions).encode(), "b.json")
    path = vendor_path(accounts=["imagerie.dupont", "imagerie.martin"])
    assert checks.a13(path, _sources(bastion=[short]), RULES).status == "pass"
    sessions.append(
        {
            "account": "autre.compte",
            "user": "root",
            "ip_to": "10.20.0.14",
            "start": recent - dt.timedelta(days=100),
            "duration": 60,
        }
    )
    for text in (the_bastion_syslog(sessions), the_bastion_json(sessions)):
        log = bastion.parse_bytes(text.encode(), "bastion.log")
        assert len(log.sessions) == 3 and [s.recorded for s in log.sessions] == [True, False, True]
        path = vendor_path(accounts=["imagerie.dupont", "imagerie.martin"])
        result = checks.evaluate([path], _sources(bastion=[log]), RULES).paths[0]
        a7 = _check(result, "A7")
        assert a7.status == "fail" and "1 session(s) sur 2 sans enregistrement" in a7.reason
        a13 = _check(result, "A13")
        assert (
            a13.status == "fail" and "aucune session depuis 90 j pour imagerie.martin" in a13.reason
        )
    assert (
        bastion.parse_bytes(the_bastion_syslog(sessions).encode(), "b").sessions[0].duration_seconds
        == 900
    )
    with pytest.raises(bastion.BastionLogError, match="JSON illisible"):
        bastion.parse_bytes(b"JSON_START\n{oops\nJSON_END\n", "b.json")


def test_staff_remote_work_checks():
    staff = AccessPath(
        ref="TT",
        name="Télétravail",
        population="staff_remote_work",
        technology="tls_vpn",
        auth_factors=["password"],
        managed_devices_only=False,
        admin_rights_from_remote=True,
    )
    result = checks.evaluate([staff], _sources(), RULES).paths[0]
    a14 = _check(result, "A14")
    assert a14.status == "fail" and "postes non maîtrisés admis" in a14.reason
    assert {c.code for c in result.checks if c.status == "na"} == {"A6", "A7", "A10", "A12"}


def test_rules_come_from_the_d3_referential_and_are_complete():
    assert RULES.checks["A2"].weight == 5 and RULES.checks["A2"].blocking is True
    assert RULES.items_by_population["staff_remote_work"] == "D3.O2"
    with pytest.raises(rules.RulesError, match="incomplètes"):
        rules.from_data(
            {"checks": {"A1": {"title": "x", "weight": 1}}, "priority_weights": {}, "bands": []}
        )


def test_check_cli_runs_without_django_and_reports_bad_input(tmp_path):
    import subprocess
    import sys

    from tests.remote_access.helpers import inventory_bytes

    inventory_file = tmp_path / "inventaire.xlsx"
    inventory_file.write_bytes(inventory_bytes([vendor_path()]))
    code = (
        "import sys; from careops.cli import main\n"
        "try:\n    main(['remote-access', 'check', sys.argv[1], '--json'])\n"
        "except SystemExit as exit:\n"
        "    assert 'django' not in sys.modules, 'Django imported'\n"
        "    sys.exit(exit.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(inventory_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["paths"][0]["score"] == 100
    junk = tmp_path / "junk.xlsx"
    junk.write_text("pas un classeur")
    done = subprocess.run(
        [sys.executable, "-m", "careops.cli", "remote-access", "check", str(junk)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "illisible comme classeur Excel" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "careops.cli", "remote-access", "check", str(tmp_path / "absent")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "inventaire introuvable" in done.stderr
    assert "No such file" not in done.stderr


def test_check_cli_text_names_the_establishment_band_in_french(tmp_path):
    from careops.remote_access.engine.cli import build_parser, render_text, run
    from tests.remote_access.helpers import inventory_bytes

    inventory_file = tmp_path / "inventaire.xlsx"
    inventory_file.write_bytes(inventory_bytes([vendor_path()]))
    args = build_parser("careops remote-access").parse_args(["check", str(inventory_file)])
    first_line = render_text(run(args)).splitlines()[0]
    assert "note de l'établissement 100/100 (" in first_line
    band = first_line.rsplit("(", 1)[1].rstrip(")")
    assert band in {b["label"] for b in RULES.bands}, first_line


def test_edge_device_with_a_kev_fails_the_vpn_path_it_belongs_to():
    scan = {
        "hosts": [
            {
                "address": "203.0.113.20",
                "hostnames": ["vpn.chu-test.fr"],
                "services": [{"port": 443, "service": "https"}],
            }
        ],
        "findings": [
            {
                "rule": "EXP-EDGE-001",
                "host": "203.0.113.20",
                "port": 443,
                "title": "Équipement de bordure exposé",
                "kev": True,
                "cves": ["CVE-2024-21762"],
            }
        ],
    }
    path = vendor_path(technology="tls_vpn", entry_point="vpn.chu-test.fr:443")
    result = checks.evaluate([path], _sources(exposure=exposure.load(scan)), RULES).paths[0]
    a2 = _check(result, "A2")
    assert (a2.status, a2.blocking, a2.source) == ("fail", True, "exposure")
    assert "EXP-EDGE-001" in a2.reason and a2.reason.endswith("— KEV")
