"""Classify an IP address as public or not: one function for the exposure scan scope and the
egress policy of every outbound connection careops makes on a user's behalf.

Django-free, so that engines may import it. IPv6 forms that carry an IPv4 address (IPv4-mapped
``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are
judged by the IPv4 address they carry: ``::ffff:127.0.0.1`` is loopback, not public.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PUBLIC = "public"
LOOPBACK = "loopback"
PRIVATE = "private"
LINK_LOCAL = "link_local"
METADATA = "metadata"
MULTICAST = "multicast"
UNSPECIFIED = "unspecified"
RESERVED = "reserved"
DOCUMENTATION = "documentation"

# Categories an administrator may open for an organisation ("internal targets"); metadata,
# multicast, unspecified and reserved addresses are never reachable through careops.
# Documentation and benchmarking ranges never route on the internet; the exposure lab uses them
# as stand-ins for internet addresses, so they count as internal, not forbidden.
INTERNAL = frozenset({LOOPBACK, PRIVATE, LINK_LOCAL, DOCUMENTATION})

LABELS = {
    PUBLIC: "adresse publique",
    LOOPBACK: "adresse de bouclage (la machine elle-même)",
    PRIVATE: "adresse privée",
    LINK_LOCAL: "adresse de lien local",
    METADATA: "service de métadonnées d'hébergeur",
    MULTICAST: "adresse de multidiffusion",
    UNSPECIFIED: "adresse non spécifiée",
    RESERVED: "adresse réservée ou non routable sur internet",
    DOCUMENTATION: "adresse de documentation ou de test (non routée sur internet)",
}

# Cloud instance metadata services (AWS, GCP, Azure, OpenStack; AWS IPv6; Alibaba).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
# Documentation and benchmarking ranges: counted by ``is_private`` but never a real network.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "2001:db8::/32")
)


@dataclass(frozen=True)
class Classification:
    """An address, the address it was judged by (embedded IPv4 unwrapped), and its category."""

    address: IPAddress
    judged: IPAddress
    category: str

    @property
    def public(self) -> bool:
        return self.category == PUBLIC

    @property
    def label(self) -> str:
        text = LABELS[self.category]
        if self.judged != self.address:
            text += f" ({self.judged} dans {self.address})"
        return text


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    value = int(address)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d (deprecated IPv4-compatible); not :: nor ::1
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in _NAT64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


def _category(address: IPAddress) -> str:
    if address in METADATA_ADDRESSES:
        return METADATA
    if address.is_unspecified or (address.version == 4 and address in _THIS_NETWORK):
        return UNSPECIFIED
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local:
        return LINK_LOCAL
    if address.is_multicast:
        return MULTICAST
    if address.version == 4 and address in _SHARED:
        return PRIVATE
    if address.version == 6 and address in _NAT64_LOCAL:
        return PRIVATE
    if any(address.version == n.version and address in n for n in _DOCUMENTATION):
        return DOCUMENTATION
    if address.is_private and not address.is_reserved:
        return PRIVATE
    if address.is_reserved or getattr(address, "is_site_local", False) or not address.is_global:
        return RESERVED
    return PUBLIC


def classify(address: str | IPAddress) -> Classification:
    """The category of an address (``public`` only for an address routable on the internet)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    judged = ip
    inner = embedded_ipv4(ip)
    if inner is not None:
        judged = inner
        category = _category(inner)
    else:
        category = _category(ip)
    if ip.version == 6 and ip.is_multicast:
        category = MULTICAST
    return Classification(ip, judged, category)


def is_public(address: str | IPAddress) -> bool:
    """Whether the address (with any embedded IPv4 unwrapped) is a public internet address."""
    return classify(address).public
