"""A network-namespace lab with real services (see ../shared/reference/exposure-audit.md §5).

Topology (one /24 of 10.231.N.0, N derived from the process id so concurrent runs do not clash):
a hub namespace holding a bridge, a scanner namespace (.1) and three targets, none attached to
the root namespace and with no default route, so no packet can leave the lab.

- legacy (.2): nginx, 443 TLS 1.0–1.3 with all suites and an expired self-signed certificate,
  80 and 8080 an "Administration - Console de gestion PACS" login page without security headers;
  9999 answers garbage, 9998 accepts and never answers.
- dropping (.3): OpenSSH, dcmtk storescp on 104, an RDP X.224 responder on 3389, an HL7 MLLP
  responder on 2575, and an nftables rule dropping every other port.
- modern (.4): nginx TLS 1.2/1.3 only with HSTS and security headers (80 → 301), Redis without a
  password, dcmtk storescp on 11112.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RESPONDERS = Path(__file__).with_name("lab_responders.py")
NEEDED = ["ip", "nginx", "/usr/sbin/sshd", "storescp", "redis-server", "nft", "ssh-keygen"]


class LabUnavailable(RuntimeError):
    """The lab cannot be built here (not root, or a tool missing)."""


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=30)


def _cert(directory: Path, name: str, expired: bool) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if expired
        else ec.generate_private_key(ec.SECP256R1())
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    if expired:
        start, end = dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    else:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        end = start + dt.timedelta(days=365)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


ADMIN_PAGE = (
    "<!doctype html><html><head><title>Administration - Console de gestion PACS</title></head>"
    "<body><form method=post action=/login><input name=user>"
    "<input type=password name=pass><button>Connexion</button></form></body></html>"
)


def _nginx_conf(directory: Path, address: str, legacy: bool, cert: Path, key: Path) -> Path:
    web = directory / "www"
    web.mkdir(exist_ok=True)
    (web / "index.html").write_text(
        ADMIN_PAGE if legacy else "<html><head><title>Portail</title></head><body>ok</body></html>"
    )
    temp = "\n".join(
        f"  {name}_temp_path {directory}/{name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    if legacy:
        servers = f"""
  server {{ listen {address}:80; root {web}; }}
  server {{ listen {address}:8080; root {web}; }}
  server {{ listen {address}:443 ssl; root {web};
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; ssl_ciphers "ALL:@SECLEVEL=0"; }}"""
    else:
        headers = """
    add_header Strict-Transport-Security "max-age=31536000" always;
    add_header Content-Security-Policy "default-src 'self'" always;
    add_header X-Frame-Options DENY always;
    add_header X-Content-Type-Options nosniff always;
    add_header Referrer-Policy no-referrer always;"""
        servers = f"""
  server {{ listen {address}:80; return 301 https://$host$request_uri; }}
  server {{ listen {address}:443 ssl; root {web}; {headers}
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305; }}"""
    conf = directory / "nginx.conf"
    conf.write_text(f"""
daemon off; master_process on; worker_processes 1; user root;
pid {directory}/nginx.pid; error_log {directory}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; server_tokens on; default_type text/html;
{temp}
{servers}
}}
""")
    return conf


@dataclass
class Lab:
    """A running lab: addresses, the scanner namespace, and how to stop it."""

    tag: str
    subnet: str
    scanner: str
    legacy: str
    dropping: str
    modern: str
    namespaces: dict[str, str] = field(default_factory=dict)  # role → namespace name
    processes: list[subprocess.Popen] = field(default_factory=list)
    directory: Path | None = None

    def address(self, role: str) -> str:
        return {
            "scanner": self.scanner,
            "legacy": self.legacy,
            "dropping": self.dropping,
            "modern": self.modern,
        }[role]

    def exec_args(self, role: str = "scanner") -> list[str]:
        """Prefix running a command inside a namespace."""
        return ["ip", "netns", "exec", self.namespaces[role]]

    def run_in(
        self, role: str, *args: str, timeout: float = 300, env=None
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.exec_args(role), *args], capture_output=True, text=True, timeout=timeout, env=env
        )

    def start(self, role: str, *args: str) -> subprocess.Popen:
        log = open(self.directory / f"{role}-{Path(args[0]).name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [*self.exec_args(role), *args], stdout=log, stderr=log, start_new_session=True
        )
        self.processes.append(process)
        return process

    def wait_listening(self, role: str, ports: list[int], deadline: float = 20.0) -> None:
        """Bounded polling of the namespace's listening sockets."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            out = _run(*self.exec_args(role), "ss", "-Hltn").stdout
            listening = {
                int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if line.strip()
            }
            if all(p in listening for p in ports):
                return
            for process in self.processes:
                if process.poll() not in (None, 0):
                    raise LabUnavailable(f"un service du laboratoire s'est arrêté ({process.args})")
            time.sleep(0.1)
        raise LabUnavailable(f"ports {ports} pas à l'écoute dans {role} après {deadline} s")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for namespace in self.namespaces.values():
            _run("ip", "netns", "del", namespace, check=False)
        _run("ip", "netns", "del", f"{self.tag}hub", check=False)
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


