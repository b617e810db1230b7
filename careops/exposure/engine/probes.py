"""Service identification by protocol probes (no credentials, read-only greetings only).

Each probe opens its own connection, sends at most one harmless request (a greeting, an empty
MLLP frame, a DICOM C-ECHO, a protocol negotiation) and returns a Service or None.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import struct

from careops.exposure.engine.results import Service

READ_LIMIT = 4096


class Exchanges:
    """What the probes of one port saw (set by the identification of that port): the
    connection set-up times (a round-trip time measured on the port itself) and every answer,
    so that a greeting that came too late for the banner wait is still recognised when it
    arrives in front of a later probe's answer."""

    def __init__(self) -> None:
        self.connects: list[float] = []
        self.answers: list[bytes] = []


EXCHANGES: contextvars.ContextVar[Exchanges | None] = contextvars.ContextVar(
    "careops_exchanges", default=None
)


async def _exchange(
    host: str,
    port: int,
    payload: bytes | None,
    timeout: float,
    read: int = READ_LIMIT,
    floor: float | None = None,
) -> bytes:
    """Connect, optionally send ``payload``, read what comes back within ``timeout`` (with a
    ``floor``, within ``adaptive_wait`` of the connection time, ``timeout`` at most)."""
    seen = EXCHANGES.get()
    loop = asyncio.get_running_loop()
    started = loop.time()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    rtt = loop.time() - started
    if seen is not None:
        seen.connects.append(rtt)
    wait = adaptive_wait(rtt, timeout, floor) if floor is not None else timeout
    try:
        if payload:
            writer.write(payload)
            await writer.drain()
        try:
            data = await asyncio.wait_for(reader.read(read), wait)
        except (TimeoutError, ConnectionError):
            data = b""
        if seen is not None and data:
            seen.answers.append(data)
        return data
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 0.5)
        except (TimeoutError, OSError):
            pass


def _printable(data: bytes, limit: int = 200) -> str:
    text = data.decode("latin-1")
    return "".join(c if 32 <= ord(c) < 127 else "." for c in text)[:limit].strip(".").strip()


def _distro(text: str) -> str:
    for name in ("Debian", "Ubuntu", "Raspbian", "el7", "el8", "el9", "FreeBSD"):
        if name.lower() in text.lower():
            return name
    return ""


# ---------------------------------------------------------------- banner (server speaks first)

BANNER_PATTERNS: list[tuple[re.Pattern, str, str, str]] = [
    # (pattern on the first line, service, product, cpe vendor:product)
    (re.compile(r"^SSH-[\d.]+-OpenSSH_([\w.]+)"), "ssh", "OpenSSH", "openbsd:openssh"),
    (
        re.compile(r"^SSH-[\d.]+-dropbear_([\w.]+)"),
        "ssh",
        "Dropbear SSH",
        "dropbear_ssh_project:dropbear_ssh",
    ),
    (re.compile(r"^SSH-[\d.]+-(\S*)"), "ssh", "", ""),
    (re.compile(r"^220.*\(vsFTPd ([\d.]+)\)"), "ftp", "vsftpd", "beasts:vsftpd"),
    (re.compile(r"^220.*ProFTPD ([\d.]+\w*)"), "ftp", "ProFTPD", "proftpd:proftpd"),
    (
        re.compile(r"^220.*FileZilla Server (?:version )?([\d.]+)"),
        "ftp",
        "FileZilla Server",
        "filezilla-project:filezilla_server",
    ),
    (
        re.compile(r"^220.*Microsoft FTP"),
        "ftp",
        "Microsoft ftpd",
        "microsoft:internet_information_services",
    ),
    (re.compile(r"^220.*ESMTP Postfix"), "smtp", "Postfix", "postfix:postfix"),
    (re.compile(r"^220.*Exim ([\d.]+)"), "smtp", "Exim", "exim:exim"),
    (re.compile(r"^220.*Sendmail ([\d.]+\w*)"), "smtp", "Sendmail", "sendmail:sendmail"),
    (
        re.compile(r"^220.*Microsoft ESMTP"),
        "smtp",
        "Microsoft Exchange smtpd",
        "microsoft:exchange_server",
    ),
    (re.compile(r"^220.*(?:SMTP|smtp|ESMTP)"), "smtp", "", ""),
    (re.compile(r"^220.*(?:FTP|ftp)"), "ftp", "", ""),
    (re.compile(r"^\* OK.*Dovecot"), "imap", "Dovecot imapd", "dovecot:dovecot"),
    (re.compile(r"^\* OK"), "imap", "", ""),
    (re.compile(r"^\+OK.*Dovecot"), "pop3", "Dovecot pop3d", "dovecot:dovecot"),
    (re.compile(r"^\+OK"), "pop3", "", ""),
    (re.compile(r"^RFB (\d{3}\.\d{3})"), "vnc", "VNC", ""),
]


