"""UDP IKE discovery (IPsec VPN gateways on 500 and 4500 NAT-T), pure asyncio, no Django.

One well-formed IKEv2 IKE_SA_INIT request (random SPI, proposals with common transforms, a real
MODP-2048 key exchange value, a nonce); if IKEv2 gets no IKEv2 answer, one IKEv1 Main Mode SA
proposal. Any IKE answer counts, including a bare NOTIFY (NO_PROPOSAL_CHOSEN, INVALID_KE_PAYLOAD,
COOKIE…): the gateway is there. On a port that speaks IKE, two more questions: is an IKEv1 Main
Mode proposal accepted (even beside IKEv2), and does IKEv1 Aggressive Mode with a pre-shared key
answer with its HASH_R (an offline-crackable hash of the key, and the gateway's identity)? Vendor ID payloads name the product when the table
(``ike_vendor_ids.yaml``) knows them. Nothing is invented: a port that stays silent is
"open|filtered" and gives no service; an ICMP port-unreachable is "closed"; an answer that is not
IKE is kept as an unrecognised UDP answer. Bounded: (1 + retries) sends per version, each waiting
``timeout`` seconds. The half-open IKE SA left on the gateway expires on its own (no key is ever
derived, no authentication is attempted).
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from careops.exposure.engine.probes import _printable, make_cpe
from careops.exposure.engine.results import Service
from careops.exposure.engine.rules import SAFE_LOADER

VENDOR_IDS_FILE = Path(__file__).with_name("ike_vendor_ids.yaml")
IKE_PORTS = (500, 4500)
NON_ESP_MARKER = b"\x00\x00\x00\x00"  # RFC 3948: IKE on 4500 is prefixed by four zero bytes

# MODP group 14 (RFC 3526), generator 2.
MODP2048 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)

# MODP group 2 (RFC 2409, the 1024-bit Oakley group), generator 2.
MODP1024 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)

# IKEv2 (RFC 7296) and IKEv1 (RFC 2408/2409) numbers used here.
V2_PAYLOADS = {
    33: "SA",
    34: "KE",
    35: "IDi",
    36: "IDr",
    37: "CERT",
    38: "CERTREQ",
    39: "AUTH",
    40: "Nonce",
    41: "N",
    42: "D",
    43: "VID",
    44: "TSi",
    45: "TSr",
    46: "SK",
    47: "CP",
    48: "EAP",
    53: "SKF",
}
V1_PAYLOADS = {
    1: "SA",
    2: "P",
    3: "T",
    4: "KE",
    5: "ID",
    6: "CERT",
    7: "CR",
    8: "HASH",
    9: "SIG",
    10: "NONCE",
    11: "N",
    12: "D",
    13: "VID",
    20: "NAT-D",
    21: "NAT-OA",
    130: "NAT-D",
    131: "NAT-OA",
}
V2_NOTIFIES = {
    1: "UNSUPPORTED_CRITICAL_PAYLOAD",
    4: "INVALID_IKE_SPI",
    5: "INVALID_MAJOR_VERSION",
    7: "INVALID_SYNTAX",
    9: "INVALID_MESSAGE_ID",
    11: "INVALID_SPI",
    14: "NO_PROPOSAL_CHOSEN",
    17: "INVALID_KE_PAYLOAD",
    24: "AUTHENTICATION_FAILED",
    43: "TEMPORARY_FAILURE",
    16388: "NAT_DETECTION_SOURCE_IP",
    16389: "NAT_DETECTION_DESTINATION_IP",
    16390: "COOKIE",
    16404: "MULTIPLE_AUTH_SUPPORTED",
    16406: "REDIRECT_SUPPORTED",
    16418: "CHILDLESS_IKEV2_SUPPORTED",
    16430: "IKEV2_FRAGMENTATION_SUPPORTED",
    16431: "SIGNATURE_HASH_ALGORITHMS",
    16435: "USE_PPK",
}
V1_NOTIFIES = {
    1: "INVALID-PAYLOAD-TYPE",
    2: "DOI-NOT-SUPPORTED",
    3: "SITUATION-NOT-SUPPORTED",
    4: "INVALID-COOKIE",
    5: "INVALID-MAJOR-VERSION",
    6: "INVALID-MINOR-VERSION",
    7: "INVALID-EXCHANGE-TYPE",
    8: "INVALID-FLAGS",
    9: "INVALID-MESSAGE-ID",
    10: "INVALID-PROTOCOL-ID",
    11: "INVALID-SPI",
    12: "INVALID-TRANSFORM-ID",
    13: "ATTRIBUTES-NOT-SUPPORTED",
    14: "NO-PROPOSAL-CHOSEN",
    15: "BAD-PROPOSAL-SYNTAX",
    16: "PAYLOAD-MALFORMED",
    17: "INVALID-KEY-INFORMATION",
    18: "INVALID-ID-INFORMATION",
    24: "INVALID-SIGNATURE",
    30: "UNEQUAL-PAYLOAD-LENGTHS",
}
EXCHANGES = {
    2: "Main Mode",
    4: "Aggressive Mode",
    5: "Informational",
    34: "IKE_SA_INIT",
    35: "IKE_AUTH",
    36: "CREATE_CHILD_SA",
    37: "INFORMATIONAL",
}
V2_TRANSFORM_NAMES = {
    (1, 3): "3DES",
    (1, 12): "AES-CBC",
    (1, 20): "AES-GCM-16",
    (2, 2): "PRF-HMAC-SHA1",
    (2, 5): "PRF-HMAC-SHA2-256",
    (2, 6): "PRF-HMAC-SHA2-384",
    (3, 2): "HMAC-SHA1-96",
    (3, 12): "HMAC-SHA2-256-128",
    (3, 13): "HMAC-SHA2-384-192",
    (4, 2): "MODP-1024",
    (4, 14): "MODP-2048",
    (4, 19): "ECP-256",
    (4, 20): "ECP-384",
    (4, 31): "Curve25519",
}
V1_ATTR_NAMES = {
    1: ("enc", {1: "DES", 5: "3DES", 7: "AES-CBC"}),
    2: ("hash", {1: "MD5", 2: "SHA1", 4: "SHA2-256"}),
    3: ("auth", {1: "PSK", 3: "RSA-SIG", 65001: "XAUTH-PSK"}),
    4: ("group", {1: "MODP-768", 2: "MODP-1024", 5: "MODP-1536", 14: "MODP-2048"}),
    14: ("keylen", {}),
}


class IkeParseError(ValueError):
    """Bytes that are not a well-formed IKE message (French message)."""


@dataclass
class IkeAnswer:
    """A parsed IKE message (the gateway's answer)."""

    version: int  # major version: 1 or 2
    exchange: str
    initiator_spi: str  # hex
    responder_spi: str  # hex
    flags: int
    payloads: list[str] = field(default_factory=list)
    notifies: list[str] = field(default_factory=list)
    vendor_ids: list[str] = field(default_factory=list)  # hex
    proposal: list[str] = field(default_factory=list)  # transforms the gateway chose
    dh_group: int | None = None  # KE group of the answer, or the group INVALID_KE_PAYLOAD asks
    identity: str = ""  # IKEv1 ID payload of the answer (Aggressive Mode discloses it)

    def summary(self) -> str:
        parts = [p for p in self.payloads if p != "N"] + [f"N({n})" for n in self.notifies]
        return f"IKEv{self.version} {self.exchange} ({', '.join(parts) or 'sans charge utile'})"


@dataclass
class IkeProbeResult:
    """What one UDP port said: state, the IKE answer and the French detail."""

    address: str
    port: int
    state: str  # "ike", "closed", "open|filtered", "unrecognised"
    answer: IkeAnswer | None = None
    versions: list[int] = field(default_factory=list)  # IKE versions that answered in kind
    raw: bytes = b""
    detail: str = ""
    ikev1_accepted: bool = False  # an IKEv1 Main Mode proposal was chosen (not just a notify)
    aggressive_psk: bool = False  # IKEv1 Aggressive Mode with a pre-shared key answered (HASH_R)
    responder_id: str = ""  # identity the gateway disclosed in Aggressive Mode


# ---------------------------------------------------------------- vendor IDs


@functools.cache
def vendor_table(path: str | None = None) -> list[dict[str, Any]]:
    """The vendor-ID table, longest prefix first."""
    with open(path or VENDOR_IDS_FILE, encoding="utf-8") as handle:
        entries = yaml.load(handle, Loader=SAFE_LOADER)["vendor_ids"]  # noqa: S506 — safe
    for entry in entries:
        entry["prefix"] = str(entry["prefix"]).lower()
    return sorted(entries, key=lambda e: -len(e["prefix"]))


def identify_vendor(vid_hex: str, path: str | None = None) -> dict[str, Any] | None:
    """The table entry matching a vendor ID payload (hex), or None."""
    vid_hex = vid_hex.lower()
    for entry in vendor_table(path):
        if vid_hex.startswith(entry["prefix"]):
            return entry
    return None


# ---------------------------------------------------------------- requests


def _payload(next_payload: int, body: bytes) -> bytes:
    return struct.pack("!BBH", next_payload, 0, 4 + len(body)) + body


def _v2_transform(last: bool, kind: int, ident: int, key_length: int | None = None) -> bytes:
    attrs = struct.pack("!HH", 0x800E, key_length) if key_length else b""
    body = struct.pack("!BBH", kind, 0, ident) + attrs
    return struct.pack("!BBH", 0 if last else 3, 0, 8 + len(attrs)) + body


def _v2_proposal(last: bool, number: int, transforms: list[tuple]) -> bytes:
    encoded = b"".join(
        _v2_transform(i == len(transforms) - 1, *t) for i, t in enumerate(transforms)
    )
    body = struct.pack("!BBBB", number, 1, 0, len(transforms)) + encoded  # protocol 1 = IKE
    return struct.pack("!BBH", 0 if last else 2, 0, 4 + len(body)) + body


def build_ikev2_sa_init(spi: bytes, nonce: bytes, private: int) -> bytes:
    """An IKEv2 IKE_SA_INIT request: SA (CBC and GCM proposals), KE MODP-2048, Nonce."""
    groups = [(4, 14), (4, 19), (4, 31), (4, 20), (4, 2)]
    cbc = [
        (1, 12, 256),
        (1, 12, 128),
        (2, 5),
        (2, 6),
        (2, 2),
        (3, 12),
        (3, 13),
        (3, 2),
        *groups,
    ]
    gcm = [(1, 20, 256), (1, 20, 128), (2, 5), (2, 6), *groups]
    sa = _v2_proposal(False, 1, cbc) + _v2_proposal(True, 2, gcm)
    public = pow(2, private, MODP2048).to_bytes(256, "big")
    ke = struct.pack("!HH", 14, 0) + public
    body = _payload(34, sa) + _payload(40, ke) + _payload(0, nonce)
    header = spi + bytes(8) + struct.pack("!BBBBII", 33, 0x20, 34, 0x08, 0, 28 + len(body))
    return header + body


def _v1_sa(auth_methods: tuple[int, ...], groups: tuple[int, ...]) -> bytes:
    """An ISAKMP SA payload body: one proposal, AES-256/AES-128/3DES × SHA-256/SHA-1 × the given
    authentication methods and Diffie-Hellman groups."""
    transforms = []
    for enc, key_length in ((7, 256), (7, 128), (5, None)):
        for hash_alg in (4, 2):
            for auth in auth_methods:
                for group in groups:
                    attrs = struct.pack("!HH", 0x8001, enc)
                    if key_length:
                        attrs += struct.pack("!HH", 0x800E, key_length)
                    attrs += struct.pack(
                        "!HHHHHHHH",
                        0x8002,
                        hash_alg,
                        0x8003,
                        auth,
                        0x8004,
                        group,
                        0x800B,
                        1,  # life type: seconds
                    )
                    attrs += struct.pack("!HH", 0x800C, 28800)
                    transforms.append(attrs)
    encoded = b""
    for number, attrs in enumerate(transforms, start=1):
        body = struct.pack("!BBH", number, 1, 0) + attrs  # transform id 1 = KEY_IKE
        last = number == len(transforms)
        encoded += struct.pack("!BBH", 0 if last else 3, 0, 4 + len(body)) + body
    proposal_body = struct.pack("!BBBB", 1, 1, 0, len(transforms)) + encoded
    proposal = _payload(0, proposal_body)
    return struct.pack("!II", 1, 1) + proposal  # DOI IPsec, situation identity only


def build_ikev1_main_mode(spi: bytes) -> bytes:
    """An IKEv1 Main Mode first message: one ISAKMP proposal with 24 common transforms."""
    body = _payload(0, _v1_sa((1, 3), (14, 2)))
    header = spi + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 2, 0, 0, 28 + len(body))
    return header + body


