"""The engine against real services in network namespaces, through ``careops exposure scan``."""

from __future__ import annotations

import json

from tests.exposure.conftest import cli_in_lab


def _services(scan: dict, address: str) -> dict[int, dict]:
    host = next(h for h in scan["hosts"] if h["address"] == address)
    return {s["port"]: s for s in host["services"]}


def _findings(scan: dict, lab) -> set[tuple[str, str, int]]:
    roles = {lab.legacy: "legacy", lab.dropping: "dropping", lab.modern: "modern"}
    return {(f["rule"], roles[f["host"]], f["port"]) for f in scan["findings"]}


def test_json_has_the_documented_shape(lab_scan):
    assert set(lab_scan) >= {
        "hosts",
        "findings",
        "exposure_level",
        "started_at",
        "finished_at",
        "catalogues",
    }
    service = lab_scan["hosts"][0]["services"][0]
    assert set(service) >= {
        "port",
        "transport",
        "service",
        "product",
        "version",
        "cpe",
        "confidence",
        "tls",
        "banner",
    }
    finding = lab_scan["findings"][0]
    assert set(finding) >= {
        "rule",
        "severity",
        "host",
        "port",
        "title",
        "evidence",
        "remediation",
        "cves",
        "kev",
    }
    assert lab_scan["catalogues"]["kev_version"] == "2025.08.25"
    assert lab_scan["catalogues"]["nvd_version"].startswith("2025-08-25")
    assert lab_scan["errors"] == []
    # when each phase ended (seconds from the start), in the order a user reads them
    phases = lab_scan["phases"]
    assert set(phases) == {"targets", "ports", "identification", "tls", "findings"}
    assert phases["targets"] <= phases["ports"] <= phases["findings"]
    assert max(phases.values()) == phases["findings"]


def test_legacy_host_services(lab_scan, lab):
    services = _services(lab_scan, lab.legacy)
    assert sorted(services) == [80, 443, 8080, 9998, 9999]
    for port, kind in ((80, "http"), (8080, "http"), (443, "https")):
        assert services[port]["service"] == kind
        assert (services[port]["product"], services[port]["version"]) == ("nginx", "1.22.1")
        assert services[port]["cpe"] == "cpe:2.3:a:f5:nginx:1.22.1:*:*:*:*:*:*:*"
    assert services[80]["http"]["title"] == "Administration - Console de gestion PACS"
    tls = services[443]["tls"]
    assert tls["error"] == ""
    # sslyze tried SSL 2.0 and 3.0 with its own legacy OpenSSL: Debian's nginx refuses them
    assert tls["protocols"] == ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    suites = tls["accepted_suites"]
    assert {p: len(names) for p, names in suites.items()} == {
        "TLSv1.0": 8,
        "TLSv1.1": 8,
        "TLSv1.2": 29,
        "TLSv1.3": 3,
    }
    # Debian's OpenSSL 3 offers no NULL, EXPORT, RC4, DES or 3DES suite even with
    # "ALL:@SECLEVEL=0": only anonymous ECDH is weak. CBC with SHA-1 is accepted, not weak.
    assert tls["weak_suites"] == [
        "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
        "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
    ]
    assert "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" in suites["TLSv1.0"]
    assert tls["expired"] is True and tls["self_signed"] is True
    assert tls["not_after"].startswith("2021-01-01")
    assert tls["key"] == "RSA-2048" and tls["sans"] == ["pacs.chu-test.fr"]
    assert tls["hostname_matches"] is None  # scanned by address: no name to check
    assert tls["trusted"] is False and tls["trust_stores"] == [] and tls["chain_length"] == 1
    assert "not valid at validation time" in tls["chain_error"]  # strict validation: the date
    assert (tls["heartbleed"], tls["ccs_injection"]) == (False, False)
    assert (tls["insecure_renegotiation"], tls["compression"]) == (False, False)
    assert tls["robot"] == "NOT_VULNERABLE_NO_ORACLE"  # RSA key exchange offered, no oracle
    # garbage and a hanging service: recorded, identified as unknown, the run went on
    assert services[9999]["service"] == "unknown"
    assert services[9999]["details"]["unrecognised_answer"] is True
    assert "garbage" in services[9999]["banner"]
    assert services[9998]["service"] == "unknown"


