"""UDP IKE discovery: the parser on crafted and broken packets, loopback responders, and real
strongSwan gateways in the lab's namespaces, through ``careops exposure scan``."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careops.exposure.engine import rules, targets, udp
from careops.exposure.engine.results import HostResult, Service
from careops.exposure.engine.scanner import ScanOptions
from tests.exposure import lab as lab_module
from tests.exposure.conftest import REPO, cli_in_lab, need

STRONGSWAN_VID = "882fe56d6fd20dbc2251613b2ebe5beb"  # md5("strongSwan")


# ---------------------------------------------------------------- crafted answers


def v2_answer(spi: bytes, *payloads: tuple[int, bytes], flags: int = 0x20) -> bytes:
    """An IKEv2 IKE_SA_INIT response carrying the given (payload type, body) list."""
    body = b""
    for index, (_kind, data) in enumerate(payloads):
        following = payloads[index + 1][0] if index + 1 < len(payloads) else 0
        body += struct.pack("!BBH", following, 0, 4 + len(data)) + data
    first = payloads[0][0] if payloads else 0
    header = spi + os.urandom(8) + struct.pack("!BBBBII", first, 0x20, 34, flags, 0, 28 + len(body))
    return header + body


def v2_notify(code: int, data: bytes = b"") -> tuple[int, bytes]:
    return 41, struct.pack("!BBH", 0, 0, code) + data


def test_requests_are_well_formed_ike():
    spi = os.urandom(8)
    request = udp.parse_ike(udp.build_ikev2_sa_init(spi, os.urandom(32), 12345))
    assert (request.version, request.exchange) == (2, "IKE_SA_INIT")
    assert request.initiator_spi == spi.hex() and request.responder_spi == "00" * 8
    assert request.payloads == ["SA", "KE", "Nonce"] and request.dh_group == 14
    assert request.proposal[:2] == ["AES-CBC-256", "AES-CBC-128"]  # first proposal read
    main_mode = udp.parse_ike(udp.build_ikev1_main_mode(spi))
    assert (main_mode.version, main_mode.exchange, main_mode.payloads) == (1, "Main Mode", ["SA"])
    assert main_mode.proposal == ["AES-CBC-256", "SHA2-256", "PSK", "MODP-2048"]


def test_notify_answers_count_as_ike():
    spi = os.urandom(8)
    answer = udp.parse_ike(v2_answer(spi, v2_notify(14)))
    assert answer.notifies == ["NO_PROPOSAL_CHOSEN"] and answer.summary().endswith(
        "(N(NO_PROPOSAL_CHOSEN))"
    )
    answer = udp.parse_ike(v2_answer(spi, v2_notify(17, struct.pack("!H", 19))))
    assert answer.notifies == ["INVALID_KE_PAYLOAD"] and answer.dh_group == 19
    # IKEv1 informational INVALID-MAJOR-VERSION (DOI, protocol, SPI size, type)
    notify = struct.pack("!IBBH", 1, 1, 0, 5)
    body = struct.pack("!BBH", 0, 0, 4 + len(notify)) + notify
    v1 = spi + bytes(8) + struct.pack("!BBBBII", 11, 0x10, 5, 0, 0, 28 + len(body)) + body
    answer = udp.parse_ike(v1)
    assert (answer.version, answer.exchange, answer.notifies) == (
        1,
        "Informational",
        ["INVALID-MAJOR-VERSION"],
    )


def test_vendor_ids_map_to_products():
    assert udp.identify_vendor(STRONGSWAN_VID)["product"] == "strongSwan"
    windows = "1e2b516905991c7d7c96fcbfb587e46100000009"
    assert udp.identify_vendor(windows)["product"] == "Microsoft Windows"
    forti = udp.identify_vendor("1d6e178f6c2c0be284985465450fe9d4")
    assert forti["product"] == "Fortinet FortiGate" and forti["edge_device"] == "fortinet-fortios"
    assert udp.identify_vendor("afcad71368a1f1c96b8696fc77570100")["kind"] == "feature"
    assert udp.identify_vendor("00112233445566778899aabbccddeeff") is None


def test_garbage_and_truncated_packets_raise_a_clear_error():
    spi = os.urandom(8)
    full = v2_answer(spi, (43, bytes.fromhex(STRONGSWAN_VID)), v2_notify(16388, os.urandom(20)))
    assert udp.parse_ike(full).vendor_ids == [STRONGSWAN_VID]
    cases = {
        b"": "trop courte",
        b"\x00\x13\x37garbage\xfe\xff\x01" * 4: "version IKE inconnue",
        full[:20]: "trop courte",
        full[:40]: "tronqué",  # header says more bytes than received
    }
    for data, message in cases.items():
        with pytest.raises(udp.IkeParseError, match=message):
            udp.parse_ike(data)
    # header length lies about the payloads: cut inside a payload
    broken = bytearray(full[:36])
    broken[24:28] = struct.pack("!I", 36)
    with pytest.raises(udp.IkeParseError, match="charge utile"):
        udp.parse_ike(bytes(broken))
    # a payload length of 0 would loop for ever
    looping = bytearray(full)
    looping[30:32] = b"\x00\x00"
    with pytest.raises(udp.IkeParseError, match="longueur de charge utile invalide"):
        udp.parse_ike(bytes(looping))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=299))
def test_parser_never_crashes(data, cut):
    spi = b"\x01" * 8
    samples = [data, v2_answer(spi, (43, data))[: cut + 28], (b"\x00" * 17 + b"\x20" + data)]
    for sample in samples:
        try:
            answer = udp.parse_ike(sample)
        except udp.IkeParseError:
            continue
        assert answer.version in (1, 2)


# ---------------------------------------------------------------- loopback responders


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, reply):
        self.reply = reply
        self.received = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.received += 1
        answer = self.reply(data)
        if answer is not None:
            self.transport.sendto(answer, addr)


async def _probe_with(reply, timeout=0.2, retries=1):
    loop = asyncio.get_running_loop()
    transport, responder = await loop.create_datagram_endpoint(
        lambda: _Responder(reply), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    try:
        started = time.monotonic()
        result = await udp.probe_ike("127.0.0.1", port, timeout, retries)
        return result, responder.received, time.monotonic() - started
    finally:
        transport.close()


def test_loopback_ikev2_notify_answer_is_a_service():
    def reply(data):
        if data[17] == 0x20:
            return v2_answer(data[:8], v2_notify(14))
        return None

    result, received, _ = asyncio.run(_probe_with(reply))
    # IKEv2 answered at once; then IKEv1 Main Mode and Aggressive Mode are asked (each sent
    # twice: one retry) and stay unanswered: IKEv1 is neither accepted nor aggressive.
    assert (result.state, result.versions, received) == ("ike", [2], 5)
    assert not result.ikev1_accepted and not result.aggressive_psk
    service = udp.to_service(result)
    assert (service.transport, service.service, service.product) == ("udp", "ike", "")
    assert service.confidence == "high"
    assert service.details["ike"]["notifies"] == ["NO_PROPOSAL_CHOSEN"]


def test_loopback_ikev1_only_answers_main_mode():
    def reply(data):
        if data[17] == 0x10:  # IKEv2 requests stay unanswered
            vid = bytes.fromhex("1d6e178f6c2c0be284985465450fe9d4")
            body = struct.pack("!BBH", 0, 0, 4 + len(vid)) + vid
            return (
                data[:8]
                + os.urandom(8)
                + struct.pack("!BBBBII", 13, 0x10, 2, 0, 0, 28 + len(body))
                + body
            )
        return None

    result, received, _ = asyncio.run(_probe_with(reply))
    assert (result.state, result.versions) == ("ike", [1])
    # IKEv2 sent twice (one retry), then IKEv1 Main Mode and Aggressive Mode answered at once
    assert received == 4
    # an answer without a chosen proposal is IKE, not an accepted IKEv1 proposal
    assert not result.ikev1_accepted and not result.aggressive_psk
    service = udp.to_service(result)
    assert service.product == "Fortinet FortiGate"
    assert service.details["edge_device"] == "fortinet-fortios"


def test_loopback_garbage_is_an_unrecognised_answer():
    result, _, _ = asyncio.run(_probe_with(lambda data: b"\x00\x13\x37garbage\xfe\xff\x01" * 4))
    assert result.state == "unrecognised" and "pas de l'IKE" in result.detail
    service = udp.to_service(result)
    assert (service.transport, service.service, service.confidence) == ("udp", "unknown", "low")
    assert service.details["unrecognised_answer"] is True and "garbage" in service.banner


def test_loopback_echo_is_not_taken_for_a_gateway():
    result, _, _ = asyncio.run(_probe_with(lambda data: data))
    assert result.state == "unrecognised" and "écho" in result.detail


def test_loopback_truncated_answer_is_reported_not_crashing():
    result, _, _ = asyncio.run(_probe_with(lambda data: v2_answer(data[:8], v2_notify(14))[:33]))
    assert result.state == "unrecognised" and "tronqué" in result.detail


def test_loopback_answers_for_another_spi_are_ignored():
    result, received, _ = asyncio.run(
        _probe_with(lambda data: v2_answer(os.urandom(8), v2_notify(14)))
    )
    assert (result.state, received) == ("open|filtered", 4)
    assert udp.to_service(result) is None


def test_silent_and_closed_ports_give_no_service_within_the_bound():
    result, received, _elapsed = asyncio.run(_probe_with(lambda data: None, timeout=0.2))
    # bounded by its sends (2 × IKEv2, 2 × IKEv1, each waited for once), not by a clock
    assert (result.state, received) == ("open|filtered", 4)
    assert udp.to_service(result) is None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    result = asyncio.run(udp.probe_ike("127.0.0.1", closed_port, 0.2, 1))
    assert result.state == "closed" and udp.to_service(result) is None


def test_udp_port_specs():
    spec = targets.parse_ports("T:1-1024,U:500,4500")
    assert (len(spec), spec.udp) == (1024, [500, 4500])
    assert targets.parse_ports("22,80").udp == []
    assert targets.parse_ports(None).udp == [500, 4500] and 500 in targets.parse_ports(None)
    assert targets.parse_ports("T:default").udp == [] and targets.parse_ports("u:500") == []
    assert targets.parse_ports("all").udp == []
    with pytest.raises(targets.TargetError, match="Trop de ports UDP"):
        targets.parse_ports("U:1-2000")
    # the options carry the UDP ports of the spec; a plain list of ports means TCP only
    assert ScanOptions().udp_ports == [500, 4500]
    assert ScanOptions(ports=targets.parse_ports("22,U:500")).udp_ports == [500]
    assert ScanOptions(ports=[22, 80]).udp_ports == []


def test_ike_rules_fire_once_per_gateway():
    def ike(port, versions, accepted=False, aggressive=False):
        return Service(
            port,
            transport="udp",
            service="ike",
            product="strongSwan",
            details={
                "ike": {
                    "versions": versions,
                    "exchange": "Main Mode" if versions == [1] else "IKE_SA_INIT",
                    "vendor_ids": [{"name": "strongSwan"}],
                    "ikev1_accepted": accepted,
                    "aggressive_psk": aggressive,
                    "responder_id": "vpn.example" if aggressive else "",
                }
            },
        )

    hosts = [
        HostResult("192.0.2.1", services=[ike(500, [2]), ike(4500, [2])]),
        HostResult("192.0.2.2", services=[ike(500, [1], True), ike(4500, [1], True)]),
        HostResult("192.0.2.3", services=[ike(500, [1, 2], True, True)]),
        HostResult("192.0.2.4", services=[ike(500, [1])]),  # IKEv1 notify only: not accepted
    ]
    findings = rules.evaluate(hosts)
    found = {(f.rule, f.host, f.port, f.severity) for f in findings}
    assert found == {
        ("EXP-IKE-001", "192.0.2.1", 500, "low"),
        ("EXP-IKE-001", "192.0.2.2", 500, "low"),
        ("EXP-IKE-002", "192.0.2.2", 500, "medium"),
        ("EXP-IKE-001", "192.0.2.3", 500, "low"),
        ("EXP-IKE-002", "192.0.2.3", 500, "medium"),
        ("EXP-IKE-003", "192.0.2.3", 500, "high"),
        ("EXP-IKE-001", "192.0.2.4", 500, "low"),
    }
    evidence = {(f.rule, f.host): f.evidence for f in findings}
    assert evidence[("EXP-IKE-002", "192.0.2.2")] == (
        "proposition IKEv1 (mode principal) acceptée sur 500/udp ; aucune réponse IKEv2"
    )
    assert evidence[("EXP-IKE-002", "192.0.2.3")].endswith("IKEv2 aussi accepté")
    assert "« vpn.example »" in evidence[("EXP-IKE-003", "192.0.2.3")]


# ---------------------------------------------------------------- real strongSwan in the lab


@pytest.fixture(scope="module")
def ike_lab(lab):
    """strongSwan IKEv2 on the modern host; IKEv1-only gateway on the legacy host (a real
    charon whose IKEv2 requests an nftables rule drops, as a gateway without IKEv2 stays
    silent); every UDP packet dropped on the dropping host."""
    need(lab_module.ike_available())
    rules_by_role = {
        # IKE version byte: UDP header (8) + IKE offset 17, after the 4-byte NAT-T marker on 4500
        "legacy": [
            "add rule inet ikelab input udp dport 500 @th,200,8 0x20 drop",
            "add rule inet ikelab input udp dport 4500 @th,232,8 0x20 drop",
        ],
        "dropping": ["add rule inet ikelab input meta l4proto udp drop"],
    }
    processes = []
    try:
        for role, commands in rules_by_role.items():
            for command in (
                "add table inet ikelab",
                "add chain inet ikelab input { type filter hook input priority 0; policy accept; }",
                *commands,
            ):
                done = lab.run_in(role, "nft", command, timeout=30)
                assert done.returncode == 0, done.stderr
        processes.append(lab_module.start_ike_gateway(lab, "modern", version=2))
        processes.append(lab_module.start_ike_gateway(lab, "legacy", version=1, aggressive=True))
        yield lab
    finally:
        for process in processes:
            lab_module.stop_process(lab, process)
        for role in rules_by_role:
            lab.run_in(role, "nft", "delete table inet ikelab", timeout=30)


@pytest.fixture(scope="module")
def ike_scan(ike_lab) -> dict:
    lab = ike_lab
    done = cli_in_lab(
        lab,
        "exposure",
        "scan",
        lab.legacy,
        lab.dropping,
        lab.modern,
        "--ports",
        "22,U:500,4500",
        "--allow-private",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _host(scan, address):
    return next(h for h in scan["hosts"] if h["address"] == address)


def _udp(scan, address):
    return {s["port"]: s for s in _host(scan, address)["services"] if s["transport"] == "udp"}


def test_strongswan_ikev2_gateway_is_listed(ike_scan, ike_lab):
    services = _udp(ike_scan, ike_lab.modern)
    assert sorted(services) == [500, 4500]
    for port, service in services.items():
        assert (service["service"], service["product"], service["confidence"]) == (
            "ike",
            "strongSwan",
            "high",
        )
        assert service["cpe"] == "cpe:2.3:a:strongswan:strongswan:*:*:*:*:*:*:*:*"
        ike = service["details"]["ike"]
        assert ike["versions"] == [2] and ike["exchange"] == "IKE_SA_INIT"
        assert ike["nat_t"] is (port == 4500)
        assert {"hex": STRONGSWAN_VID, "name": "strongSwan"} in ike["vendor_ids"]
        # the gateway chose from our proposal: its configured aes256-sha256-modp2048
        assert ike["proposal"] == [
            "AES-CBC-256",
            "HMAC-SHA2-256-128",
            "PRF-HMAC-SHA2-256",
            "MODP-2048",
        ]
        assert len(ike["responder_spi"]) == 16 and ike["responder_spi"] != "0" * 16
        # an IKEv2-only strongSwan answers IKEv1 requests with a notify only: not accepted
        assert ike["ikev1_accepted"] is False and ike["aggressive_psk"] is False
    host = _host(ike_scan, ike_lab.modern)
    assert host["ports_scanned"] == 3 and host["answered"] is True
    assert [s["port"] for s in host["services"]] == [500, 4500]  # 22/tcp is closed there


def test_ikev1_only_gateway_is_detected(ike_scan, ike_lab):
    services = _udp(ike_scan, ike_lab.legacy)
    assert sorted(services) == [500, 4500]
    ike = services[500]["details"]["ike"]
    assert ike["versions"] == [1] and ike["exchange"] == "Main Mode"
    assert services[500]["product"] == "strongSwan"
    assert ike["proposal"] == ["AES-CBC-256", "SHA2-256", "MODP-2048", "PSK"]
    names = {v["name"] for v in ike["vendor_ids"]}
    assert {"strongSwan", "XAUTH", "Dead Peer Detection"} <= names
    # the gateway allows Aggressive Mode with its pre-shared key: HASH_R and its identity leak
    assert ike["ikev1_accepted"] is True and ike["aggressive_psk"] is True
    assert ike["responder_id"] == "vpn.chu-test.fr"


def test_dropping_host_udp_gives_no_service(ike_scan, ike_lab):
    host = _host(ike_scan, ike_lab.dropping)
    assert [(s["port"], s["transport"]) for s in host["services"]] == [(22, "tcp")]
    assert host["filtered"] == 2 and host["ports_scanned"] == 3


def test_exact_ike_findings(ike_scan, ike_lab):
    roles = {ike_lab.legacy: "legacy", ike_lab.dropping: "dropping", ike_lab.modern: "modern"}
    found = {(f["rule"], roles[f["host"]], f["port"], f["severity"]) for f in ike_scan["findings"]}
    assert found == {
        ("EXP-IKE-001", "modern", 500, "low"),
        ("EXP-IKE-001", "legacy", 500, "low"),
        ("EXP-IKE-002", "legacy", 500, "medium"),
        ("EXP-IKE-003", "legacy", 500, "high"),
        ("EXP-SSH-001", "dropping", 22, "info"),
    }
    evidence = next(
        f["evidence"]
        for f in ike_scan["findings"]
        if f["rule"] == "EXP-IKE-001" and f["host"] == ike_lab.modern
    )
    assert evidence == (
        "IKEv2 répond sur le port 500/udp (strongSwan) ; identifiants fournisseur : strongSwan"
    )


# The engine run in the scanner namespace with its TCP sweep and its IKE probes spied on: the
# order in which they start and end (no clock), and the result.
SPIED_SCAN = """
import datetime as dt, json, sys
from careops.exposure.engine import scanner, udp