AGGRESSIVE_ID = b"careops-audit@exposure.invalid"  # ID_USER_FQDN sent in Aggressive Mode


def build_ikev1_aggressive(spi: bytes, group: int = 14) -> bytes:
    """An IKEv1 Aggressive Mode first message offering pre-shared-key authentication only:
    SA, KE (a real value of ``group``: 14 = MODP-2048, 2 = MODP-1024), nonce and an identity.
    A gateway that answers with its HASH_R lets anyone capture a hash of the pre-shared key and
    crack it offline; careops never goes further (no second message, no key derived)."""
    prime, size = (MODP2048, 256) if group == 14 else (MODP1024, 128)
    public = pow(2, secrets.randbits(256) | 1, prime).to_bytes(size, "big")
    identity = struct.pack("!BBH", 3, 17, 500) + AGGRESSIVE_ID  # ID_USER_FQDN, UDP/500
    payloads = [
        (1, _v1_sa((1,), (group,))),  # SA
        (4, public),  # KE
        (10, os.urandom(32)),  # NONCE
        (5, identity),  # ID
    ]
    body = b""
    for index, (_kind, content) in enumerate(payloads):
        following = payloads[index + 1][0] if index + 1 < len(payloads) else 0
        body += _payload(following, content)
    header = spi + bytes(8) + struct.pack("!BBBBII", 1, 0x10, 4, 0, 0, 28 + len(body))
    return header + body