def classify_banner(data: bytes) -> Service | None:
    """Identify a service from the bytes it sends first."""
    if not data:
        return None
    if data[0] == 0xFF and len(data) > 1 and data[1] in (0xFB, 0xFC, 0xFD, 0xFE):
        return Service(0, service="telnet", confidence="high", banner=_printable(data))
    mysql = _mysql_greeting(data)
    if mysql:
        return mysql
    if data.startswith(b"AMQP") and len(data) >= 8:
        # the protocol header an AMQP broker (RabbitMQ…) sends back to any other first bytes
        version = "-".join(str(b) for b in data[5:8])
        return Service(
            0,
            service="amqp",
            product="AMQP",
            version=version,
            confidence="high",
            banner=_printable(data[:8]),
            details={"protocol": version},
        )
    line = data.split(b"\n", 1)[0].decode("latin-1").strip()
    nats = re.match(r'^INFO (\{.*"server_id".*\})', line)
    if nats:  # a NATS server greets with its INFO document
        version = re.search(r'"version":"([\w.]+)"', nats.group(1))
        return Service(
            0,
            service="nats",
            product="NATS",
            version=version.group(1) if version else "",
            confidence="high",
            banner=line[:200],
        )
    for pattern, service, product, cpe in BANNER_PATTERNS:
        match = pattern.match(line)
        if not match:
            continue
        version = match.group(1) if pattern.groups and product else ""
        if service == "vnc":
            return Service(
                0,
                service="vnc",
                product="VNC",
                version="",
                confidence="high",
                banner=line,
                details={"protocol": match.group(1)},
            )
        svc = Service(
            0,
            service=service,
            product=product,
            version=version,
            banner=line[:200],
            confidence="high" if product else "medium",
        )
        if cpe:
            svc.cpe = make_cpe(cpe, version)
        distro = _distro(line)
        if distro:
            svc.details["distribution"] = distro
        return svc
    return None


def _mysql_refusal(data: bytes) -> Service | None:
    """A MySQL/MariaDB server that refuses us before its greeting (error packet: "Host … is not
    allowed to connect to this MariaDB server", too many connections…): named from the text."""
    length = int.from_bytes(data[:3], "little")
    if data[3] != 0 or length < 3 or length + 4 > len(data) + 64:
        return None
    code = int.from_bytes(data[5:7], "little")
    text = data[7 : 4 + length].decode("latin-1")
    if text.startswith("#"):  # SQL state marker (protocol 4.1)
        text = text[6:]
    product = "MariaDB" if "mariadb" in text.lower() else "MySQL" if "mysql" in text.lower() else ""
    if not product and not 1000 <= code < 2000:
        return None
    return Service(
        0,
        service="mysql",
        product=product,
        confidence="medium" if product else "low",
        cpe=make_cpe("mariadb:mariadb" if product == "MariaDB" else "oracle:mysql", "")
        if product
        else "",
        banner=_printable(text.encode("latin-1")),
        details={"refused": code},
    )


def _mysql_greeting(data: bytes) -> Service | None:
    if len(data) >= 7 and data[4] == 0xFF:
        return _mysql_refusal(data)
    if len(data) < 6 or data[4] != 10:
        return None
    length = int.from_bytes(data[:3], "little")
    if length + 4 > len(data) + 64 or length < 10:
        return None
    end = data.find(b"\x00", 5)
    if end < 0:
        return None
    version = data[5:end].decode("latin-1")
    if not re.match(r"^\d+\.\d+", version):
        return None
    if "mariadb" in version.lower():
        clean = re.sub(r"^5\.5\.5-", "", version).split("-")[0]
        return Service(
            0,
            service="mysql",
            product="MariaDB",
            version=clean,
            confidence="high",
            cpe=make_cpe("mariadb:mariadb", clean),
            banner=version,
        )
    clean = version.split("-")[0]
    return Service(
        0,
        service="mysql",
        product="MySQL",
        version=clean,
        confidence="high",
        cpe=make_cpe("oracle:mysql", clean),
        banner=version,
    )


