"""Targets and port sets: parsing, scope checks, private-address refusal, DNS resolution."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from careops.addresses import INTERNAL, PUBLIC, classify, is_public

# The health-sector profile ("health", lighter than the default): common internet-facing
# services plus what nmap's top 1000 misses for the health sector (DICOM, HL7, WinRM, Redis,
# MongoDB, Elasticsearch, SSL-VPN portals). It misses any service moved to another port (an SSH
# on 2222, a second Redis, a DICOM listener on 4242…): the default covers every TCP port.
HEALTH_PORTS: tuple[int, ...] = tuple(
    sorted(
        {
            21,
            22,
            23,
            25,
            53,
            80,
            81,
            88,
            104,
            110,
            111,
            135,
            139,
            143,
            389,
            443,
            445,
            465,
            500,
            587,
            636,
            993,
            995,
            1080,
            1194,
            1433,
            1521,
            1723,
            2049,
            2375,
            2376,
            2575,
            2761,
            2762,
            3000,
            3128,
            3306,
            3389,
            4443,
            4444,
            5000,
            5060,
            5432,
            5601,
            5900,
            5901,
            5985,
            5986,
            6379,
            6443,
            7001,
            8000,
            8008,
            8080,
            8081,
            8088,
            8443,
            8888,
            9000,
            9090,
            9200,
            9300,
            9443,
            10000,
            10443,
            11112,
            11211,
            27017,
            50000,
        }
    )
)

MAX_ADDRESSES = 65536  # one /16 per target at most
HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$",
    re.IGNORECASE,
)


class TargetError(ValueError):
    """A target, range or port specification that cannot be used (French message)."""


@dataclass
class Target:
    """One parsed target: a network (a single address is a /32 or /128) or a host name."""

    raw: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    hostname: str = ""
    addresses: list[str] = field(default_factory=list)


# UDP ports probed by default: IKE (IPsec VPN gateways) and its NAT-T port. UDP ports are
# probed with IKE only (udp.py): a UDP service that does not speak IKE stays silent.
DEFAULT_UDP_PORTS: tuple[int, ...] = (500, 4500)
MAX_UDP_PORTS = 1024


# The default: every TCP port, as internet search engines (Shodan, Censys) index them.
DEFAULT_PORTS: tuple[int, ...] = tuple(range(1, 65536))
PROFILES = {"default": DEFAULT_PORTS, "health": HEALTH_PORTS, "sante": HEALTH_PORTS}


class PortList(list):
    """The TCP ports of a specification (a plain ``list[int]``, as callers always had) plus the
    UDP ports of the same specification in ``.udp``."""

    def __init__(self, tcp=(), udp=()):
        super().__init__(tcp)
        self.udp: list[int] = list(udp)


def parse_ports(spec: str | None) -> PortList:
    """Parse "22,80,8000-8100" ("-" or "all" for TCP 1-65535; empty for the default).

    nmap-style prefixes choose the transport of what follows: "T:1-1024,U:500,4500" is TCP
    1-1024 and UDP 500 and 4500. Without a prefix, ports are TCP. "default" (also inside a list)
    adds every TCP port and the default UDP ports (IKE 500 and 4500); "health" (or "sante") the
    lighter health-sector TCP profile and the UDP ports; "T:default" and "U:default" add only one
    of them.
    """
    if spec is None or not spec.strip() or spec.strip() == "default":
        return PortList(DEFAULT_PORTS, DEFAULT_UDP_PORTS)
    spec = spec.strip()
    if spec in {"-", "all"}:
        return PortList(range(1, 65536))
    ports: set[int] = set()
    udp: set[int] = set()
    current, prefixed = ports, False
    for part in spec.split(","):
        part = part.strip()
        prefix = part[:2].upper()
        if prefix in ("T:", "U:"):
            current, prefixed = (ports if prefix == "T:" else udp), True
            part = part[2:].strip()
        if not part:
            continue
        if part.lower() in PROFILES:
            if not prefixed or current is ports:
                ports.update(PROFILES[part.lower()])
            if not prefixed or current is udp:
                udp.update(DEFAULT_UDP_PORTS)
            continue
        if part in {"-", "all"} and current is ports:
            ports.update(range(1, 65536))
            continue
        try:
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
            else:
                low = high = int(part)
        except ValueError:
            raise TargetError(f"Liste de ports invalide : « {part} ».") from None
        if 1 <= high < low <= 65535:
            raise TargetError(f"Plage de ports à l'envers : « {part} » ({low} > {high}).")
        if not (1 <= low <= high <= 65535):
            raise TargetError(f"Ports hors de l'intervalle 1-65535 : « {part} ».")
        current.update(range(low, high + 1))
    if len(udp) > MAX_UDP_PORTS:
        raise TargetError(
            f"Trop de ports UDP ({len(udp)}, au plus {MAX_UDP_PORTS}) : seule la découverte IKE "
            "est faite en UDP."
        )
    if not ports and not udp:
        raise TargetError("Aucun port à analyser.")
    return PortList(sorted(ports), sorted(udp))


def is_restricted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Private, loopback, link-local and other non-internet addresses need the internal option.

    Embedded IPv4 (``::ffff:127.0.0.1``, NAT64, 6to4) is judged by the IPv4 it carries
    (``careops.addresses``, shared with the egress policy).
    """
    return not is_public(address)


