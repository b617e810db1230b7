"""TLS checks with the standard library: accepted protocol versions, weak suites, certificate.

At most six handshakes per endpoint, one after the other (bounded load on the target).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl

from careops.exposure.engine.results import TlsInfo

VERSIONS = [
    ("TLSv1.0", ssl.TLSVersion.TLSv1),
    ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
    ("TLSv1.2", ssl.TLSVersion.TLSv1_2),
    ("TLSv1.3", ssl.TLSVersion.TLSv1_3),
]
# Suites no server should accept: anonymous, null, export, DES/3DES, RC4, MD5.
WEAK_SUITES = "aNULL:eNULL:EXPORT:DES:3DES:RC4:MD5:@SECLEVEL=0"


def _context(
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
    ciphers: str = "ALL:@SECLEVEL=0",
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # noqa: S503 — we inspect, we do not trust
    if minimum:
        context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    try:
        context.set_ciphers(ciphers)
    except ssl.SSLError:
        pass
    return context


async def handshake(
    host: str, port: int, server_name: str | None, context: ssl.SSLContext, timeout: float
) -> tuple[bytes | None, str, str] | None:
    """One handshake; return (certificate DER, protocol, cipher) or None if refused."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host,
                port,
                ssl=context,
                server_hostname=server_name or None,
                ssl_handshake_timeout=timeout,
            ),
            timeout + 0.5,
        )
    except (OSError, TimeoutError, ssl.SSLError, EOFError):
        return None
    try:
        obj = writer.get_extra_info("ssl_object")
        der = obj.getpeercert(binary_form=True) if obj else None
        cipher = (obj.cipher() or ("",))[0] if obj else ""
        return der, obj.version() if obj else "", cipher
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 0.5)
        except (TimeoutError, OSError, ssl.SSLError):
            pass


def certificate_info(der: bytes, hostname: str | None, now: dt.datetime) -> TlsInfo:
    """Subject, issuer, validity against ``now``, self-signature, key and host-name match."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_der_x509_certificate(der)
    info = TlsInfo()
    info.subject = cert.subject.rfc4514_string()
    info.issuer = cert.issuer.rfc4514_string()
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    info.not_before = not_before.isoformat()
    info.not_after = not_after.isoformat()
    info.expired = now > not_after or now < not_before
    info.days_left = (not_after - now).days
    if cert.issuer == cert.subject:
        try:
            cert.verify_directly_issued_by(cert)
            info.self_signed = True
        except Exception:  # signature does not verify with its own key: not self-signed
            info.self_signed = False
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        info.key = f"RSA-{key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        info.key = f"EC-{key.curve.name}"
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        info.sans = [str(n) for n in sans.get_values_for_type(x509.DNSName)]
        info.sans += [str(n) for n in sans.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        info.sans = []
    if hostname:
        info.hostname_matches = _matches(hostname, info.sans or _common_names(cert))
    return info


def _common_names(cert) -> list[str]:
    from cryptography.x509.oid import NameOID

    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def _matches(hostname: str, names: list[str]) -> bool:
    hostname = hostname.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == hostname:
            return True
        if name.startswith("*.") and "." in hostname:
            if hostname.split(".", 1)[1] == name[2:]:
                return True
    return False


async def check_tls(
    host: str, port: int, server_name: str | None, now: dt.datetime, timeout: float = 3.0
) -> TlsInfo | None:
    """Probe protocol versions one by one, then weak suites; None if the port speaks no TLS."""
    first = await handshake(host, port, server_name, _context(), timeout)
    if first is None:
        return None
    der, _protocol, cipher = first
    info = certificate_info(der, server_name, now) if der else TlsInfo()
    info.cipher = cipher
    for name, version in VERSIONS:
        if await handshake(host, port, server_name, _context(version, version), timeout):
            info.protocols.append(name)
    weak = await handshake(
        host,
        port,
        server_name,
        _context(ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_2, WEAK_SUITES),
        timeout,
    )
    if weak:
        info.weak_suites = [weak[2]]
    return info


async def is_tls(host: str, port: int, timeout: float) -> bool:
    """Whether the port completes a TLS handshake."""
    return await handshake(host, port, None, _context(), timeout) is not None