IKE_DAEMON = "/usr/lib/ipsec/charon"  # strongSwan's IKE daemon (Debian: strongswan-charon)

STRONGSWAN_CONF = """charon {{
  load = random nonce aes sha1 sha2 hmac gmp kdf pem pkcs1 x509 pubkey kernel-netlink socket-default vici
  i_dont_care_about_security_and_use_aggressive_mode_psk = {aggressive}
  port = 500
  port_nat_t = 4500
  interfaces_use = eth0
  send_vendor_id = yes
  install_routes = no
  install_virtual_ip = no
  cookie_threshold = 100000
  block_threshold = 100000
  init_limit_half_open = 0
  half_open_timeout = 10
  filelog {{
    lab {{
      path = {directory}/charon.log
      default = 1
      ike = 2
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
  plugins {{
    vici {{
      socket = unix://{directory}/charon.vici
    }}
  }}
}}
"""

SWANCTL_CONF = """connections {{
  lab {{
    version = {version}
    aggressive = {aggressive}
    local_addrs = {address}
    remote_addrs = %any
    proposals = aes256-sha256-modp2048
    local {{
      auth = psk
      id = vpn.chu-test.fr
    }}
    remote {{
      auth = psk
    }}
    children {{
      lab {{
        local_ts = {address}/32
        esp_proposals = aes256-sha256
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


def ike_available() -> str:
    """Why a strongSwan gateway cannot run here ("" when it can)."""
    missing = [
        tool
        for tool in (IKE_DAEMON, "swanctl", "unshare", "mount")
        if not (os.path.exists(tool) if tool.startswith("/") else shutil.which(tool))
    ]
    return f"outils absents : {', '.join(missing)} (voir .ci/run)" if missing else ""


def start_ike_gateway(
    lab: Lab, role: str, version: int, aggressive: bool = False, swanctl_conf: str | None = None
) -> subprocess.Popen:
    """Run strongSwan's charon in ``role``'s namespace as an IKEv``version`` PSK gateway;
    ``aggressive`` lets it answer IKEv1 Aggressive Mode with its pre-shared key (strongSwan
    refuses it as a responder unless told it does not care about security).

    Nothing touches the host: charon runs in the role's network namespace (it binds 500/4500
    there, where the only addresses are the lab address and loopback, and handles IKE on eth0
    only) and in its own mount namespace with a private /run, since its pid file path is built
    in (/var/run/charon.pid); configuration, vici socket and log live in the lab's temporary
    directory (STRONGSWAN_CONF); no route, virtual IP or SA is ever installed. The process is in
    ``lab.processes`` (stopped with the lab) and the caller may stop it earlier with
    ``stop_process``. Anti-DoS thresholds are raised because every test run leaves half-open SAs.
    ``swanctl_conf`` replaces the built-in swanctl.conf (one connection, loaded as is).
    """
    reason = ike_available()
    if reason:
        raise LabUnavailable(reason)
    directory = lab.directory / f"ike-{role}"
    directory.mkdir()
    conf = directory / "strongswan.conf"
    flag = "yes" if aggressive else "no"
    conf.write_text(STRONGSWAN_CONF.format(directory=directory, aggressive=flag))
    (directory / "swanctl.conf").write_text(
        swanctl_conf
        or SWANCTL_CONF.format(version=version, address=lab.address(role), aggressive=flag)
    )
    script = f"mount -t tmpfs careops-lab-run /run && exec {IKE_DAEMON}"
    process = lab.start(
        role,
        "env",
        f"STRONGSWAN_CONF={conf}",
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    )
    vici = directory / "charon.vici"
    end = time.monotonic() + 20
    while not vici.exists():
        if process.poll() is not None or time.monotonic() > end:
            stop_process(lab, process)
            raise LabUnavailable(f"charon ne démarre pas dans {role} (voir {directory})")
        time.sleep(0.1)
    loaded = lab.run_in(
        role,
        "swanctl",
        "--load-all",
        "--file",
        str(directory / "swanctl.conf"),
        "--uri",
        f"unix://{vici}",
        timeout=30,
    )
    if loaded.returncode != 0 or "successfully loaded 1 connections" not in loaded.stdout:
        stop_process(lab, process)
        raise LabUnavailable(f"swanctl : {loaded.stdout[-300:]} {loaded.stderr[-300:]}")
    end = time.monotonic() + 20
    while True:
        out = _run(*lab.exec_args(role), "ss", "-Hlun").stdout
        ports = {line.split()[3].rsplit(":", 1)[1] for line in out.splitlines() if line.strip()}
        if {"500", "4500"} <= ports:
            return process
        if time.monotonic() > end:
            stop_process(lab, process)
            raise LabUnavailable(f"charon n'écoute pas sur 500/4500 dans {role}")
        time.sleep(0.1)


def stop_process(lab: Lab, process: subprocess.Popen) -> None:
    """Stop one lab process (its whole process group) before the lab itself stops."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if process in lab.processes:
        lab.processes.remove(process)