def is_forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Multicast, reserved, unspecified and metadata addresses are never scanned."""
    return classify(address).category not in INTERNAL | {PUBLIC}


def parse_target(raw: str) -> Target:
    """Parse an address, a CIDR range, a "a.b.c.d-e" range, or a host name."""
    text = raw.strip()
    if not text:
        raise TargetError("Cible vide.")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        network = None
    if network is None and re.match(r"^\d+\.\d+\.\d+\.\d+-\d+$", text):
        base, last = text.rsplit("-", 1)
        start = ipaddress.ip_address(base)
        end_octet = int(last)
        if end_octet > 255 or end_octet < int(base.rsplit(".", 1)[1]):
            raise TargetError(f"Plage d'adresses invalide : « {text} ».")
        end = ipaddress.ip_address(base.rsplit(".", 1)[0] + f".{end_octet}")
        addresses = [str(ipaddress.ip_address(i)) for i in range(int(start), int(end) + 1)]
        return Target(raw=text, addresses=addresses)
    if network is not None:
        if network.num_addresses > MAX_ADDRESSES:
            raise TargetError(
                f"Plage trop grande : « {text} » ({network.num_addresses} adresses, "
                f"au plus {MAX_ADDRESSES})."
            )
        hosts = [network.network_address] if network.num_addresses == 1 else list(network.hosts())
        return Target(raw=text, network=network, addresses=[str(a) for a in hosts])
    if "/" in text or not HOSTNAME_RE.match(text) or text.replace(".", "").isdigit():
        raise TargetError(f"Cible invalide : « {text} » (adresse, plage CIDR ou nom attendu).")
    return Target(raw=text, hostname=text.rstrip(".").lower())


def in_scope(address: str, scope: list[str]) -> bool:
    """Whether ``address`` lies inside one of the networks of ``scope`` (CIDR strings)."""
    ip = ipaddress.ip_address(address)
    for item in scope:
        try:
            if ip in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False


@dataclass
class Resolution:
    """DNS answers for one name."""

    name: str
    a: list[str] = field(default_factory=list)
    aaaa: list[str] = field(default_factory=list)
    cname: list[str] = field(default_factory=list)
    mx: list[str] = field(default_factory=list)
    error: str = ""


def make_resolver(nameservers: list[str] | None = None, timeout: float = 2.0):
    """A dnspython async resolver (system configuration, or the given servers "ip[:port]")."""
    import dns.asyncresolver

    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [n.rsplit(":", 1)[0] if _has_port(n) else n for n in nameservers]
        ports = {int(n.rsplit(":", 1)[1]) for n in nameservers if _has_port(n)}
        if ports:
            resolver.port = ports.pop()
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except Exception:  # no /etc/resolv.conf
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = ["127.0.0.1"]
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


def _has_port(server: str) -> bool:
    return server.count(":") == 1


async def resolve(name: str, resolver) -> Resolution:
    """Resolve A, AAAA, CNAME and MX of ``name``; an unresolvable name gives ``error``."""
    import dns.exception
    import dns.resolver

    result = Resolution(name=name)
    unanswered = False  # every server failed, refused or was unreachable for some query
    for rdtype in ("A", "AAAA", "CNAME", "MX"):
        try:
            answer = await resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NoAnswer:
            continue
        except dns.resolver.NoNameservers:
            unanswered = True
            continue
        except dns.resolver.NXDOMAIN:
            result.error = f"Nom inconnu dans le DNS : « {name} »."
            break
        except dns.exception.Timeout:
            result.error = (
                f"Résolution impossible de « {name} » : aucun serveur DNS n'a répondu à temps."
            )
            break
        except dns.exception.DNSException as exc:
            result.error = f"Résolution impossible de « {name} » : {exc.__class__.__name__}."
            break
        for record in answer:
            if rdtype == "A":
                result.a.append(record.address)
            elif rdtype == "AAAA":
                result.aaaa.append(record.address)
            elif rdtype == "CNAME":
                result.cname.append(str(record.target).rstrip("."))
            else:
                result.mx.append(str(record.exchange).rstrip("."))
    if not result.error and not (result.a or result.aaaa):
        # servers that refuse, fail (SERVFAIL) or cannot be reached say nothing of the name:
        # « no address » sent users looking for a DNS record that may well exist
        result.error = (
            f"Résolution impossible de « {name} » : les serveurs DNS sont injoignables, ont "
            "refusé la requête ou ont échoué (SERVFAIL)."
            if unanswered
            else f"Aucune adresse pour « {name} »."
        )
    return result


async def txt_records(name: str, resolver) -> list[str]:
    """TXT strings published at ``name`` (used to verify domain ownership)."""
    import dns.exception

    try:
        answer = await resolver.resolve(name, "TXT", search=False)
    except dns.exception.DNSException:
        return []
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
