"""VPN configuration parsers: strongSwan (swanctl.conf, ipsec.conf), OpenVPN server, WireGuard.

Each parser returns the connections found with the facts the checks need (IKE version,
aggressive mode, authentication rounds, proposals, routes given to clients) and the problems
detected, in French. Files are parsed, never executed; ``include`` directives are not followed
(the establishment exports each file it uses).

Formats: strongSwan's settings syntax (``name { key = value }``, swanctl.conf(5)); the
ipsec.conf(5) ``conn`` sections; the OpenVPN 2.x reference manual's directives (one per line);
wg(8)/wg-quick(8) INI-style ``[Interface]``/``[Peer]`` sections.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEAK_ALGORITHMS = {
    "des": "DES",
    "3des": "3DES",
    "md5": "MD5",
    "sha1": "SHA-1",
    "modp768": "groupe DH 1 (768 bits)",
    "modp1024": "groupe DH 2 (1024 bits)",
    "modp1536": "groupe DH 5 (1536 bits)",
    "blowfish": "Blowfish",
    "bf": "Blowfish",
    "des-cbc": "DES",
    "des-ede3-cbc": "3DES",
    "rc2": "RC2",
}
MFA_PLUGIN = re.compile(r"otp|totp|google-authenticator|duo|privacyidea|radius|linotp|oath", re.I)
MAX_FILE_BYTES = 2 * 1024 * 1024


class VpnConfigError(ValueError):
    """A file that cannot be read as a VPN configuration (French message)."""


@dataclass
class VpnConnection:
    """One VPN connection (or server) found in a configuration file."""

    source: str  # file name
    kind: str  # swanctl, ipsec.conf, openvpn, wireguard
    name: str
    local_addresses: list[str] = field(default_factory=list)
    port: int | None = None
    ike_versions: list[int] = field(default_factory=list)
    aggressive: bool = False
    remote_auth: list[str] = field(default_factory=list)  # one entry per round
    proposals: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    psk_only: bool = False
    client_certificate: bool = False
    mfa: bool = False
    routes: list[str] = field(default_factory=list)  # networks reachable by clients
    issues: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _weak(proposals: list[str]) -> list[str]:
    found: list[str] = []
    for proposal in proposals:
        for token in re.split(r"[-_,\s:]+", proposal.lower()):
            label = WEAK_ALGORITHMS.get(token)
            if label and label not in found:
                found.append(label)
    return found


def _network(text: str) -> str | None:
    text = text.strip().split("[", 1)[0]
    if not text or text.startswith("%") or text == "dynamic":
        return None
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


# ---------------------------------------------------------------- strongSwan settings syntax


def _settings_tree(text: str) -> dict[str, Any]:
    """strongSwan's settings syntax as nested dicts (keys keep their last value)."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|[{}]|=|\n|[^\s{}=#"]+|#[^\n]*', text)
    root: dict[str, Any] = {}
    stack = [root]
    pending: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if word.startswith("#"):
            i += 1
            continue
        if word == "{":
            name = " ".join(pending)
            child: dict[str, Any] = {}
            stack[-1][name] = child
            stack.append(child)
            pending = []
        elif word == "}":
            if len(stack) == 1:
                raise VpnConfigError("accolade fermante sans ouvrante")
            stack.pop()
            pending = []
        elif word == "=":
            key = " ".join(pending)
            value_parts = []
            i += 1
            while (
                i < len(tokens) and tokens[i] not in ("\n", "}") and not tokens[i].startswith("#")
            ):
                value_parts.append(tokens[i].strip('"'))
                i += 1
            stack[-1][key] = " ".join(value_parts)
            pending = []
            continue
        elif word != "\n":
            pending.append(word)
        i += 1
    if len(stack) != 1:
        raise VpnConfigError("accolade ouvrante non refermée")
    return root


def _split(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,\s]+", value or "") if v.strip()]


def _finish(conn: VpnConnection) -> VpnConnection:
    conn.weak = _weak(conn.proposals)
    first = conn.remote_auth[0] if conn.remote_auth else ""
    conn.psk_only = len(conn.remote_auth) == 1 and first in ("psk", "secret", "xauthpsk")
    if first in ("pubkey", "rsasig", "ecdsasig", "certificate"):
        conn.client_certificate = True
    if len(conn.remote_auth) >= 2 or any(MFA_PLUGIN.search(a) for a in conn.remote_auth):
        conn.mfa = True
    if 1 in conn.ike_versions:
        conn.issues.append("IKEv1 accepté (protocole obsolète, RFC 9395)")
    if conn.aggressive:
        conn.issues.append("mode agressif IKEv1 activé")
    if conn.psk_only:
        conn.issues.append("authentification par clé pré-partagée seule")
    if conn.weak:
        conn.issues.append("algorithmes faibles : " + ", ".join(conn.weak))
    if conn.remote_auth and not conn.client_certificate and conn.kind != "wireguard":
        conn.issues.append("pas de certificat client")
    if not conn.mfa:
        conn.issues.append("pas de second facteur configuré")
    return conn