def available() -> str:
    """Why the lab cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "le laboratoire réseau exige root (espaces de noms réseau)"
    missing = [tool for tool in NEEDED if not shutil.which(tool)]
    if missing:
        return f"outils absents : {', '.join(missing)} (voir .ci/run)"
    return ""


_BUILDS = itertools.count()


def build(with_services: bool = True) -> Lab:
    """Create the namespaces and start the services; the caller must call ``stop``."""
    reason = available()
    if reason:
        raise LabUnavailable(reason)
    n = 20 + os.getpid() % 200
    # one process may hold two labs at once (exposure and remote-access tests): names differ
    tag = f"cx{os.getpid() % 100000}{next(_BUILDS) % 10}"
    base = f"10.231.{n}"
    lab = Lab(
        tag=tag,
        subnet=f"{base}.0/24",
        scanner=f"{base}.1",
        legacy=f"{base}.2",
        dropping=f"{base}.3",
        modern=f"{base}.4",
    )
    lab.directory = Path(tempfile.mkdtemp(prefix="careops-lab-"))
    os.chmod(lab.directory, 0o755)  # noqa: S103 — lab daemons read their configuration here
    try:
        hub = f"{tag}hub"
        _run("ip", "netns", "add", hub)
        _run("ip", "-n", hub, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", hub, "link", "set", "br0", "up")
        for index, role in enumerate(["scanner", "legacy", "dropping", "modern"], start=1):
            namespace = f"{tag}{role[:3]}"
            lab.namespaces[role] = namespace
            _run("ip", "netns", "add", namespace)
            veth = f"v{tag}{index}"
            _run(
                "ip",
                "link",
                "add",
                veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                namespace,
            )
            _run("ip", "link", "set", veth, "netns", hub)
            _run("ip", "-n", hub, "link", "set", veth, "master", "br0")
            _run("ip", "-n", hub, "link", "set", veth, "up")
            _run("ip", "-n", namespace, "addr", "add", f"{base}.{index}/24", "dev", "eth0")
            _run("ip", "-n", namespace, "link", "set", "eth0", "up")
            _run("ip", "-n", namespace, "link", "set", "lo", "up")
        if with_services:
            _start_services(lab)
    except Exception:
        lab.stop()
        raise
    return lab


def _start_services(lab: Lab) -> None:
    d = lab.directory
    # legacy
    legacy_dir = d / "legacy"
    legacy_dir.mkdir()
    cert, key = _cert(legacy_dir, "pacs.chu-test.fr", expired=True)
    lab.start("legacy", "nginx", "-c", str(_nginx_conf(legacy_dir, lab.legacy, True, cert, key)))
    lab.start(
        "legacy",
        sys.executable,
        str(RESPONDERS),
        "--bind",
        lab.legacy,
        "--garbage",
        "9999",
        "--hang",
        "9998",
    )
    # modern
    modern_dir = d / "modern"
    modern_dir.mkdir()
    cert, key = _cert(modern_dir, "portail.chu-test.fr", expired=False)
    lab.start("modern", "nginx", "-c", str(_nginx_conf(modern_dir, lab.modern, False, cert, key)))
    lab.start(
        "modern",
        "redis-server",
        "--bind",
        lab.modern,
        "--port",
        "6379",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(modern_dir),
    )
    dicom_out = d / "dicom"
    dicom_out.mkdir()
    lab.start("modern", "storescp", "-aet", "ARCHIVE", "-od", str(dicom_out), "11112")
    # dropping
    drop_dir = d / "dropping"
    drop_dir.mkdir()
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(drop_dir / "hostkey"))
    Path("/run/sshd").mkdir(exist_ok=True)
    (drop_dir / "sshd_config").write_text(
        f"ListenAddress {lab.dropping}\nPort 22\nHostKey {drop_dir / 'hostkey'}\n"
        f"PidFile {drop_dir / 'sshd.pid'}\nPasswordAuthentication no\nUsePAM no\n"
    )
    lab.start("dropping", "/usr/sbin/sshd", "-D", "-e", "-f", str(drop_dir / "sshd_config"))
    lab.start("dropping", "storescp", "-aet", "HOSP_PACS", "-od", str(dicom_out), "104")
    lab.start(
        "dropping",
        sys.executable,
        str(RESPONDERS),
        "--bind",
        lab.dropping,
        "--rdp",
        "3389",
        "--hl7",
        "2575",
    )
    ns = lab.namespaces["dropping"]
    for command in (
        "add table inet lab",
        "add chain inet lab input { type filter hook input priority 0; policy accept; }",
        "add rule inet lab input tcp dport != { 22, 104, 2575, 3389 } drop",
    ):
        _run("ip", "netns", "exec", ns, "nft", command)
    lab.wait_listening("legacy", [80, 443, 8080, 9998, 9999])
    lab.wait_listening("modern", [80, 443, 6379, 11112])
    lab.wait_listening("dropping", [22, 104, 2575, 3389])