events = []

def spy(module, name):
    real = getattr(module, name)

    async def wrapper(*args, **kwargs):
        events.append(name + " start")
        try:
            return await real(*args, **kwargs)
        finally:
            events.append(name + " end")

    setattr(module, name, wrapper)

spy(udp, "scan_ike")
spy(scanner, "scan_ports")
options = scanner.ScanOptions(allow_private=True, tls_checks=False)
result = scanner.scan_sync(sys.argv[1:], options, now=dt.datetime.now(dt.UTC))
print(json.dumps({"events": events, "result": result.to_json()}))
"""


def test_udp_does_not_slow_the_default_scan_of_a_dropping_host(ike_lab):
    """The silent IKE ports of a host that drops UDP are waited for while its TCP ports are
    swept, never after the sweep (the timing itself is measured by benchmarks/exposure.py)."""
    lab = ike_lab
    done = subprocess.run(
        [*lab.exec_args("scanner"), sys.executable, "-c", SPIED_SCAN, lab.dropping],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    spied = json.loads(done.stdout)
    events = spied["events"]
    # one sweep and one IKE probe set, the IKE probes under way before the sweep ends
    assert sorted(events) == sorted(
        ["scan_ike start", "scan_ike end", "scan_ports start", "scan_ports end"]
    ), events
    assert events.index("scan_ike start") < events.index("scan_ports end"), events
    host = spied["result"]["hosts"][0]
    # the default ports: every TCP port and IKE's 500 and 4500, the UDP ones silent (filtered)
    assert host["ports_scanned"] == 65535 + 2
    assert [s["port"] for s in host["services"]] == [22, 104, 2575, 3389]
    assert host["filtered"] >= 2