def make_cpe(vendor_product: str, version: str) -> str:
    """A CPE 2.3 application name; OpenSSH-style "9.2p1" splits into version and update."""
    vendor, product = vendor_product.split(":", 1)
    update = "*"
    match = re.match(r"^(\d+(?:\.\d+)*)(p\d+)$", version or "")
    if match:
        version, update = match.group(1), match.group(2)
    return f"cpe:2.3:a:{vendor}:{product}:{version or '*'}:{update}:*:*:*:*:*:*"


# Adaptive waits (internet profile): a wait for an answer is a floor plus RTT_FACTOR round
# trips measured on the port's own connection set-up, never more than the fixed ceiling. The
# floor is the service's own time, which the RTT does not show: a greeting (banner) comes after
# a fork or a reverse DNS lookup, BANNER_FLOOR; the answer to a request we sent on a port that
# stayed mute (TLS ServerHello, HTTP response) is computed at once, ANSWER_FLOOR. A host 1 ms
# away: banner 1 s (instead of 1.5 s), probes of a mute port 0.5 s (instead of 1 s); a host
# 62 ms away or more gets the full ceilings.
BANNER_FLOOR = 1.0
ANSWER_FLOOR = 0.5
RTT_FACTOR = 8.0


def adaptive_wait(rtt: float | None, ceiling: float, floor: float = ANSWER_FLOOR) -> float:
    """How long to wait for an answer from a port whose connection took ``rtt`` seconds
    (``ceiling`` when the RTT is unknown)."""
    if rtt is None:
        return ceiling
    return min(ceiling, floor + RTT_FACTOR * rtt)


async def probe_banner(
    host: str, port: int, timeout: float, adaptive: bool = False
) -> tuple[Service | None, bytes]:
    """Wait for a greeting (``timeout``, or with ``adaptive`` the wait ``adaptive_wait`` gives
    for the measured connection time, ``timeout`` at most); classify it."""
    data = await _exchange(host, port, None, timeout, floor=BANNER_FLOOR if adaptive else None)
    return classify_banner(data), data


# ---------------------------------------------------------------- client-first protocols


async def probe_redis(host: str, port: int, timeout: float) -> Service | None:
    """INFO server: a version without authentication, or NOAUTH when a password is set."""
    data = await _exchange(host, port, b"INFO server\r\n", timeout)
    text = data.decode("latin-1")
    if text.startswith("-NOAUTH") or text.startswith("-ERR operation not permitted"):
        return Service(
            port,
            service="redis",
            product="Redis",
            confidence="high",
            banner=text.strip()[:120],
            details={"auth_required": True},
        )
    if text.startswith("-DENIED"):
        return Service(
            port,
            service="redis",
            product="Redis",
            confidence="high",
            banner=text.strip()[:120],
            details={"auth_required": True, "protected_mode": True},
        )
    if text.startswith("$") and "redis_version:" in text:
        version = re.search(r"redis_version:([\w.]+)", text).group(1)
        return Service(
            port,
            service="redis",
            product="Redis",
            version=version,
            confidence="high",
            cpe=make_cpe("redis:redis", version),
            banner=f"redis_version:{version}",
            details={"auth_required": False},
        )
    return None


def _bson_hello() -> bytes:
    def element_int(name: str, value: int) -> bytes:
        return b"\x10" + name.encode() + b"\x00" + struct.pack("<i", value)

    def element_str(name: str, value: str) -> bytes:
        raw = value.encode() + b"\x00"
        return b"\x02" + name.encode() + b"\x00" + struct.pack("<i", len(raw)) + raw

    body = element_int("hello", 1) + element_str("$db", "admin")
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


async def probe_mongodb(host: str, port: int, timeout: float) -> Service | None:
    """OP_MSG hello: MongoDB answers with its wire version, no credentials needed."""
    doc = _bson_hello()
    body = struct.pack("<I", 0) + b"\x00" + doc
    header = struct.pack("<iiii", 16 + len(body), 1, 0, 2013)
    data = await _exchange(host, port, header + body, timeout)
    if len(data) >= 16 and struct.unpack("<i", data[12:16])[0] == 2013:
        auth = b"ismaster" in data.lower() or b"isWritablePrimary" in data
        return Service(
            port,
            service="mongodb",
            product="MongoDB",
            confidence="high",
            cpe="cpe:2.3:a:mongodb:mongodb:*:*:*:*:*:*:*:*",
            banner=_printable(data[21:], 120),
            details={"hello": auth},
        )
    return None