# ---------------------------------------------------------------- parsing


def _parse_v2_sa(body: bytes) -> list[str]:
    if len(body) < 8:
        return []
    length = struct.unpack("!H", body[2:4])[0]
    proposal = body[: min(length, len(body))]
    spi_size, count = proposal[6], proposal[7]
    offset = 8 + spi_size
    names = []
    for _ in range(count):
        if offset + 8 > len(proposal):
            break
        t_len, kind, ident = struct.unpack("!xxHBxH", proposal[offset : offset + 8])
        name = V2_TRANSFORM_NAMES.get((kind, ident), f"{kind}/{ident}")
        if t_len >= 12 and proposal[offset + 8 : offset + 10] == b"\x80\x0e":
            name += "-" + str(struct.unpack("!H", proposal[offset + 10 : offset + 12])[0])
        names.append(name)
        if t_len < 8:
            break
        offset += t_len
    return names


def _parse_v1_sa(body: bytes) -> list[str]:
    # DOI(4) situation(4) | proposal payload | transform payload with TV attributes
    try:
        proposal = body[8:]
        spi_size = proposal[6]
        transform = proposal[8 + spi_size :]
        t_len = struct.unpack("!H", transform[2:4])[0]
        attrs = transform[8:t_len]
    except (IndexError, struct.error):
        return []
    names = []
    offset = 0
    while offset + 4 <= len(attrs):
        kind, value = struct.unpack("!HH", attrs[offset : offset + 4])
        if not kind & 0x8000:  # TLV attribute (e.g. long life duration): skip it
            offset += 4 + value
            continue
        label, values = V1_ATTR_NAMES.get(kind & 0x7FFF, (None, None))
        if label == "keylen" and names:
            names[0] += f"-{value}"
        elif label:
            names.append(values.get(value, f"{label}={value}"))
        offset += 4
    return names