def parse_swanctl(text: str, source: str = "swanctl.conf") -> list[VpnConnection]:
    """Connections of a swanctl.conf: ``connections { NAME { version, aggressive, proposals,
    local_addrs, remote[-N] { auth }, children { X { local_ts, esp_proposals } } } }``."""
    tree = _settings_tree(text)
    connections = tree.get("connections")
    if not isinstance(connections, dict):
        raise VpnConfigError("aucune section « connections » : ce n'est pas un swanctl.conf")
    result = []
    for name, conf in connections.items():
        if not isinstance(conf, dict):
            continue
        version = str(conf.get("version", "0")).strip()
        conn = VpnConnection(source, "swanctl", name)
        conn.ike_versions = {"1": [1], "2": [2]}.get(version, [1, 2])
        conn.aggressive = str(conf.get("aggressive", "no")).lower() == "yes"
        conn.local_addresses = _split(conf.get("local_addrs", ""))
        conn.proposals = _split(conf.get("proposals", "default"))
        rounds = sorted(
            k for k, v in conf.items() if isinstance(v, dict) and re.fullmatch(r"remote(-\d+)?", k)
        )
        conn.remote_auth = [str(conf[k].get("auth", "pubkey")).lower() for k in rounds]
        for child in (conf.get("children") or {}).values():
            if isinstance(child, dict):
                conn.proposals += _split(child.get("esp_proposals", ""))
                conn.routes += [n for n in map(_network, _split(child.get("local_ts", ""))) if n]
        result.append(_finish(conn))
    return result


