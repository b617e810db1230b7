"""Attacker-side servers on loopback that record what careops sends them (security tests)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Recorder:
    """Everything a fake server received: raw bytes per connection, and HTTP requests."""

    raw: list[bytes] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def everything(self) -> bytes:
        with self.lock:
            return b"".join(self.raw)


class _S3Handler(BaseHTTPRequestHandler):
    """Answers every S3 call with AccessDenied, after recording it."""

    recorder: Recorder

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        head = f"{self.requestline}\r\n{self.headers}".encode("latin-1", "replace")
        with self.recorder.lock:
            self.recorder.raw.append(head + body)
            self.recorder.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers)}
            )
        payload = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
            b"<Message>Access Denied</Message></Error>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _record

    def log_message(self, *args) -> None:  # quiet
        return


@contextlib.contextmanager
def fake_s3() -> Iterator[tuple[str, Recorder]]:
    """A fake S3 endpoint on 127.0.0.1 that records every request (URL, recorder)."""
    recorder = Recorder()
    handler = type("Handler", (_S3Handler,), {"recorder": recorder})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and 127.0.0.1 (certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fake.crt", folder / "fake.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextlib.contextmanager
def fake_ldaps(
    folder: Path, name: str = "dc.attaquant.test"
) -> Iterator[tuple[int, str, Recorder]]:
    """A TLS listener on 127.0.0.1 that records the clear bytes an LDAP client sends
    (a simple bind carries the password); yields (port, CA PEM, recorder)."""
    cert, key = self_signed(folder, name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with contextlib.suppress(OSError, ssl.SSLError):
                conn.settimeout(5)
                with context.wrap_socket(conn, server_side=True) as tls:
                    data = tls.recv(65536)
                    with recorder.lock:
                        recorder.raw.append(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], cert.read_text(), recorder
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