def parse_ike(data: bytes) -> IkeAnswer:
    """Parse an IKEv1 or IKEv2 message (without the NAT-T marker); raise IkeParseError."""
    if len(data) < 28:
        raise IkeParseError(f"réponse de {len(data)} octets, trop courte pour un en-tête IKE")
    first, version_byte, exchange, flags = data[16], data[17], data[18], data[19]
    major = version_byte >> 4
    if major not in (1, 2):
        raise IkeParseError(f"version IKE inconnue (octet 0x{version_byte:02x})")
    length = struct.unpack("!I", data[24:28])[0]
    if length < 28 or length > len(data):
        raise IkeParseError(
            f"longueur annoncée {length} octets pour {len(data)} reçus (message tronqué ou invalide)"
        )
    if exchange not in EXCHANGES:
        raise IkeParseError(f"type d'échange IKE inconnu ({exchange})")
    answer = IkeAnswer(
        version=major,
        exchange=EXCHANGES[exchange],
        initiator_spi=data[0:8].hex(),
        responder_spi=data[8:16].hex(),
        flags=flags,
    )
    names = V2_PAYLOADS if major == 2 else V1_PAYLOADS
    notifies = V2_NOTIFIES if major == 2 else V1_NOTIFIES
    if major == 1 and flags & 0x01:  # encrypted IKEv1 body: nothing more to read
        answer.payloads.append("chiffré")
        return answer
    kind, offset, seen = first, 28, 0
    while kind:
        seen += 1
        if seen > 64:
            raise IkeParseError("trop de charges utiles IKE (boucle ?)")
        if offset + 4 > length:
            raise IkeParseError(f"charge utile {kind} coupée à l'octet {offset}")
        next_kind, _critical, p_len = struct.unpack("!BBH", data[offset : offset + 4])
        if p_len < 4 or offset + p_len > length:
            raise IkeParseError(f"longueur de charge utile invalide ({p_len}) à l'octet {offset}")
        body = data[offset + 4 : offset + p_len]
        name = names.get(kind, str(kind))
        answer.payloads.append(name)
        if name == "VID":
            answer.vendor_ids.append(body.hex())
        elif name == "N":
            base = 0 if major == 2 else 4  # IKEv1 notify starts with a 4-byte DOI
            if len(body) < base + 4:
                raise IkeParseError("charge utile NOTIFY trop courte")
            spi_size = body[base + 1]
            code = struct.unpack("!H", body[base + 2 : base + 4])[0]
            answer.notifies.append(notifies.get(code, f"notify-{code}"))
            notify_data = body[base + 4 + spi_size :]
            if major == 2 and code == 17 and len(notify_data) >= 2:
                answer.dh_group = struct.unpack("!H", notify_data[:2])[0]
        elif name == "SA":
            answer.proposal = _parse_v2_sa(body) if major == 2 else _parse_v1_sa(body)
        elif name == "ID" and major == 1 and len(body) > 4:
            answer.identity = _printable(body[4:])
        elif name == "KE" and major == 2 and len(body) >= 2:
            answer.dh_group = struct.unpack("!H", body[:2])[0]
        if name == "SK":  # encrypted IKEv2 payloads follow: stop here
            break
        kind = next_kind
        offset += p_len
    return answer


