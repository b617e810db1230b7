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
        hosts=[
            _host(
                Service(
                    443,
                    tls=TlsInfo(
                        protocols=["TLSv1.2"],
                        accepted_suites={"TLSv1.2": ["TLS_AES_128_GCM_SHA256"]},
                        robot="NOT_VULNERABLE_NO_ORACLE",
                        heartbleed=False,
                        trusted=False,
                    ),
                )
            )
        ],
        findings=[Finding("EXP-TLS-001", "medium", "192.0.2.1", 443, "t", "e", "r")],
    )
    again = result_from_json(json.loads(json.dumps(result.to_json())))
    assert again.hosts[0].services[0].tls == result.hosts[0].services[0].tls
    # a run stored before sslyze (no such fields) still loads
    old = result_from_json(
        {
            "hosts": [
                {
                    "address": "192.0.2.1",
                    "services": [
                        {
                            "port": 443,
                            "tls": {"protocols": ["TLSv1.0"], "weak_suites": ["AECDH-AES256-SHA"]},
                        }
                    ],
                }
            ]
        }
    )
    assert old.hosts[0].services[0].tls.heartbleed is None
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


# ---------------------------------------------------------------- TLS (sslyze results → findings)


def _certificate(name: str, issuer=None, issuer_key=None, days=(-10, 300)):
    """A certificate for ``name`` (self-signed without ``issuer``), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
    )
    if issuer is None and name.startswith("CA "):
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), True
        ).add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    return builder.sign(issuer_key or key, hashes.SHA256()), key


def _attempt(result=None, error=None):
    from types import SimpleNamespace

    return SimpleNamespace(result=result, error_reason=error)


def _suites(*names):
    from types import SimpleNamespace

    return SimpleNamespace(
        accepted_cipher_suites=[
            SimpleNamespace(cipher_suite=SimpleNamespace(name=n, is_anonymous="_anon_" in n))
            for n in names
        ]
    )


def _sslyze_result(chain, stores, **overrides):
    """A ServerScanResult-shaped object, as sslyze.Scanner.get_results() yields."""
    from types import SimpleNamespace

    store_results = [
        SimpleNamespace(
            trust_store=store,
            was_validation_successful=False,
            validation_error="validation failed: leaf certificate has no matching subjectAltName",
        )
        for store in stores
    ]
    deployment = SimpleNamespace(
        received_certificate_chain=chain, path_validation_results=store_results
    )
    attempts = {
        "certificate_info": _attempt(SimpleNamespace(certificate_deployments=[deployment])),
        "ssl_2_0_cipher_suites": _attempt(_suites()),
        "ssl_3_0_cipher_suites": _attempt(_suites()),
        "tls_1_0_cipher_suites": _attempt(_suites()),
        "tls_1_1_cipher_suites": _attempt(_suites()),
        "tls_1_2_cipher_suites": _attempt(_suites("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")),
        "tls_1_3_cipher_suites": _attempt(_suites("TLS_AES_128_GCM_SHA256")),
        "heartbleed": _attempt(SimpleNamespace(is_vulnerable_to_heartbleed=False)),
        "robot": _attempt(
            SimpleNamespace(robot_result=SimpleNamespace(value="NOT_VULNERABLE_NO_ORACLE"))
        ),
        "openssl_ccs_injection": _attempt(SimpleNamespace(is_vulnerable_to_ccs_injection=False)),
        "session_renegotiation": _attempt(SimpleNamespace(supports_secure_renegotiation=True)),
        "tls_compression": _attempt(SimpleNamespace(supports_compression=False)),
    }
    attempts.update(overrides)
    return SimpleNamespace(scan_result=SimpleNamespace(**attempts), connectivity_error_trace=None)


def _tls_rules(info) -> set[str]:
    found = rules.evaluate([_host(Service(443, service="https", tls=info))])
    return {f.rule for f in found}


@pytest.fixture(scope="module")
def pki():
    """A private CA in a trust store (sslyze's TrustStore shape), a leaf it signed, a self-signed leaf."""
    from types import SimpleNamespace

    from cryptography.x509.verification import Store

    ca, ca_key = _certificate("CA santé test")
    leaf, _ = _certificate("portail.chu-exemple.fr", ca, ca_key)
    own, _ = _certificate("pacs.chu-exemple.fr")
    store = SimpleNamespace(name="Test", _x509_store=Store([ca]))
    return SimpleNamespace(ca=ca, leaf=leaf, own=own, store=store)


def test_weak_suite_classification():
    from careops.exposure.engine.tls import is_weak_suite

    for weak in (
        "TLS_RSA_WITH_NULL_SHA256",
        "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
        "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
        "TLS_RSA_WITH_RC4_128_SHA",
        "TLS_RSA_WITH_DES_CBC_SHA",
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
        "SSL_CK_RC4_128_WITH_MD5",
    ):
        assert is_weak_suite(weak), weak
    # CBC with SHA-1 and RSA key exchange are legacy, not weak by themselves
    for fine in (
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    ):
        assert not is_weak_suite(fine), fine
    assert is_weak_suite("TLS_SOMETHING", anonymous=True)


def test_sslyze_result_of_a_clean_endpoint_raises_no_tls_finding(pki):
    from careops.exposure.engine.results import TlsInfo
    from careops.exposure.engine.tls import apply_scan_result

    info = apply_scan_result(
        TlsInfo(), _sslyze_result([pki.leaf], [pki.store]), "portail.chu-exemple.fr", NOW
    )
    assert info.protocols == ["TLSv1.2", "TLSv1.3"] and info.weak_suites == []
    assert info.accepted_suites["TLSv1.3"] == ["TLS_AES_128_GCM_SHA256"]
    # strict validation failed (as sslyze reported) but the chain leads to the store's root
    assert info.trusted is True and info.trust_stores == [] and info.chain_length == 1
    assert info.chain_error.startswith("validation failed")
    assert info.hostname_matches is True and not info.self_signed and not info.expired
    assert (info.heartbleed, info.ccs_injection, info.insecure_renegotiation) == (False,) * 3
    assert info.robot == "NOT_VULNERABLE_NO_ORACLE" and info.compression is False
    assert info.error == ""
    assert _tls_rules(info) == set()


def test_sslyze_result_of_a_vulnerable_endpoint_maps_to_stable_rules(pki):
    from types import SimpleNamespace

    from careops.exposure.engine.results import TlsInfo
    from careops.exposure.engine.tls import apply_scan_result

    result = _sslyze_result(
        [pki.leaf],
        [],  # no trust store knows the CA
        ssl_3_0_cipher_suites=_attempt(_suites("TLS_RSA_WITH_RC4_128_SHA")),
        tls_1_0_cipher_suites=_attempt(
            _suites("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
        ),
        heartbleed=_attempt(SimpleNamespace(is_vulnerable_to_heartbleed=True)),
        robot=_attempt(
            SimpleNamespace(robot_result=SimpleNamespace(value="VULNERABLE_WEAK_ORACLE"))
        ),
        openssl_ccs_injection=_attempt(SimpleNamespace(is_vulnerable_to_ccs_injection=True)),
        session_renegotiation=_attempt(SimpleNamespace(supports_secure_renegotiation=False)),
        tls_compression=_attempt(SimpleNamespace(supports_compression=True)),
    )
    info = apply_scan_result(TlsInfo(), result, "autre.chu-exemple.fr", NOW)
    assert info.protocols == ["SSLv3", "TLSv1.0", "TLSv1.2", "TLSv1.3"]
    assert info.weak_suites == ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
    assert info.trusted is False and info.hostname_matches is False
    found = rules.evaluate([_host(Service(443, service="https", tls=info))])
    by_rule = {f.rule: f for f in found}
    assert set(by_rule) == {
        "EXP-TLS-001",  # TLS 1.0
        "EXP-TLS-002",  # RC4, 3DES
        "EXP-TLS-004",  # untrusted chain
        "EXP-TLS-005",  # host name
        "EXP-TLS-007",  # SSL 3.0
        "EXP-TLS-008",  # Heartbleed
        "EXP-TLS-009",  # ROBOT
        "EXP-TLS-010",  # CCS injection
        "EXP-TLS-011",  # insecure renegotiation
        "EXP-TLS-012",  # compression
    }
    severities = {rule: f.severity for rule, f in by_rule.items()}
    assert severities["EXP-TLS-008"] == "critical"
    assert {severities[r] for r in ("EXP-TLS-007", "EXP-TLS-009", "EXP-TLS-010")} == {"high"}
    assert {severities[r] for r in ("EXP-TLS-011", "EXP-TLS-012")} == {"medium"}
    assert "aucune autorité reconnue" in by_rule["EXP-TLS-004"].evidence
    assert by_rule["EXP-TLS-002"].evidence.endswith("(SSLv3, TLSv1.0)")
    assert found[0].rule == "EXP-TLS-008"  # critical first


def test_sslyze_self_signed_expired_and_failed_commands(pki):
    from careops.exposure.engine.results import TlsInfo
    from careops.exposure.engine.tls import apply_scan_result

    old, _ = _certificate("pacs.chu-exemple.fr", days=(-800, -30))
    result = _sslyze_result(
        [old], [pki.store], robot=_attempt(None, error=type("E", (), {"value": "BUG_IN_SSLYZE"}))
    )
    info = apply_scan_result(TlsInfo(), result, None, NOW)
    assert info.self_signed and info.expired and info.trusted is False
    assert info.hostname_matches is None  # an address was scanned: no name to check
    assert info.robot == "" and "robot (BUG_IN_SSLYZE)" in info.error
    assert _tls_rules(info) == {"EXP-TLS-003", "EXP-TLS-004"}


def test_sslyze_connectivity_error_keeps_the_service_and_says_why():
    """A real sslyze run against a closed loopback port: an error, no exception."""
    import socket

    from careops.exposure.engine import tls
    from careops.exposure.engine.results import TlsInfo

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends
    before = TlsInfo(subject="CN=x", self_signed=True)
    info = asyncio.run(tls.analyse("127.0.0.1", port, None, NOW, before, timeout=1.0))
    assert info is before and info.subject == "CN=x"
    assert info.error.startswith("analyse TLS détaillée impossible (sslyze)")
    assert info.protocols == [] and info.heartbleed is None


def test_tls_analysis_process_answers_as_the_thread_does_and_is_replaced_when_gone():
    """A run analyses TLS in a process of its own (sslyze off this process's interpreter lock):
    the same answer as in a thread, the certificate read before kept; if that process dies, the
    analysis runs in a thread instead of being lost."""
    import dataclasses
    import socket

    from careops.exposure.engine import tls
    from careops.exposure.engine.results import TlsInfo

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends

    async def run():
        worker = await tls.AnalysisWorker.start()
        try:
            assert worker.alive
            before = TlsInfo(subject="CN=x", self_signed=True)
            in_process = await tls.analyse(
                "127.0.0.1", port, None, NOW, before, timeout=1.0, worker=worker
            )
            worker.process.kill()
            await worker.process.wait()
            assert not worker.alive
            again = await tls.analyse(
                "127.0.0.1", port, None, NOW, TlsInfo(subject="CN=x"), timeout=1.0, worker=worker
            )
        finally:
            await worker.close()
        return in_process, again

    in_process, again = asyncio.run(run())
    in_thread = asyncio.run(tls.analyse("127.0.0.1", port, None, NOW, TlsInfo(), timeout=1.0))
    assert in_process.subject == "CN=x" and in_process.self_signed
    assert in_process.error.startswith("analyse TLS détaillée impossible (sslyze)")
    assert in_process.error == in_thread.error == again.error
    assert dataclasses.replace(in_process, subject="", self_signed=False) == in_thread


TLS_COUNTING_SERVER = """
import selectors, signal, socket, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
listener = socket.create_server(("127.0.0.1", 0))
listener.setblocking(False)
print(listener.getsockname()[1], flush=True)
# One thread, one selector: a connection is counted from its TCP accept to its end, so a client
# that keeps to N connections shows at most N + 1 here (a FIN and the next SYN may cross).
state = {"open": 0, "peak": 0, "total": 0, "report": False}
selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ)
signal.signal(signal.SIGUSR1, lambda *_: state.update(report=True))
def close(conn):
    selector.unregister(conn)
    conn.close()
    state["open"] -= 1
while True:
    if state["report"] and state["open"] == 0:
        print(state["peak"], state["total"], flush=True)
        state.update(peak=0, total=0, report=False)
    for key, _ in selector.select(timeout=0.05):
        if key.fileobj is listener:
            try:
                raw, _ = listener.accept()
            except BlockingIOError:
                continue
            raw.setblocking(False)
            conn = context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            selector.register(conn, selectors.EVENT_READ, "handshake")
            state["open"] += 1
            state["total"] += 1
            state["peak"] = max(state["peak"], state["open"])
            continue
        conn = key.fileobj
        try:
            if key.data == "handshake":
                conn.do_handshake()
                selector.modify(conn, selectors.EVENT_READ, "read")
            elif not conn.recv(1):
                close(conn)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except OSError:
            close(conn)
"""


async def _analyse_in_worker(port: int, bound: int):
    """tls.analyse as a run calls it: in the run's sslyze process."""
    from careops.exposure.engine import tls

    worker = await tls.AnalysisWorker.start()
    try:
        assert worker.alive
        return await tls.analyse(
            "127.0.0.1", port, "bound.test", NOW, connections=bound, timeout=3, worker=worker
        )
    finally:
        await worker.close()


def test_tls_analysis_keeps_to_its_connection_bound(tmp_path):
    """sslyze against a real TLS server (its own process) that counts the connections open at
    once: the analysis keeps to ``connections`` towards one endpoint, and still reads it."""
    import signal
    import subprocess
    import sys

    from cryptography.hazmat.primitives import serialization

    cert, key = _certificate("bound.test")
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "server.py").write_text(TLS_COUNTING_SERVER)
    server = subprocess.Popen(
        [
            sys.executable,
            str(tmp_path / "server.py"),
            str(tmp_path / "c.pem"),
            str(tmp_path / "k.pem"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    peaks = {}
    try:
        port = int(server.stdout.readline())
        for bound in (1, 4):
            info = asyncio.run(_analyse_in_worker(port, bound))
            assert info.error in (None, ""), info.error
            assert "TLSv1.3" in info.protocols
            server.send_signal(signal.SIGUSR1)
            peak, total = map(int, server.stdout.readline().split())
            assert total > 50  # a real analysis: one connection per suite tried
            peaks[bound] = peak
    finally:
        server.kill()
        server.wait()
    # The server may see a connection end just after the next one starts (FIN and SYN cross).
    assert 1 <= peaks[1] <= 2 and peaks[4] <= 5
    assert peaks[4] > peaks[1]  # the knob is what bounds the analysis


def test_mariadb_named_from_its_banner_even_when_it_refuses_us():
    greeting = b"5.5.5-10.11.6-MariaDB-0+deb12u1\x00"
    packet = bytes([len(greeting) + 1 + 40, 0, 0, 0, 10]) + greeting + b"\x00" * 40
    svc = classify_banner(packet)
    assert (svc.service, svc.product, svc.version, svc.confidence) == (
        "mysql",
        "MariaDB",
        "10.11.6",
        "high",
    )
    text = b"Host '203.0.113.9' is not allowed to connect to this MariaDB server"
    payload = b"\xff" + (1130).to_bytes(2, "little") + text
    refusal = len(payload).to_bytes(3, "little") + b"\x00" + payload
    svc = classify_banner(refusal)
    assert (svc.service, svc.product, svc.confidence) == ("mysql", "MariaDB", "medium")
    assert svc.details["refused"] == 1130 and "not allowed" in svc.banner
    mysql = classify_banner(refusal.replace(b"MariaDB", b"MySQL  "))
    assert mysql.product == "MySQL"


class _OneAtATime:
    """A fragile listener: it serves one connection at a time (the next ones wait in the
    backlog), answers only its own protocol ("PING" → "PONG") and holds any other connection
    until the peer closes it or 5 s pass; it records how many of our
    connections were open at once."""

    def __init__(self):
        self.open = 0
        self.max_open = 0
        self.connections = 0
        self.lock = asyncio.Lock()

    async def handle(self, reader, writer):
        self.open += 1
        self.connections += 1
        self.max_open = max(self.max_open, self.open)
        try:
            async with self.lock:  # one association at a time
                data = b""
                try:
                    # like a DICOM association: anything else holds it until the peer leaves
                    while chunk := await asyncio.wait_for(reader.read(64), 5):
                        data += chunk
                        if data.startswith(b"PING"):
                            writer.write(b"PONG\r\n")
                            await writer.drain()
                            break
                except TimeoutError:
                    pass
        finally:
            self.open -= 1
            writer.close()


def test_identification_never_jams_a_one_connection_device():
    from careops.exposure.engine.scanner import identify

    async def run():
        device = _OneAtATime()
        server = await asyncio.start_server(device.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        service = await identify("127.0.0.1", port, None, ScanOptions(tls_checks=False), NOW)
        # right after identification, a real client is served at once: nothing is queued
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"PING\r\n")
        answer = await asyncio.wait_for(reader.read(16), 1.0)
        writer.close()
        server.close()
        return device, service, answer

    device, service, answer = asyncio.run(run())
    assert device.max_open == 1  # one connection at a time, never a queue of probes
    assert answer == b"PONG\r\n"
    # it stopped after a few unanswered probes instead of trying all of them
    assert device.connections <= 4, device.connections
    assert "ne répond à aucune sonde" in service.details["identification"]


@given(
    st.binary(min_size=4, max_size=4),
    st.binary(min_size=4, max_size=4),
    st.integers(1, 65535),
    st.integers(0, 2**32 - 1),
    st.integers(1, 65535),
)
def test_syn_packets_carry_a_valid_tcp_checksum(src, dst, sport, seq, dport):
    import struct

    from careops.exposure.engine.synscan import _checksum, _syn, _Template

    template = _Template(src, dst, sport, seq)
    packet = template.packet(dport)
    assert packet == _syn(src, dst, sport, dport, seq)
    assert template.packets([dport, 1, 65535]) == [
        packet,
        template.packet(1),
        template.packet(65535),
    ]
    assert struct.unpack("!HHI", packet[:8]) == (sport, dport, seq) and packet[13] == 0x02
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(packet))
    assert _checksum(pseudo + packet) == 0  # a receiver's check: the sum folds to 0xFFFF


def test_text_summary_counts_silent_range_addresses_instead_of_listing_them():
    import io

    from careops.exposure.engine.cli import write_summary
    from careops.exposure.engine.results import ScanResult

    result = ScanResult(
        hosts=[
            HostResult("192.0.2.1", services=[Service(22, service="ssh", product="OpenSSH")]),
            *(HostResult(f"192.0.2.{i}", coverage="discovery") for i in range(2, 30)),
        ]
    )
    out = io.StringIO()
    write_summary(result, out)
    text = out.getvalue()
    assert "28 adresse(s) des plages sans réponse à la découverte d'hôtes" in text
    assert "192.0.2.1 : 1 service(s) ouvert(s)" in text and "192.0.2.2 " not in text


def test_adaptive_waits_follow_the_measured_round_trip():
    from careops.exposure.engine.probes import BANNER_FLOOR, adaptive_wait

    # a near host: the service's own time only; a far one: the fixed ceilings
    assert adaptive_wait(0.0005, 1.5, BANNER_FLOOR) == pytest.approx(1.004)
    assert adaptive_wait(0.0005, 1.0) == pytest.approx(0.504)
    assert adaptive_wait(0.2, 1.5, BANNER_FLOOR) == 1.5
    assert adaptive_wait(0.1, 1.0) == 1.0
    assert adaptive_wait(None, 1.5, BANNER_FLOOR) == 1.5  # nothing measured: the ceiling


def test_a_greeting_that_follows_our_request_still_names_the_service():
    """A server that greets only once the client has spoken: its greeting arrives in front of
    a later probe's answer, and is recognised there."""
    from tests.exposure.helpers import identify_behind

    async def late_greeter(reader, writer):
        try:
            await asyncio.wait_for(reader.read(1), 5)
            writer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    service = identify_behind(late_greeter, NOW)
    assert (service.service, service.product, service.version) == ("ssh", "OpenSSH", "9.2p1")
    assert service.details["late_banner"] is True


def test_internal_profile_keeps_the_fixed_waits():
    from careops.exposure.engine.scanner import internal_profile

    assert ScanOptions().adaptive_waits is True
    assert internal_profile(ScanOptions()).adaptive_waits is False


def test_the_sweep_socket_gets_only_the_answers_to_its_own_port():
    import socket
    import struct

    from careops.exposure.engine import synscan

    if not synscan.available():
        pytest.skip("sockets brutes non permises (CAP_NET_RAW)")
    listeners = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    ours, other = (s.getsockname()[1] for s in listeners)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    try:
        assert synscan.attach_port_filter(raw, ours)
        raw.settimeout(0.5)
        for port in (other, ours):
            socket.create_connection(("127.0.0.1", port)).close()
        seen = set()
        try:
            while True:
                packet = raw.recv(128)
                ihl = (packet[0] & 0x0F) * 4
                seen.add(struct.unpack_from("!H", packet, ihl + 2)[0])
        except TimeoutError:
            pass
        assert seen == {ours}  # the connection to the other port never reached Python
    finally:
        raw.close()
        for listener in listeners:
            listener.close()


def test_range_blocks_are_discovered_two_at_a_time(monkeypatch):
    """The next block's discovery probes go out while a block waits for its silent addresses
    (two blocks of 256 at once: 512 neighbour entries at most), and every address is reported."""
    from careops.exposure.engine import scanner

    running, most, seen = set(), [0], []

    async def discover_hosts(block, options, rtt_hint=None):
        running.add(block[0])
        most[0] = max(most[0], len(running))
        seen.append(len(block))
        await asyncio.sleep(0)  # let the other blocks start if they may
        await asyncio.sleep(0)
        running.discard(block[0])
        return {a: "syn" for a in block}, rtt_hint

    monkeypatch.setattr(scanner, "discover_hosts", discover_hosts)
    addresses = {f"192.0.2.{i}" if i < 256 else f"198.51.100.{i - 256}": [] for i in range(512)}
    addresses.update({f"203.0.113.{i}": [] for i in range(100)})
    options = ScanOptions(tls_checks=False, allow_private=True)
    result = asyncio.run(
        scanner.scan([], options, NOW, addresses=addresses, discover=set(addresses))
    )
    assert sorted(seen) == [100, 256, 256] and most[0] == scanner.DISCOVERY_BLOCKS_AT_ONCE == 2
    assert len(result.hosts) == 612
    assert {h.coverage for h in result.hosts} == {"discovery"}


def test_a_declared_host_inside_a_declared_range_gets_every_port(monkeypatch):
    """An address or a name the user declared is audited on every port even when a range also
    declared holds it: it used to get host discovery like its neighbours, and a host that drops
    everything was left with the 35 discovery ports."""
    from careops.exposure.engine import scanner

    assert scanner.range_members(["192.0.2.0/30", "192.0.2.2"]) == {"192.0.2.1"}
    assert scanner.range_members(["192.0.2.1-2", "192.0.2.0/30"]) == {"192.0.2.1", "192.0.2.2"}

    async def nobody_answers(block, options, rtt_hint=None):
        return {a: "syn" for a in block}, rtt_hint

    monkeypatch.setattr(scanner, "discover_hosts", nobody_answers)
    options = ScanOptions(ports=[1], tls_checks=False, allow_private=True)
    result = scanner.scan_sync(["127.0.0.0/30", "127.0.0.2"], options, now=NOW)
    assert {h.address: h.coverage for h in result.hosts} == {
        "127.0.0.1": "discovery",
        "127.0.0.2": "full",
    }
    # the address of a declared name, handed over already resolved (as the app's shards do)
    addresses = {"127.0.0.1": ["portail.chu-exemple.fr"], "127.0.0.2": []}
    result = asyncio.run(
        scanner.scan([], options, NOW, addresses=addresses, discover=set(addresses))
    )
    assert {h.address: h.coverage for h in result.hosts} == {
        "127.0.0.1": "full",
        "127.0.0.2": "discovery",
    }


def test_an_address_no_probe_can_reach_gives_no_level():
    """fe80::1 without its interface: every connect fails on this machine (EINVAL), nothing is
    sent. It used to read as an audited host with nothing exposed: level A, minimum met."""
    from careops.exposure.engine import scan_sync

    options = ScanOptions(ports=[22, 80, 443], udp_ports=[], allow_private=True, tls_checks=False)
    result = scan_sync(["fe80::1"], options, now=NOW)
    (host,) = result.hosts
    assert (host.coverage, host.unreachable, host.services) == ("unreachable", 3, [])
    assert (result.exposure_level, result.minimum_level_met) == ("", False)
    assert any("fe80::1 injoignable depuis ce poste" in e for e in result.errors)
    assert result_from_json(result.to_json()).hosts[0].coverage == "unreachable"


def test_range_addresses_no_probe_can_reach_are_one_sentence_and_no_level(monkeypatch):
    """Addresses of a range that host discovery could not even send to: unreachable, counted in
    one error, and no level (they read as silent addresses of an audited range, level A)."""
    from careops.exposure.engine import scanner

    async def no_route(block, options, rtt_hint=None):
        return {a: scanner.UNREACHABLE for a in block}, rtt_hint

    monkeypatch.setattr(scanner, "discover_hosts", no_route)
    options = ScanOptions(ports=[1], udp_ports=[], tls_checks=False, allow_private=True)
    result = scanner.scan_sync(["127.0.0.0/29"], options, now=NOW)
    assert {h.coverage for h in result.hosts} == {"unreachable"} and len(result.hosts) == 6
    assert (result.exposure_level, result.minimum_level_met) == ("", False)
    assert result.errors == [
        "6 adresse(s) des plages injoignable(s) depuis ce poste (pas de route, ou pare-feu "
        "local), non auditées : 127.0.0.1, 127.0.0.2, 127.0.0.3, 127.0.0.4, 127.0.0.5 …"
    ]


def test_a_host_whose_turn_came_late_gets_the_probes_it_was_due():
    """Beside fast hosts whose answers keep the loop busy, a host paced at 40 000/s kept only
    20 ms of probes per turn however long the turn took, and was swept at 2/3 of its rate; it
    now gets what it was due (up to 100 ms), while a host starting a new pass after a pause
    still gets only the 20 ms burst (politeness after a pause)."""
    from careops.exposure.engine.synscan import CATCH_UP, _Host, _refill

    host = _Host()
    host.rate, host.tokens, host.queued = 40_000.0, 0.0, True
    _refill(host, 0.06)  # a turn 60 ms after the previous one
    assert host.tokens == pytest.approx(40_000 * 0.06)
    host.tokens = 0.0
    _refill(host, 5.0)  # the loop stalled: no more than CATCH_UP's worth
    assert host.tokens == pytest.approx(40_000 * CATCH_UP)
    idle = _Host()
    idle.rate, idle.tokens, idle.queued = 40_000.0, 0.0, False  # nothing waiting: a pause
    _refill(idle, 0.5)
    assert idle.tokens == pytest.approx(40_000 * 0.02)
    gentle = _Host()
    gentle.rate, gentle.tokens, gentle.queued = 300.0, 0.0, False  # the internal profile
    _refill(gentle, 1.0)
    assert gentle.tokens == pytest.approx(6.0)


def test_a_refused_sendmmsg_slot_is_traced_back_to_its_host_and_port():
    from careops.exposure.engine.synscan import _slot

    first, second = object(), object()
    segments = [(first, [22, 80, 443]), (second, [8080, 104])]
    assert _slot(segments, 0) == (first, 22)
    assert _slot(segments, 2) == (first, 443)
    assert _slot(segments, 3) == (second, 8080)
    assert _slot(segments, 4) == (second, 104)
    with pytest.raises(IndexError):
        _slot(segments, 5)
