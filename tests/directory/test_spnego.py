"""SPNEGO wrapping of the NTLM bind: tokens the server reads, answers we refuse to misread."""

import pytest

from careops.directory.engine import spnego


def test_init_token_offers_ntlmssp_with_its_negotiate_message():
    token = spnego.init_token(b"NTLMSSP\x00\x01rest")
    assert token[0] == 0x60 and spnego.SPNEGO_OID in token and spnego.NTLMSSP_OID in token
    assert token.endswith(b"NTLMSSP\x00\x01rest")


def test_server_challenge_is_extracted():
    challenge = b"NTLMSSP\x00\x02" + bytes(200)  # long enough for a multi-byte DER length
    answer = spnego._tlv(
        0xA1,
        spnego._tlv(
            0x30,
            spnego._tlv(0xA0, b"\x0a\x01\x01")
            + spnego._tlv(0xA1, spnego.NTLMSSP_OID)
            + spnego._tlv(0xA2, spnego._tlv(0x04, challenge)),
        ),
    )
    assert spnego.parse_response(answer) == (1, challenge)


@pytest.mark.parametrize(
    "answer, message",
    [
        (b"", "tronqué"),
        (b"\xa1\x05\x30\x03", "tronqué"),
        (b"\x30\x00", "inattendue"),
        (b"\xa1\x85\xff\xff\xff\xff\xff", "longueur"),
        (spnego._tlv(0xA1, spnego._tlv(0x30, spnego._tlv(0xA0, b"\x0a\x01\x02"))), "refuse"),
        (
            spnego._tlv(0xA1, spnego._tlv(0x30, spnego._tlv(0xA1, b"\x06\x03\x2a\x03\x04"))),
            "autre mécanisme",
        ),
    ],
)
def test_garbage_or_refusal_is_a_clear_error(answer, message):
    with pytest.raises(spnego.SpnegoError, match=message):
        spnego.parse_response(answer)
