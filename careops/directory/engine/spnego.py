"""NTLM bind over SASL GSS-SPNEGO (RFC 4178 around MS-NLMP messages).

ldap3's own NTLM bind uses Microsoft's "Sicily" bind, which Windows accepts but Samba does not;
GSS-SPNEGO carrying NTLMSSP is the mechanism both Windows and Samba domain controllers offer
(``supportedSASLMechanisms``). The NTLM messages themselves (NTLMv2) come from ldap3's NtlmClient;
this module only wraps them in SPNEGO tokens and runs the two SASL round trips. Over LDAPS or
StartTLS no signing or sealing is negotiated: the TLS session protects the connection.
"""

from __future__ import annotations

SPNEGO_OID = b"\x06\x06\x2b\x06\x01\x05\x05\x02"  # 1.3.6.1.5.5.2
NTLMSSP_OID = b"\x06\x0a\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a"  # 1.3.6.1.4.1.311.2.2.10
SASL_BIND_IN_PROGRESS = 14


class SpnegoError(ValueError):
    """The server's SPNEGO answer cannot be read or refuses NTLM."""


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def _read(data: bytes, i: int) -> tuple[int, bytes, int]:
    """One DER element at ``i``: (tag, value, index after it)."""
    if i + 2 > len(data):
        raise SpnegoError("élément SPNEGO tronqué")
    tag, first = data[i], data[i + 1]
    i += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or i + count > len(data):
            raise SpnegoError("longueur SPNEGO invalide")
        size = int.from_bytes(data[i : i + count], "big")
        i += count
    else:
        size = first
    if i + size > len(data):
        raise SpnegoError("élément SPNEGO tronqué")
    return tag, data[i : i + size], i + size


def init_token(ntlm_negotiate: bytes) -> bytes:
    """GSS-API initial context token: NegTokenInit offering NTLMSSP with its first message."""
    mech_types = _tlv(0xA0, _tlv(0x30, NTLMSSP_OID))
    mech_token = _tlv(0xA2, _tlv(0x04, ntlm_negotiate))
    neg_token_init = _tlv(0xA0, _tlv(0x30, mech_types + mech_token))
    return _tlv(0x60, SPNEGO_OID + neg_token_init)


def response_token(ntlm_authenticate: bytes) -> bytes:
    """NegTokenResp carrying the NTLM AUTHENTICATE message."""
    return _tlv(0xA1, _tlv(0x30, _tlv(0xA2, _tlv(0x04, ntlm_authenticate))))


def parse_response(data: bytes) -> tuple[int | None, bytes]:
    """Read a NegTokenResp: (negState or None, responseToken or b"")."""
    tag, body, _ = _read(data, 0)
    if tag != 0xA1:
        raise SpnegoError("réponse SPNEGO inattendue")
    tag, seq, _ = _read(body, 0)
    if tag != 0x30:
        raise SpnegoError("réponse SPNEGO inattendue")
    state, token, i = None, b"", 0
    while i < len(seq):
        tag, value, i = _read(seq, i)
        if tag == 0xA0:  # negState ENUMERATED
            _, enum, _ = _read(value, 0)
            state = int.from_bytes(enum, "big") if enum else 0
        elif tag == 0xA1:  # supportedMech
            _, oid, _ = _read(value, 0)
            if _tlv(0x06, oid) != NTLMSSP_OID:
                raise SpnegoError("le serveur a choisi un autre mécanisme que NTLM")
        elif tag == 0xA2:  # responseToken
            _, token, _ = _read(value, 0)
    if state == 2:  # reject
        raise SpnegoError("le serveur refuse l'authentification NTLM")
    return state, token


def bind(conn, user: str, password: str) -> dict:
    """NTLM bind of an open ldap3 connection through SASL GSS-SPNEGO; return the last result.

    ``user`` is ``DOMAIN\\account`` (or ``account@domain``). The result's ``result`` is 0 on
    success (the connection is then marked bound), 49 on refused credentials.
    """
    from ldap3.protocol.sasl.sasl import send_sasl_negotiation
    from ldap3.utils.ntlm import NtlmClient

    if "\\" in user:
        domain, account = user.split("\\", 1)
    elif "@" in user:
        account, domain = user.split("@", 1)
    else:
        domain, account = "", user
    client = NtlmClient(domain, account, password)
    conn.sasl_mechanism = "GSS-SPNEGO"
    conn.sasl_in_progress = True
    try:
        result = send_sasl_negotiation(conn, None, init_token(client.create_negotiate_message()))
        if result.get("result") != SASL_BIND_IN_PROGRESS:
            return result
        _, challenge = parse_response(result.get("saslCreds") or b"")
        try:
            # ldap3 returns False on a malformed message, None once parsed.
            readable = bool(challenge) and client.parse_challenge_message(challenge) is not False
        except (ValueError, IndexError, UnicodeDecodeError):
            readable = False
        if not readable:
            raise SpnegoError("défi NTLM illisible")
        authenticate = client.create_authenticate_message()
        if not authenticate:
            raise SpnegoError("le défi NTLM exige des options que careops ne prend pas en charge")
        result = send_sasl_negotiation(conn, None, response_token(authenticate))
    finally:
        conn.sasl_in_progress = False
    if result.get("result") == 0:
        creds = result.get("saslCreds")
        if creds:
            parse_response(creds)  # a final "reject" raises
        conn.bound = True
    return result
