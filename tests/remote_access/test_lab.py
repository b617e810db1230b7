"""Real VPN gateways in network namespaces: a strongSwan IKEv1 gateway (charon + swanctl) and an
OpenVPN server, their own configuration files parsed, the lab scanned by the exposure engine,
and an undeclared RDP listener found; then ``careops remote-access check`` on all of it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from careops.remote_access.engine import vpn
from tests.exposure import lab as lab_module
from tests.exposure.conftest import cli_in_lab, need
from tests.remote_access.helpers import inventory_bytes, vendor_path

REPO = Path(__file__).resolve().parents[2]

SWANCTL = """connections {{
  telemaintenance {{
    version = 1
    aggressive = yes
    local_addrs = {address}
    remote_addrs = %any
    proposals = aes128-sha1-modp1024
    local {{
      auth = psk
      id = vpn.chu-test.fr
    }}
    remote {{
      auth = psk
    }}
    children {{
      biomed {{
        local_ts = 10.0.0.0/8
        esp_proposals = aes128-sha1
      }}
    }}
  }}
}}
secrets {{
  ike-lab {{
    secret = "careops-lab-psk-not-a-secret"
  }}
}}
"""


def _pki(directory: Path) -> None:
    """A CA and a server certificate for OpenVPN (EC P-256, valid one day)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "careops lab CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vpn.chu-test.fr")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.crt").write_bytes(ca.public_bytes(pem))
    (directory / "server.crt").write_bytes(cert.public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(directory / "server.key", 0o600)


def _openvpn_conf(directory: Path, address: str) -> Path:
    """A remote-work server as often found: password only (no client certificate, no second
    factor) and a route to the whole 10/8 pushed to every client."""
    conf = directory / "server.conf"
    conf.write_text(
        f"local {address}\nport 1194\nproto udp\ndev tun\n"
        f"ca {directory}/ca.crt\ncert {directory}/server.crt\nkey {directory}/server.key\n"
        "dh none\nserver 10.8.0.0 255.255.255.0\ntopology subnet\n"
        "verify-client-cert none\nusername-as-common-name\nscript-security 2\n"
        "auth-user-pass-verify /bin/false via-file\n"
        'push "route 10.0.0.0 255.0.0.0"\n'
        "data-ciphers AES-256-GCM:AES-128-GCM\nkeepalive 10 60\n"
        f"status {directory}/status.log\nverb 3\n"
    )
    return conf


def _wait_udp(lab, role: str, port: int, process, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        out = subprocess.run(
            [*lab.exec_args(role), "ss", "-Hlun"], capture_output=True, text=True
        ).stdout
        if any(line.split()[3].endswith(f":{port}") for line in out.splitlines() if line.strip()):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise lab_module.LabUnavailable(f"port {port}/udp pas à l'écoute dans {role}")


@pytest.fixture(scope="module")
def vpn_lab():
    need(lab_module.available())
    need(lab_module.ike_available())
    need("" if shutil.which("openvpn") else "openvpn absent (paquet Debian openvpn, voir .ci/run)")
    lab = lab_module.build(with_services=False)
    try:
        swanctl = SWANCTL.format(address=lab.legacy)
        lab_module.start_ike_gateway(
            lab, "legacy", version=1, aggressive=True, swanctl_conf=swanctl
        )
        ovpn_dir = lab.directory / "openvpn"
        ovpn_dir.mkdir()
        _pki(ovpn_dir)
        conf = _openvpn_conf(ovpn_dir, lab.modern)
        process = lab.start("modern", "openvpn", "--config", str(conf))
        _wait_udp(lab, "modern", 1194, process)
        # an RDP responder nobody declared, on the "dropping" host
        lab.start(
            "dropping",
            sys.executable,
            str(lab_module.RESPONDERS),
            "--bind",
            lab.dropping,
            "--rdp",
            "3389",
        )
        lab.wait_listening("dropping", [3389])
        yield lab, lab.directory / "ike-legacy" / "swanctl.conf", conf
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def lab_scan(vpn_lab, tmp_path_factory) -> Path:
    lab, _, _ = vpn_lab
    done = cli_in_lab(
        lab,
        "exposure",
        "scan",
        lab.legacy,
        lab.dropping,
        lab.modern,
        "--ports",
        "22,3389,U:500,4500",
        "--allow-private",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    path = tmp_path_factory.mktemp("scan") / "scan.json"
    path.write_text(done.stdout)
    return path


def test_real_strongswan_configuration_is_parsed_as_charon_loaded_it(vpn_lab):
    lab, swanctl, _ = vpn_lab
    (conn,) = vpn.parse_file(swanctl)
    assert (conn.kind, conn.name, conn.local_addresses) == (
        "swanctl",
        "telemaintenance",
        [lab.legacy],
    )
    assert conn.ike_versions == [1] and conn.aggressive and conn.psk_only and not conn.mfa
    assert conn.weak == ["SHA-1", "groupe DH 2 (1024 bits)"] and conn.routes == ["10.0.0.0/8"]
    assert "careops-lab-psk-not-a-secret" not in json.dumps(conn.to_json())


def test_real_openvpn_configuration_is_parsed_as_the_server_runs_it(vpn_lab):
    lab, _, conf = vpn_lab
    (conn,) = vpn.parse_file(conf)
    assert (conn.kind, conn.port, conn.local_addresses) == ("openvpn", 1194, [lab.modern])
    assert not conn.client_certificate and not conn.mfa and conn.remote_auth == ["password"]
    assert conn.routes == ["10.0.0.0/8"] and conn.weak == []


def test_check_cli_on_the_lab_fails_weak_paths_and_reports_the_undeclared_rdp(
    vpn_lab, lab_scan, tmp_path
):
    lab, swanctl, conf = vpn_lab
    scan = json.loads(lab_scan.read_text())
    assert any(f["rule"] == "EXP-IKE-003" and f["host"] == lab.legacy for f in scan["findings"])
    inventory = tmp_path / "inventaire.xlsx"
    inventory.write_bytes(
        inventory_bytes(
            [
                vendor_path(
                    ref="VPN-BIO",
                    technology="ipsec_vpn",
                    entry_point=lab.legacy,
                    vpn_connection="telemaintenance",
                    through_bastion=False,
                    auth_factors=["password"],
                ),
                vendor_path(
                    ref="VPN-TT",
                    name="Télétravail",
                    population="staff_remote_work",
                    technology="tls_vpn",
                    entry_point=f"{lab.modern}:1194",
                    vpn_connection="server",
                    auth_factors=["password", "totp"],
                    managed_devices_only=True,
                    admin_rights_from_remote=False,
                    through_bastion=False,
                    target_networks=["10.30.0.0/16"],
                ),
            ]
        )
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "careops.cli",
            "remote-access",
            "check",
            str(inventory),
            "--exposure",
            str(lab_scan),
            "--vpn-config",
            str(swanctl),
            str(conf),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 1, done.stderr  # blocking failures and an undeclared path
    report = json.loads(done.stdout)
    paths = {p["ref"]: {c["code"]: c for c in p["checks"]} for p in report["paths"]}
    bio = paths["VPN-BIO"]
    assert bio["A2"]["status"] == "fail" and bio["A2"]["source"] == "exposure"
    assert "EXP-IKE-003" in bio["A2"]["reason"]
    assert bio["A3"]["status"] == "fail" and "clé pré-partagée seule" in bio["A3"]["reason"]
    assert "accepte IKEv1" in bio["A11"]["reason"] and "10.0.0.0/8" in bio["A11"]["reason"]
    staff = paths["VPN-TT"]
    assert staff["A3"]["status"] == "fail" and staff["A3"]["source"] == "vpn"
    assert "10.0.0.0/8, plus large que les cibles" in staff["A11"]["reason"]
    undeclared = {(u["host"], u["port"], u["service"], u["rule"]) for u in report["undeclared"]}
    assert (lab.dropping, 3389, "rdp", "EXP-RDP-001") in undeclared
    assert report["remediation"][0]["blocking"] is True
    text = subprocess.run(
        [
            sys.executable,
            "-m",
            "careops.cli",
            "remote-access",
            "check",
            str(inventory),
            "--exposure",
            str(lab_scan),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    ).stdout
    assert "Accès non déclarés" in text and f"{lab.dropping}:3389 rdp" in text