def parse_ipsec_conf(text: str, source: str = "ipsec.conf") -> list[VpnConnection]:
    """``conn`` sections of an ipsec.conf (``%default`` and ``also=`` applied); the gateway is
    the left side, remote users the right side."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw[0].isspace():
            parts = line.split()
            if parts[0] == "conn" and len(parts) == 2:
                current = sections.setdefault(parts[1], {})
            else:
                current = None
            continue
        if current is not None and "=" in line:
            key, value = line.strip().split("=", 1)
            current[key.strip().lower()] = value.strip().strip('"')
    if not sections:
        raise VpnConfigError("aucune section « conn » : ce n'est pas un ipsec.conf")
    default = sections.pop("%default", {})

    def resolved(name: str, depth: int = 0) -> dict[str, str]:
        own = sections.get(name, {})
        merged = dict(default)
        for other in _split(own.get("also", "")):
            if depth < 5:
                merged.update(resolved(other, depth + 1))
        merged.update(own)
        return merged

    result = []
    for name in sections:
        conf = resolved(name)
        if conf.get("auto", "") == "ignore":
            continue
        conn = VpnConnection(source, "ipsec.conf", name)
        exchange = conf.get("keyexchange", "ike").lower()
        conn.ike_versions = {"ikev1": [1], "ikev2": [2]}.get(exchange, [1, 2])
        conn.aggressive = conf.get("aggressive", "no").lower() == "yes"
        conn.local_addresses = [a for a in _split(conf.get("left", "")) if not a.startswith("%")]
        conn.proposals = _split(conf.get("ike", "default")) + _split(conf.get("esp", ""))
        authby = conf.get("authby", "").lower()
        first = conf.get("rightauth", "").lower()
        if not first:
            first = "psk" if authby in ("secret", "psk", "xauthpsk") else "pubkey"
        conn.remote_auth = [first]
        second = conf.get("rightauth2", "").lower()
        if second:
            conn.remote_auth.append(second)
        elif authby == "xauthpsk":
            conn.remote_auth.append("xauth")
        conn.routes = [n for n in map(_network, _split(conf.get("leftsubnet", ""))) if n]
        result.append(_finish(conn))
    return result


def _dotted(mask: str) -> int | None:
    try:
        return ipaddress.ip_network(f"0.0.0.0/{mask}").prefixlen
    except ValueError:
        return None


def parse_openvpn(text: str, source: str = "server.conf") -> list[VpnConnection]:
    """An OpenVPN server configuration: pushed routes, client certificates, user/password
    verification and MFA plugins, static-key mode, ciphers."""
    directives: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        directives.append(re.findall(r'"[^"]*"|\S+', line))
    names = {d[0].lower() for d in directives}
    if not names & {"dev", "server", "mode", "port", "proto", "ca", "secret", "server-bridge"}:
        raise VpnConfigError("aucune directive OpenVPN reconnue (dev, server, port…)")
    conn = VpnConnection(source, "openvpn", Path(source).stem)
    conn.port = 1194
    verify_client = "require"
    password = False
    for d in directives:
        key, args = d[0].lower(), [a.strip('"') for a in d[1:]]
        if key == "local" and args:
            conn.local_addresses.append(args[0])
        elif key == "port" and args and args[0].isdigit():
            conn.port = int(args[0])
        elif (
            key in ("cipher", "data-ciphers", "data-ciphers-fallback", "auth", "tls-cipher")
            and args
        ):
            conn.proposals += args[0].split(":")
        elif key == "verify-client-cert" and args:
            verify_client = args[0].lower()
        elif key in ("client-cert-not-required",):
            verify_client = "none"
        elif key == "auth-user-pass-verify":
            password = True
            if args and MFA_PLUGIN.search(args[0]):
                conn.mfa = True
        elif key == "plugin" and args:
            password = True
            if MFA_PLUGIN.search(" ".join(args)):
                conn.mfa = True
        elif key == "secret":
            conn.remote_auth = ["static-key"]
        elif key == "push" and args:
            pushed = args[0].split()
            if pushed[:1] == ["route"] and len(pushed) >= 2:
                prefix = _dotted(pushed[2]) if len(pushed) > 2 else 32
                if prefix is not None:
                    network = _network(f"{pushed[1]}/{prefix}")
                    if network:
                        conn.routes.append(network)
            elif pushed[:1] == ["redirect-gateway"]:
                conn.routes.append("0.0.0.0/0")
        elif key == "duplicate-cn":
            conn.issues.append(
                "duplicate-cn : un même certificat peut servir à plusieurs personnes"
            )
    if conn.remote_auth == ["static-key"]:
        conn.psk_only = True
        conn.issues.append(
            "mode clé statique (secret) : clé partagée unique, sans certificat client"
        )
    else:
        conn.client_certificate = verify_client == "require"
        conn.remote_auth = (["certificate"] if verify_client != "none" else []) + (
            ["password"] if password else []
        )
        if conn.client_certificate and password:
            conn.mfa = True  # certificate (possession) + password (knowledge)
    conn.weak = _weak(conn.proposals)
    if conn.weak:
        conn.issues.append("algorithmes faibles : " + ", ".join(conn.weak))
    if not conn.client_certificate and not conn.psk_only:
        conn.issues.append("certificat client non exigé (verify-client-cert)")
    if not conn.mfa:
        conn.issues.append("pas de second facteur configuré")
    return [conn]


def parse_wireguard(text: str, source: str = "wg0.conf") -> list[VpnConnection]:
    """A WireGuard configuration: a key pair per peer (no second factor possible natively),
    optional pre-shared keys; on a client-side file, AllowedIPs are the routes it gets."""
    sections: list[tuple[str, dict[str, str]]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append((line[1:-1].strip().lower(), {}))
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1][1][key.strip().lower()] = value.strip()
    interfaces = [s for name, s in sections if name == "interface"]
    if not interfaces:
        raise VpnConfigError(
            "aucune section [Interface] : ce n'est pas une configuration WireGuard"
        )
    conn = VpnConnection(source, "wireguard", Path(source).stem)
    interface = interfaces[0]
    if interface.get("listenport", "").isdigit():
        conn.port = int(interface["listenport"])
    conn.client_certificate = True  # each peer has its own key pair
    conn.remote_auth = ["public-key"]
    peers = [s for name, s in sections if name == "peer"]
    for peer in peers:
        if "endpoint" in peer:  # client side: AllowedIPs are routed into the tunnel
            conn.routes += [n for n in map(_network, peer.get("allowedips", "").split(",")) if n]
    conn.issues.append(
        "WireGuard n'offre pas de second facteur : à compléter (bastion, portail MFA)"
    )
    return [conn]


def detect_kind(text: str, name: str) -> str:
    """Guess a file's format from its content (and name)."""
    lowered = name.lower()
    if re.search(r"^\s*\[Interface\]", text, re.M | re.I):
        return "wireguard"
    if re.search(r"^\s*connections\s*\{", text, re.M):
        return "swanctl"
    if re.search(r"^conn\s+\S+", text, re.M) or lowered.endswith("ipsec.conf"):
        return "ipsec.conf"
    return "openvpn"


PARSERS = {
    "swanctl": parse_swanctl,
    "ipsec.conf": parse_ipsec_conf,
    "openvpn": parse_openvpn,
    "wireguard": parse_wireguard,
}


def parse_file(path: str | Path, text: str | None = None) -> list[VpnConnection]:
    """Parse one configuration file of any supported kind (detected from its content)."""
    name = Path(path).name
    if text is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise VpnConfigError(f"{name} : fichier illisible ({exc.strerror or exc})") from exc
        if len(raw) > MAX_FILE_BYTES:
            raise VpnConfigError(f"{name} : fichier refusé (plus de 2 Mio)")
        text = raw.decode("utf-8", "replace")
    try:
        return PARSERS[detect_kind(text, name)](text, name)
    except VpnConfigError as exc:
        raise VpnConfigError(f"{name} : {exc}") from exc


def wider_routes(routes: list[str], targets: list[str]) -> list[str]:
    """Routes not contained in any target network (all of them when no target is given and
    the route is wider than a /16)."""
    nets = []
    for target in targets:
        network = _network(target)
        if network:
            nets.append(ipaddress.ip_network(network))
    wider = []
    for route in routes:
        net = ipaddress.ip_network(route)
        if nets:
            if not any(net.version == t.version and net.subnet_of(t) for t in nets):
                wider.append(route)
        elif net.prefixlen < 16:
            wider.append(route)
    return wider
