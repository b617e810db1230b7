"""Engine parts that need no network: targets, ports, vulnerability data, rules, levels."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careops.exposure.engine import rules, targets, web
from careops.exposure.engine.probes import classify_banner, make_cpe
from careops.exposure.engine.results import Finding, HostResult, Service, result_from_json
from careops.exposure.engine.scanner import ScanOptions, expand_targets
from careops.exposure.engine.vulndb import VulnDB, VulnDBError, import_feeds, version_key

NOW = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)


def test_port_specs():
    assert targets.parse_ports("22,80,8000-8002") == [22, 80, 8000, 8001, 8002]
    assert len(targets.parse_ports("all")) == 65535
    default = targets.parse_ports(None)
    for port in (104, 11112, 2575, 3389, 445, 5985, 5986, 6379, 9200, 27017, 10443):
        assert port in default
    for bad in ("0", "70000", "80-20", "abc", ","):
        with pytest.raises(targets.TargetError):
            targets.parse_ports(bad)


def test_targets_parse_and_refuse():
    assert targets.parse_target("192.0.2.0/30").addresses == ["192.0.2.1", "192.0.2.2"]
    assert targets.parse_target("192.0.2.10-12").addresses == [
        "192.0.2.10",
        "192.0.2.11",
        "192.0.2.12",
    ]
    assert targets.parse_target("Portail.CHU-Exemple.fr.").hostname == "portail.chu-exemple.fr"
    for bad in ("10.0.0.0/8", "1.2.3.4/40", "a..b", "", "1.2.3.9-4"):
        with pytest.raises(targets.TargetError):
            targets.parse_target(bad)


def test_private_loopback_and_scope_are_enforced_before_any_packet():
    import ipaddress

    assert not targets.is_restricted(ipaddress.ip_address("193.51.24.1"))  # public: scannable
    options = ScanOptions(scope_networks=["192.0.2.0/24"])
    addresses, errors = asyncio.run(
        expand_targets(["127.0.0.1", "10.1.2.3", "fe80::1", "192.0.2.5"], options)
    )
    assert addresses == {} and sum("audit interne" in e for e in errors) == 4
    # documentation ranges stand for internet ones once the internal-audit option is on
    options = ScanOptions(scope_networks=["192.0.2.0/24"], allow_private=True)
    addresses, errors = asyncio.run(expand_targets(["192.0.2.5", "198.51.100.7"], options))
    assert list(addresses) == ["192.0.2.5"]
    assert errors == ["Adresse 198.51.100.7 hors du périmètre vérifié : refusée."]
    options = ScanOptions(scope_domains=["chu-exemple.fr"])
    addresses, errors = asyncio.run(expand_targets(["evil.example.org"], options))
    assert addresses == {} and "hors du périmètre vérifié" in errors[0]


def test_banners():
    ssh = classify_banner(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    assert (ssh.service, ssh.product, ssh.version) == ("ssh", "OpenSSH", "9.2p1")
    assert ssh.cpe == "cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*"
    assert classify_banner(b"220 mail.example ESMTP Postfix (Debian/GNU)\r\n").product == "Postfix"
    assert classify_banner(b"\xff\xfd\x18\xff\xfd\x20").service == "telnet"
    assert classify_banner(b"RFB 003.008\n").service == "vnc"
    mysql = b"\x4a\x00\x00\x00\x0a8.0.36-0ubuntu0.22.04.1\x00" + b"\x00" * 40
    assert (classify_banner(mysql).product, classify_banner(mysql).version) == ("MySQL", "8.0.36")
    assert classify_banner(b"\x00\x01garbage") is None
    assert make_cpe("f5:nginx", "") == "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*"


def test_http_analysis_and_edge_devices():
    page = '<html><title>FortiGate</title><form action="/remote/logincheck"><input type="password"></form>'
    info = web.analyse("https://vpn.example/", 200, {"Server": "xxxxxxxx-xxxxx"}, page)
    assert info.edge_device == "fortinet-fortios" and info.login_page
    assert "strict-transport-security" in info.missing_headers
    redirect = web.analyse("http://x/", 301, {"Location": "https://x/"}, "")
    assert redirect.missing_headers == []
    assert (
        web.analyse("https://x/", 200, {}, "<title>GlobalProtect Portal</title>").edge_device
        == "paloalto-globalprotect"
    )
    assert web.analyse("https://x/", 200, {}, "<title>Accueil</title>").edge_device == ""


@given(
    st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=4),
    st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=4),
)
def test_version_order_is_total_and_numeric(a, b):
    left, right = ".".join(map(str, a)), ".".join(map(str, b))
    assert (version_key(left) < version_key(right)) == (a < b)


def test_version_order_with_letters():
    assert version_key("9.2p1") < version_key("9.3p2") < version_key("9.8p1")
    assert version_key("1.22.1") < version_key("1.23.2")


def test_vulndb_import_match_and_catalogue_versions(vulndb_path):
    db = VulnDB(vulndb_path)
    assert db.catalogues() == {
        "kev_version": "2025.08.25",
        "nvd_version": "2025-08-25T00:00:00.000",
    }
    # nmap's legacy vendor name finds the NVD records through the alias table
    assert [m.cve for m in db.match("cpe:2.3:a:igor_sysoev:nginx:1.22.1:*:*:*:*:*:*:*")] == [
        "CVE-2022-41741"
    ]
    assert db.match("cpe:2.3:a:f5:nginx:1.24.0:*:*:*:*:*:*:*") == []
    assert db.match("cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*") == []  # no version: never "all CVEs"
    ssh = db.match("cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*", distribution="Debian")
    assert {m.cve for m in ssh} == {"CVE-2023-38408", "CVE-2024-6387"}
    assert {m.confidence for m in ssh} == {"potential"}
    redis = db.match("cpe:2.3:a:redislabs:redis:7.0.15:*:*:*:*:*:*:*")
    assert redis[0].cve == "CVE-2022-0543" and redis[0].kev
    forti = db.family("fortinet-fortios")
    assert "CVE-2024-21762" in {m.cve for m in forti} and all(m.kev for m in forti)
    assert len(forti) == 14  # FortiOS entries of the 2025.08.25 snapshot


def test_corrupt_feed_leaves_the_database_intact(tmp_path, vulndb_path, kev_file):
    target = tmp_path / "db.sqlite3"
    import_feeds(target, [kev_file])
    before = sqlite3.connect(target).execute("SELECT count(*) FROM kev").fetchone()[0]
    assert before == 1404
    broken = tmp_path / "broken.json"
    broken.write_text('{"vulnerabilities": [ {"cve": ')
    with pytest.raises(VulnDBError, match="corrompu"):
        import_feeds(target, [kev_file], [broken])
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"catalogVersion": "x", "vulnerabilities": [{"cveID": "nope"}]}))
    with pytest.raises(VulnDBError, match="entrée 1 sans identifiant CVE valide"):
        import_feeds(target, [wrong])
    assert sqlite3.connect(target).execute("SELECT count(*) FROM kev").fetchone()[0] == before
    with pytest.raises(VulnDBError, match="absente"):
        VulnDB(tmp_path / "none.sqlite3")


def _host(*services):
    return HostResult(address="192.0.2.1", services=list(services), answered=True)


def test_edge_device_flagged_with_its_kev_family(vulndb_path):
    from careops.exposure.engine.results import HttpInfo

    service = Service(
        443,
        service="https",
        http=HttpInfo(url="https://192.0.2.1/", status=200, edge_device="fortinet-fortios"),
    )
    found = rules.evaluate([_host(service)], VulnDB(vulndb_path))
    edge = next(f for f in found if f.rule == "EXP-EDGE-001")
    assert edge.kev and "CVE-2024-21762" in edge.cves and edge.confidence == "family"


def test_levels_are_data():
    def finding(severity):
        return Finding("R", severity, "192.0.2.1", 1, "t", "e", "r")

    assert rules.exposure_level([]) == ("A", True)
    assert rules.exposure_level([finding("medium")] * 3) == ("B", True)
    assert rules.exposure_level([finding("high")] * 3) == ("C", True)
    assert rules.exposure_level([finding("critical")]) == ("D", False)
    assert rules.level_label("D") == "Exposition critique"
    data = rules.catalogue()
    for rule_id, rule in data["rules"].items():
        assert rule_id.startswith("EXP-") and rule["severity"] in rules.SEVERITIES
        assert rule["title"] and rule["remediation"]


def test_result_round_trip():
    from careops.exposure.engine.results import ScanResult, TlsInfo

    result = ScanResult(
        hosts=[_host(Service(443, tls=TlsInfo(protocols=["TLSv1.2"])))],
        findings=[Finding("EXP-TLS-001", "medium", "192.0.2.1", 443, "t", "e", "r")],
    )
    again = result_from_json(json.loads(json.dumps(result.to_json())))
    assert again.hosts[0].services[0].tls.protocols == ["TLSv1.2"]
    assert again.findings[0].fingerprint == "EXP-TLS-001|192.0.2.1|443|"


def test_vulndb_command_imports_and_refuses_corrupt_files(tmp_path, kev_file):
    from django.core.management import CommandError, call_command

    db = tmp_path / "v.sqlite3"
    call_command("vulndb", "import", "--kev", str(kev_file), "--db", str(db))
    assert VulnDB(db).catalogues() == {"kev_version": "2025.08.25"}
    broken = tmp_path / "nvd.json.xz"
    broken.write_bytes(b"\xfd7zXZ\x00 pas du xz")
    with pytest.raises(CommandError, match="corrompu"):
        call_command("vulndb", "import", "--nvd", str(broken), "--db", str(db))
    with pytest.raises(CommandError, match="au moins un fichier"):
        call_command("vulndb", "import", "--db", str(db))


def test_real_loopback_database_services_are_identified():
    """PostgreSQL and Redis on 127.0.0.1 (started by .ci/run) are recognised without credentials."""
    import socket

    from careops.exposure.engine import scan_sync

    for port in (5432, 6379):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                from tests.exposure.conftest import need

                need(f"aucun service sur 127.0.0.1:{port}")
    result = scan_sync(["127.0.0.1"], ScanOptions(ports=[5432, 6379], allow_private=True), now=NOW)
    services = {s.port: s for s in result.hosts[0].services}
    assert services[5432].service == "postgresql" and services[5432].product == "PostgreSQL"
    assert services[6379].service == "redis" and services[6379].version
    assert {f.rule for f in result.findings} >= {"EXP-DB-001"}