async def probe_postgresql(host: str, port: int, timeout: float) -> Service | None:
    """SSLRequest: PostgreSQL answers a single 'S' or 'N'."""
    data = await _exchange(host, port, struct.pack("!ii", 8, 80877103), timeout, read=1)
    if data in (b"S", b"N"):
        return Service(
            port,
            service="postgresql",
            product="PostgreSQL",
            confidence="high",
            cpe="cpe:2.3:a:postgresql:postgresql:*:*:*:*:*:*:*:*",
            details={"tls": data == b"S"},
        )
    return None


async def probe_mssql(host: str, port: int, timeout: float) -> Service | None:
    """TDS PRELOGIN: the answer carries the server version."""
    # Option table: VERSION at offset 11 (6 bytes), ENCRYPTION at 17 (1 byte), terminator.
    options = b"\x00\x00\x0b\x00\x06" + b"\x01\x00\x11\x00\x01" + b"\xff"
    payload = options + b"\x00" * 6 + b"\x02"
    packet = b"\x12\x01" + struct.pack("!H", 8 + len(payload)) + b"\x00\x00\x01\x00" + payload
    data = await _exchange(host, port, packet, timeout)
    if len(data) > 8 and data[0] == 0x04:
        body = data[8:]
        version = ""
        if body[:1] == b"\x00" and len(body) >= 5:
            offset, length = struct.unpack("!HH", body[1:5])
            raw = body[offset : offset + length]
            if len(raw) >= 4:
                version = f"{raw[0]}.{raw[1]}.{int.from_bytes(raw[2:4], 'big')}"
        return Service(
            port,
            service="ms-sql",
            product="Microsoft SQL Server",
            version=version,
            confidence="high",
            cpe="cpe:2.3:a:microsoft:sql_server:*:*:*:*:*:*:*:*",
        )
    return None


# TPKT (19 bytes) + X.224 Connection Request + RDP_NEG_REQ asking for TLS or CredSSP.
RDP_REQUEST = b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00"


async def probe_rdp(host: str, port: int, timeout: float) -> Service | None:
    """X.224 Connection Request with an RDP negotiation; a Connection Confirm means RDP."""
    data = await _exchange(host, port, RDP_REQUEST, timeout)
    if len(data) >= 7 and data[0] == 0x03 and data[1] == 0x00 and data[5] & 0xF0 == 0xD0:
        details = {}
        if len(data) >= 19 and data[11] == 0x02:
            details["selected_protocol"] = int.from_bytes(data[15:19], "little")
        elif len(data) >= 19 and data[11] == 0x03:
            details["negotiation_failure"] = int.from_bytes(data[15:19], "little")
        return Service(
            port,
            service="rdp",
            product="Microsoft Terminal Services",
            confidence="high",
            details=details,
            cpe="cpe:2.3:a:microsoft:remote_desktop_services:*:*:*:*:*:*:*:*",
        )
    return None


def _smb_negotiate() -> bytes:
    dialects = b"".join(b"\x02" + d + b"\x00" for d in (b"NT LM 0.12", b"SMB 2.002", b"SMB 2.???"))
    header = (
        b"\xffSMB"
        + b"\x72"
        + b"\x00\x00\x00\x00"
        + b"\x18"
        + b"\x53\xc8"
        + b"\x00" * 12
        + b"\xff\xfe"
        + b"\x00\x00"
        + b"\x00\x00"
        + b"\x00\x00"
    )
    body = b"\x00" + struct.pack("<H", len(dialects)) + dialects
    smb = header + body
    return b"\x00" + len(smb).to_bytes(3, "big") + smb


async def probe_smb(host: str, port: int, timeout: float) -> Service | None:
    """SMB negotiate: an SMB1 or SMB2 answer identifies the file-sharing service."""
    data = await _exchange(host, port, _smb_negotiate(), timeout)
    if len(data) >= 8 and data[4:8] in (b"\xfeSMB", b"\xffSMB"):
        version = "2+" if data[4:8] == b"\xfeSMB" else "1"
        return Service(
            port,
            service="microsoft-ds",
            product="SMB",
            version=version,
            confidence="high",
            details={"smb1": version == "1"},
        )
    return None