# ---------------------------------------------------------------- exchange


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)

    def error_received(self, exc):
        self.queue.put_nowait(exc)


async def _exchange(
    address: str, port: int, packet: bytes, spi: bytes, timeout: float, retries: int
) -> bytes | None:
    """Send ``packet`` up to 1 + retries times; return the first answer for our SPI (or any
    non-IKE answer), None on silence; raise ConnectionRefusedError on ICMP port unreachable."""
    loop = asyncio.get_running_loop()
    nat_t = port == 4500
    wire = NON_ESP_MARKER + packet if nat_t else packet
    transport, protocol = await loop.create_datagram_endpoint(
        _Datagrams, remote_addr=(address, port)
    )
    try:
        for _attempt in range(1 + max(0, retries)):
            transport.sendto(wire)
            deadline = loop.time() + timeout
            while (left := deadline - loop.time()) > 0:
                try:
                    item = await asyncio.wait_for(protocol.queue.get(), left)
                except TimeoutError:
                    break
                if isinstance(item, ConnectionRefusedError):
                    raise item
                if isinstance(item, OSError):
                    continue  # other ICMP errors (e.g. host unreachable): keep waiting
                data = item[4:] if nat_t and item.startswith(NON_ESP_MARKER) else item
                if len(data) >= 28 and (data[17] >> 4) in (1, 2) and data[:8] != spi:
                    continue  # an IKE message for somebody else's exchange
                return data
        return None
    finally:
        transport.close()