def test_dropping_host_services(lab_scan, lab):
    host = next(h for h in lab_scan["hosts"] if h["address"] == lab.dropping)
    services = _services(lab_scan, lab.dropping)
    assert sorted(services) == [22, 104, 2575, 3389]
    assert host["answered"] is True and host["filtered"] == 13 - 4
    ssh = services[22]
    assert (ssh["service"], ssh["product"], ssh["version"]) == ("ssh", "OpenSSH", "9.2p1")
    assert ssh["cpe"] == "cpe:2.3:a:openbsd:openssh:9.2:p1:*:*:*:*:*:*"
    assert ssh["details"]["distribution"] == "Debian"
    assert services[104]["service"] == "dicom" and services[104]["details"]["accepts_any_aet"]
    assert services[104]["details"]["echo_status"] == 0
    # dcmtk names itself in the association answer: product and version without any log-in
    assert services[104]["product"] == "DCMTK"
    assert services[104]["details"]["implementation"].startswith("OFFIS_DCMTK_")
    assert services[104]["cpe"].startswith("cpe:2.3:a:offis:dcmtk:3.6.")
    assert services[2575]["service"] == "hl7-mllp" and services[2575]["product"] == "LAB_HL7"
    assert services[3389]["service"] == "rdp"


def test_modern_host_services(lab_scan, lab):
    services = _services(lab_scan, lab.modern)
    assert sorted(services) == [80, 443, 6379, 11112]
    assert services[80]["http"]["status"] == 301
    assert services[80]["http"]["missing_headers"] == []  # a redirect carries no page
    tls = services[443]["tls"]
    assert tls["error"] == ""
    assert tls["protocols"] == ["TLSv1.2", "TLSv1.3"] and tls["weak_suites"] == []
    assert tls["accepted_suites"] == {
        "TLSv1.2": [
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ],
        "TLSv1.3": [
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
        ],
    }
    assert tls["expired"] is False and tls["key"] == "EC-secp256r1"
    assert tls["self_signed"] is True and tls["trusted"] is False  # EXP-TLS-004, nothing else
    assert (tls["heartbleed"], tls["ccs_injection"]) == (False, False)
    assert (tls["insecure_renegotiation"], tls["compression"]) == (False, False)
    assert tls["robot"] == "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    assert services[443]["http"]["hsts"] is True and services[443]["http"]["missing_headers"] == []
    redis = services[6379]
    assert (redis["service"], redis["product"]) == ("redis", "Redis")
    assert redis["details"]["auth_required"] is False and redis["version"].startswith("7.")
    assert services[11112]["service"] == "dicom"


def test_exact_findings(lab_scan, lab):
    found = _findings(lab_scan, lab)
    expected = {
        ("EXP-ADMIN-001", "legacy", 80),
        ("EXP-ADMIN-001", "legacy", 8080),
        ("EXP-ADMIN-001", "legacy", 443),
        ("EXP-HTTP-001", "legacy", 80),
        ("EXP-HTTP-001", "legacy", 8080),
        ("EXP-HTTP-002", "legacy", 443),
        ("EXP-HTTP-003", "legacy", 80),
        ("EXP-HTTP-003", "legacy", 8080),
        ("EXP-HTTP-003", "legacy", 443),
        ("EXP-TLS-001", "legacy", 443),
        ("EXP-TLS-002", "legacy", 443),
        ("EXP-TLS-003", "legacy", 443),
        ("EXP-TLS-004", "legacy", 443),
        ("EXP-VULN-001", "legacy", 80),
        ("EXP-VULN-001", "legacy", 8080),
        ("EXP-VULN-001", "legacy", 443),
        ("EXP-SSH-001", "dropping", 22),
        ("EXP-VULN-001", "dropping", 22),
        ("EXP-DICOM-001", "dropping", 104),
        ("EXP-DICOM-002", "dropping", 104),
        ("EXP-HL7-001", "dropping", 2575),
        ("EXP-RDP-001", "dropping", 3389),
        ("EXP-TLS-004", "modern", 443),
        ("EXP-VULN-001", "modern", 80),
        ("EXP-VULN-001", "modern", 443),
        ("EXP-DB-001", "modern", 6379),
        ("EXP-DB-002", "modern", 6379),
        ("EXP-DICOM-001", "modern", 11112),
        ("EXP-DICOM-002", "modern", 11112),
        ("EXP-VULN-001", "modern", 6379),
    }
    assert found == expected
    assert lab_scan["exposure_level"] == "D"
    assert lab_scan["minimum_level_met"] is False