async def probe_hl7(host: str, port: int, timeout: float) -> Service | None:
    """An empty MLLP frame; an HL7 listener answers with a framed message (usually an ACK)."""
    data = await _exchange(host, port, b"\x0b\x1c\x0d", timeout)
    if data.startswith(b"\x0b") and b"MSH|" in data:
        msh = data[1:].split(b"\r", 1)[0].decode("latin-1")
        fields = msh.split("|")
        app = fields[2] if len(fields) > 2 else ""
        return Service(
            port, service="hl7-mllp", product=app or "HL7 MLLP", confidence="high", banner=msh[:120]
        )
    return None


VERIFICATION_SOP = b"1.2.840.10008.1.1"
IMPLICIT_VR_LE = b"1.2.840.10008.1.2"
APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
# A UID of our own, derived from a UUID (the "2.25" root needs no registration).
IMPLEMENTATION_UID = b"2.25.329800735698586629295641978511506172918"
IMPLEMENTATION_NAME = b"CAREOPS_1"


def _item(kind: int, body: bytes) -> bytes:
    return bytes([kind, 0]) + struct.pack("!H", len(body)) + body


def _ae(title: str) -> bytes:
    return title.encode("ascii")[:16].ljust(16, b" ")


def associate_request(called: str, calling: str = "CAREOPS") -> bytes:
    """A-ASSOCIATE-RQ proposing only the Verification SOP class (implicit VR little endian)."""
    context = bytes([1, 0, 0, 0]) + _item(0x30, VERIFICATION_SOP) + _item(0x40, IMPLICIT_VR_LE)
    user = (
        _item(0x51, struct.pack("!I", 16384))
        + _item(0x52, IMPLEMENTATION_UID)
        + _item(0x55, IMPLEMENTATION_NAME)
    )
    body = (
        struct.pack("!HH", 1, 0)
        + _ae(called)
        + _ae(calling)
        + b"\x00" * 32
        + _item(0x10, APPLICATION_CONTEXT)
        + _item(0x20, context)
        + _item(0x50, user)
    )
    return bytes([0x01, 0]) + struct.pack("!I", len(body)) + body


def _element(group: int, element: int, value: bytes) -> bytes:
    return struct.pack("<HHI", group, element, len(value)) + value


def echo_request(message_id: int = 1) -> bytes:
    """P-DATA-TF carrying a C-ECHO-RQ command (implicit VR little endian)."""
    rest = (
        _element(0, 0x0002, VERIFICATION_SOP + b"\x00")
        + _element(0, 0x0100, struct.pack("<H", 0x0030))
        + _element(0, 0x0110, struct.pack("<H", message_id))
        + _element(0, 0x0800, struct.pack("<H", 0x0101))
    )
    command = _element(0, 0x0000, struct.pack("<I", len(rest))) + rest
    pdv = struct.pack("!I", len(command) + 2) + bytes([1, 0x03]) + command
    return bytes([0x04, 0]) + struct.pack("!I", len(pdv)) + pdv


def parse_associate_accept(pdu: bytes) -> dict:
    """Accepted context result and the acceptor's implementation class UID and version name."""
    info: dict = {"context_result": None, "implementation_uid": "", "implementation": ""}
    position = 6 + 68  # PDU header, then the fixed fields of the A-ASSOCIATE-AC
    while position + 4 <= len(pdu):
        kind, length = pdu[position], struct.unpack("!H", pdu[position + 2 : position + 4])[0]
        body = pdu[position + 4 : position + 4 + length]
        if kind == 0x21 and len(body) >= 3:
            info["context_result"] = body[2]
        elif kind == 0x50:
            sub = 0
            while sub + 4 <= len(body):
                sub_kind, sub_length = body[sub], struct.unpack("!H", body[sub + 2 : sub + 4])[0]
                value = (
                    body[sub + 4 : sub + 4 + sub_length].decode("ascii", "replace").strip(" \x00")
                )
                if sub_kind == 0x52:
                    info["implementation_uid"] = value
                elif sub_kind == 0x55:
                    info["implementation"] = value
                sub += 4 + sub_length
        position += 4 + length
    return info


def echo_status(pdu: bytes) -> int | None:
    """The Status (0000,0900) of a C-ECHO-RSP carried by a P-DATA-TF."""
    position = 6 + 4 + 2  # PDU header, PDV length, context id and control header
    while position + 8 <= len(pdu):
        group, element, length = struct.unpack("<HHI", pdu[position : position + 8])
        if (group, element) == (0, 0x0900) and length == 2:
            return struct.unpack("<H", pdu[position + 8 : position + 10])[0]
        position += 8 + length
    return None