async def probe_ike(
    address: str, port: int, timeout: float = 0.25, retries: int = 1
) -> IkeProbeResult:
    """IKEv2 first; IKEv1 Main Mode if IKEv2 got no IKEv2 answer."""
    result = IkeProbeResult(address=address, port=port, state="open|filtered")
    attempts = [
        (2, lambda spi: build_ikev2_sa_init(spi, os.urandom(32), secrets.randbits(256))),
        (1, build_ikev1_main_mode),
    ]
    garbage: list[str] = []
    answers: dict[int, IkeAnswer] = {}  # IKEv1 answers to our own IKEv1 requests
    for version, build in attempts:
        spi = os.urandom(8)
        packet = build(spi)
        try:
            raw = await _exchange(address, port, packet, spi, timeout, retries)
        except ConnectionRefusedError:
            result.state = "closed"
            result.detail = "port UDP fermé (ICMP port injoignable)"
            return result
        except OSError as exc:
            result.detail = f"envoi UDP impossible : {exc.__class__.__name__}"
            return result
        if raw is None:
            continue
        try:
            if raw == packet:
                raise IkeParseError("la requête est revenue telle quelle (service d'écho ?)")
            answer = parse_ike(raw)
            if answer.version == 2 and not answer.flags & 0x20:
                raise IkeParseError("message IKEv2 sans le drapeau de réponse")
        except IkeParseError as exc:
            result.raw = result.raw or raw[:256]
            garbage.append(str(exc))
            continue
        if answer.version == 1 and version == 1:
            answers[1] = answer
        if result.answer is None or answer.version == version:
            result.answer = answer
        if answer.version == version:
            result.versions.append(version)
            break  # IKEv2 answered in kind: IKEv1 is not tried
    if result.versions:
        result.state = "ike"
        result.detail = result.answer.summary()
        await _ikev1_checks(result, answers, address, port, timeout, retries)
    elif result.answer is not None:
        # an IKE message of the other version only (e.g. INVALID-MAJOR-VERSION): IKE is there
        result.state = "ike"
        result.versions.append(result.answer.version)
        result.detail = result.answer.summary()
        await _ikev1_checks(result, answers, address, port, timeout, retries)
    elif garbage:
        result.state = "unrecognised"
        result.detail = "réponse UDP qui n'est pas de l'IKE : " + " ; ".join(garbage)
    else:
        result.detail = "aucune réponse (ouvert ou filtré)"
    return result