def test_vulnerability_matching_with_backports_and_kev(lab_scan, lab):
    vulns = {
        (f["host"], f["port"], f["cves"][0]): f
        for f in lab_scan["findings"]
        if f["rule"] == "EXP-VULN-001"
    }
    ssh = vulns[(lab.dropping, 22, "CVE-2023-38408")]
    # Debian package: fixes may be backported, so the version-only match is "potential", one step lower
    assert ssh["confidence"] == "potential" and ssh["severity"] == "high" and not ssh["kev"]
    assert (lab.dropping, 22, "CVE-2024-6387") in vulns
    nginx = vulns[(lab.legacy, 443, "CVE-2022-41741")]
    assert nginx["confidence"] == "version" and nginx["severity"] == "high"
    redis = vulns[(lab.modern, 6379, "CVE-2022-0543")]
    assert redis["kev"] is True and redis["severity"] == "critical"
    critical_first = [f["severity"] for f in lab_scan["findings"]]
    assert critical_first == sorted(
        critical_first, key=["critical", "high", "medium", "low", "info"].index
    )


def test_dropping_host_is_scanned_completely(lab):
    done = cli_in_lab(
        lab,
        "exposure",
        "scan",
        lab.dropping,
        "--ports",
        "1-20000",
        "--allow-private",
        "--json",
        "--no-tls-checks",
        "--concurrency",
        "2000",
        "--per-host",
        "2000",
    )
    assert done.returncode == 0, done.stderr
    host = json.loads(done.stdout)["hosts"][0]
    assert [s["port"] for s in host["services"]] == [22, 104, 2575, 3389]
    assert host["filtered"] == 20000 - 4


def test_private_addresses_refused_without_the_internal_option(lab):
    done = cli_in_lab(lab, "exposure", "scan", lab.modern, "--ports", "6379", "--json")
    assert done.returncode == 2
    assert "privée, de bouclage ou locale refusée" in done.stderr
    assert "--allow-private" in done.stderr  # the CLI names its own option, not the web one
    assert "Aucun hôte analysé" in done.stderr
    assert json.loads(done.stdout)["exposure_level"] == ""


def test_bad_targets_are_reported_and_the_run_continues(lab):
    done = cli_in_lab(
        lab,
        "exposure",
        "scan",
        "10.0.0.0/33",
        "nom..invalide",
        "hote-inconnu.invalid",
        lab.modern,
        "--ports",
        "6379",
        "--allow-private",
        "--json",
        "--nameserver",
        f"{lab.scanner}:53",
    )
    assert done.returncode == 0, done.stderr
    assert "Cible invalide : « 10.0.0.0/33 »" in done.stderr
    assert "Cible invalide : « nom..invalide »" in done.stderr
    assert "hote-inconnu.invalid" in done.stderr
    result = json.loads(done.stdout)
    assert [h["address"] for h in result["hosts"]] == [lab.modern]
    assert len(result["errors"]) == 3