async def _read_pdu(reader: asyncio.StreamReader, timeout: float) -> bytes:
    header = await asyncio.wait_for(reader.readexactly(6), timeout)
    length = struct.unpack("!I", header[2:6])[0]
    if length > 1 << 20:
        raise ValueError("PDU trop grande")
    return header + await asyncio.wait_for(reader.readexactly(length), timeout)


async def probe_dicom(host: str, port: int, timeout: float) -> Service | None:
    """A DICOM association with an arbitrary called AE title and one C-ECHO (Verification);
    never C-STORE or C-FIND. Accepted means the server takes any AE title."""
    called = "ANY-SCP"
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(associate_request(called))
        await writer.drain()
        answer = await _read_pdu(reader, timeout)
        if answer[0] == 0x03:
            return Service(
                port,
                service="dicom",
                product="DICOM",
                confidence="high",
                details={"accepts_any_aet": False, "called_aet": called},
            )
        if answer[0] != 0x02:
            return None
        info = parse_associate_accept(answer)
        status = None
        if info["context_result"] == 0:
            writer.write(echo_request())
            await writer.drain()
            reply = await _read_pdu(reader, timeout)
            status = echo_status(reply) if reply[0] == 0x04 else None
        writer.write(bytes([0x05, 0]) + struct.pack("!I", 4) + b"\x00" * 4)  # A-RELEASE-RQ
        await writer.drain()
        try:
            await _read_pdu(reader, timeout)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
    except asyncio.IncompleteReadError:
        return None
    finally:
        writer.close()
    product, version = "DICOM", ""
    match = re.match(r"OFFIS_DCMTK_(\d)(\d)(\d)", info["implementation"])
    if match:
        product, version = "DCMTK", ".".join(match.groups())
    service = Service(
        port,
        service="dicom",
        product=product,
        version=version,
        confidence="high",
        details={
            "accepts_any_aet": True,
            "called_aet": called,
            "echo_status": status,
            "implementation": info["implementation"],
            "implementation_uid": info["implementation_uid"],
        },
    )
    if product == "DCMTK":
        service.cpe = make_cpe("offis:dcmtk", version)
    return service


# Which probe to try first for well-known ports (the rest follow in GENERIC_ORDER).
PORT_HINTS: dict[int, str] = {
    21: "banner",
    22: "banner",
    23: "banner",
    25: "banner",
    110: "banner",
    143: "banner",
    587: "banner",
    3306: "banner",
    5900: "banner",
    5901: "banner",
    80: "http",
    81: "http",
    8000: "http",
    8008: "http",
    8080: "http",
    8081: "http",
    8088: "http",
    8888: "http",
    9200: "http",
    5985: "http",
    3000: "http",
    5601: "http",
    9090: "http",
    443: "tls",
    4443: "tls",
    8443: "tls",
    9443: "tls",
    10443: "tls",
    5986: "tls",
    465: "tls",
    993: "tls",
    995: "tls",
    636: "tls",
    6443: "tls",
    104: "dicom",
    11112: "dicom",
    2761: "dicom",
    2575: "hl7",
    3389: "rdp",
    445: "smb",
    139: "smb",
    6379: "redis",
    27017: "mongodb",
    5432: "postgresql",
    1433: "mssql",
}

CLIENT_FIRST = {
    "redis": probe_redis,
    "mongodb": probe_mongodb,
    "postgresql": probe_postgresql,
    "mssql": probe_mssql,
    "rdp": probe_rdp,
    "smb": probe_smb,
    "hl7": probe_hl7,
    "dicom": probe_dicom,
}

PORT_NAMES: dict[int, str] = {
    21: "ftp",
    22: "ssh",
    23: "telnet",
    25: "smtp",
    80: "http",
    104: "dicom",
    110: "pop3",
    139: "netbios-ssn",
    143: "imap",
    443: "https",
    445: "microsoft-ds",
    1433: "ms-sql",
    2575: "hl7-mllp",
    3306: "mysql",
    3389: "rdp",
    5432: "postgresql",
    5900: "vnc",
    5985: "winrm",
    5986: "winrm",
    6379: "redis",
    8080: "http-proxy",
    9200: "elasticsearch",
    11112: "dicom",
    27017: "mongodb",
}