async def _ask(address, port, build, timeout, retries) -> IkeAnswer | None:
    """One more request to a port known to speak IKE; its parsed IKEv1 answer, else None."""
    spi = os.urandom(8)
    try:
        raw = await _exchange(address, port, build(spi), spi, timeout, retries)
        answer = parse_ike(raw) if raw else None
    except (OSError, IkeParseError):
        return None
    return answer if answer is not None and answer.version == 1 else None


async def _ikev1_checks(result, answers, address, port, timeout, retries) -> None:
    """On a port that speaks IKE: does it accept IKEv1 (a Main Mode proposal chosen, not just a
    notify), and Aggressive Mode with a pre-shared key (its HASH_R answers)? Two or three more
    exchanges, only towards live gateways."""
    main = answers.get(1) or await _ask(address, port, build_ikev1_main_mode, timeout, retries)
    if main is not None and main.exchange == "Main Mode" and main.proposal:
        result.ikev1_accepted = True
        if 1 not in result.versions:
            result.versions.append(1)
    for group in (14, 2):
        answer = await _ask(
            address,
            port,
            functools.partial(build_ikev1_aggressive, group=group),
            timeout,
            retries,
        )
        if answer is None:
            return
        if answer.exchange == "Aggressive Mode" and "HASH" in answer.payloads:
            result.aggressive_psk = True
            result.responder_id = answer.identity
            if 1 not in result.versions:
                result.versions.append(1)
            return
        if not {"NO-PROPOSAL-CHOSEN", "INVALID-KEY-INFORMATION"} & set(answer.notifies):
            return  # an answer other than "not this group": trying MODP-1024 would not help


def to_service(result: IkeProbeResult) -> Service | None:
    """The service an answered UDP port shows; None for a silent or closed port."""
    if result.state == "unrecognised":
        return Service(
            result.port,
            transport="udp",
            service="unknown",
            confidence="low",
            banner=_printable(result.raw),
            details={"unrecognised_answer": True, "detail": result.detail},
        )
    if result.state != "ike" or result.answer is None:
        return None
    answer = result.answer
    service = Service(result.port, transport="udp", service="ike", confidence="high")
    service.banner = result.detail
    vendors = []
    for vid in answer.vendor_ids:
        entry = identify_vendor(vid)
        vendors.append(
            {"hex": vid, "name": (entry or {}).get("product") or (entry or {}).get("name", "")}
        )
        if entry and entry["kind"] == "product" and not service.product:
            service.product = entry["product"]
            if entry.get("cpe"):
                service.cpe = make_cpe(entry["cpe"], "")
            if entry.get("edge_device"):
                service.details["edge_device"] = entry["edge_device"]
    service.details["ike"] = {
        "versions": sorted(result.versions),
        "exchange": answer.exchange,
        "responder_spi": answer.responder_spi,
        "notifies": answer.notifies,
        "vendor_ids": vendors,
        "proposal": answer.proposal,
        "dh_group": answer.dh_group,
        "nat_t": result.port == 4500,
        "ikev1_accepted": result.ikev1_accepted,
        "aggressive_psk": result.aggressive_psk,
        "responder_id": result.responder_id,
    }
    return service


async def scan_ike(
    addresses: list[str],
    ports: list[int],
    timeout: float = 0.25,
    retries: int = 1,
    concurrency: int = 256,
) -> dict[str, list[IkeProbeResult]]:
    """Probe every (address, UDP port) concurrently, bounded; results per address."""
    semaphore = asyncio.Semaphore(max(1, concurrency))

    async def one(address: str, port: int) -> IkeProbeResult:
        async with semaphore:
            try:
                return await probe_ike(address, port, timeout, retries)
            except Exception as exc:  # a hostile answer must not stop the run
                return IkeProbeResult(
                    address, port, "open|filtered", detail=f"sonde IKE : {exc.__class__.__name__}"
                )

    jobs = [one(a, p) for a in addresses for p in ports]
    results: dict[str, list[IkeProbeResult]] = {a: [] for a in addresses}
    for item in await asyncio.gather(*jobs):
        results[item.address].append(item)
    return results