def _scan(lab, *args: str) -> dict:
    done = cli_in_lab(lab, "exposure", "scan", *args, "--allow-private", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_defaults_cover_every_tcp_port_with_syn_probes(lab):
    result = _scan(lab, lab.dropping, lab.legacy, "--discovery-only")
    hosts = {h["address"]: h for h in result["hosts"]}
    dropping, legacy = hosts[lab.dropping], hosts[lab.legacy]
    assert [s["port"] for s in dropping["services"] if s["transport"] == "tcp"] == [
        22,
        104,
        2575,
        3389,
    ]
    # 9998 and 9999 are outside any port list: only a full-port audit sees them
    assert [s["port"] for s in legacy["services"] if s["transport"] == "tcp"] == [
        80,
        443,
        8080,
        9998,
        9999,
    ]
    assert dropping["ports_scanned"] == 65535 + 2 and dropping["method"] == "syn"
    assert dropping["filtered"] >= 65535 - 4
    # slow start: the host that answers every probe is probed faster than the start rate (up
    # to the 250,000/s ceiling); the host that drops nearly everything stays at the start rate
    assert 40000 < legacy["peak_rate"] <= 250000, legacy["peak_rate"]
    assert dropping["peak_rate"] == 40000
    # the speed this buys is measured against nmap in benchmarks/exposure.py, not here


def test_explicit_host_rate_is_a_ceiling_the_slow_start_never_passes(lab):
    slow = _scan(lab, lab.legacy, "--discovery-only", "--ports", "1-20000", "--host-rate", "5000")
    capped = _scan(
        lab, lab.legacy, "--discovery-only", "--ports", "1-20000", "--host-rate", "60000"
    )
    assert slow["hosts"][0]["peak_rate"] == 5000  # under the start rate: starts at the ceiling
    assert capped["hosts"][0]["peak_rate"] == 60000  # 40,000 doubled, capped
    for result in (slow, capped):
        assert [s["port"] for s in result["hosts"][0]["services"]] == [80, 443, 8080, 9998, 9999]


def test_connect_scan_fallback_finds_the_same_ports(lab):
    result = _scan(
        lab, lab.dropping, "--discovery-only", "--method", "connect", "--ports", "1-4000"
    )
    host = result["hosts"][0]
    assert host["method"] == "connect"
    assert [s["port"] for s in host["services"]] == [22, 104, 2575, 3389]


def test_ranges_get_host_discovery_declared_hosts_every_port(lab):
    base = lab.subnet.rsplit(".", 1)[0]
    absent = f"{base}.77"  # declared: audited on every port although nothing answers
    result = _scan(lab, f"{base}.0/28", absent, "--discovery-only", "--ports", "1-3000")
    hosts = {h["address"]: h for h in result["hosts"]}
    assert len(hosts) == 14 + 1
    full = {a for a, h in hosts.items() if h["coverage"] == "full"}
    assert full == {lab.scanner, lab.legacy, lab.dropping, lab.modern, absent}
    assert hosts[absent]["ports_scanned"] == 3000 and not hosts[absent]["answered"]
    silent = hosts[f"{base}.9"]
    assert silent["coverage"] == "discovery" and silent["services"] == []
    assert [s["port"] for s in hosts[lab.dropping]["services"]] == [22, 104, 2575]
    # --no-discovery: every address of the range gets every port
    result = _scan(lab, f"{base}.8-9", "--discovery-only", "--ports", "1-100", "--no-discovery")
    assert [h["coverage"] for h in result["hosts"]] == ["full", "full"]


def _nft(lab, role: str, *commands: str) -> None:
    for command in commands:
        done = lab.run_in(role, "nft", command)
        assert done.returncode == 0, done.stderr


def test_rate_limiting_middlebox_results_stay_complete(lab):
    """A token bucket in front of the host drops SYNs over 1000/s: the scan backs off to the
    rate it measures and still finds every port, closed ones included."""
    _nft(
        lab,
        "modern",
        "add table inet bucket",
        "add chain inet bucket input { type filter hook input priority -10; policy accept; }",
        "add rule inet bucket input tcp flags syn limit rate over 1000/second burst 50 packets drop",
    )
    try:
        result = _scan(lab, lab.modern, "--discovery-only", "--ports", "1-3000,6379,11112")
    finally:
        lab.run_in("modern", "nft", "delete table inet bucket")
    host = result["hosts"][0]
    assert [s["port"] for s in host["services"]] == [80, 443, 6379, 11112]
    assert host["filtered"] == 0  # every closed port answered in the end: nothing lost
    assert host["backoffs"] >= 1
    assert host["peak_rate"] == 40000  # its first window fell short: the slow start stopped


def test_internal_profile_keeps_under_its_per_host_ceiling(lab):
    """A meter on the target counts SYNs beyond 400/s: the internal profile (300/s per host)
    stays under it; the internet profile does not (the meter works)."""
    _nft(
        lab,
        "legacy",
        "add table inet ceiling",
        "add chain inet ceiling input { type filter hook input priority -10; policy accept; }",
        "add rule inet ceiling input tcp flags syn limit rate over 400/second burst 20 packets counter",
    )
    try:
        internal = _scan(lab, lab.legacy, "--discovery-only", "--ports", "1-900,8080,9999",
                         "--profile", "internal")  # fmt: skip
        over_internal = lab.run_in("legacy", "nft", "list table inet ceiling").stdout
        _nft(lab, "legacy", "reset counters table inet ceiling")
        _scan(lab, lab.legacy, "--discovery-only", "--ports", "1-900")
        over_internet = lab.run_in("legacy", "nft", "list table inet ceiling").stdout
    finally:
        lab.run_in("legacy", "nft", "delete table inet ceiling")
    assert [s["port"] for s in internal["hosts"][0]["services"]] == [80, 443, 8080, 9999]
    assert internal["hosts"][0]["peak_rate"] == 300  # the gentle profile never grows
    assert "counter packets 0 " in over_internal, over_internal
    assert "counter packets 0 " not in over_internet, over_internet
