"""Egress policy: where careops may connect on a user's behalf (LDAP, backup repositories, S3).

Django-free (engines may import it). A destination name is resolved once, *every* resolved
address is checked with ``careops.addresses.classify``, and the connection is made to a checked
address, so that a name cannot resolve to a public address for the check and to 127.0.0.1 for
the connection (DNS rebinding). Loopback, private and link-local destinations are refused unless
an administrator enabled internal targets for the organisation; metadata services, multicast,
unspecified and reserved addresses are always refused.

Tools that open their own connections (restic over HTTP, boto3) are given ``EgressProxy``: a
small HTTP proxy on loopback that applies the same check to each connection they open.
"""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from careops.addresses import INTERNAL, classify


class EgressRefused(ValueError):
    """A destination the policy refuses; the message is in French and names the reason."""


@dataclass(frozen=True)
class EgressPolicy:
    """Whether internal (loopback, private, link-local) destinations are allowed."""

    allow_internal: bool = False

    def check_address(self, address: str, host: str | None = None) -> None:
        """Raise EgressRefused unless the policy allows ``address``."""
        verdict = classify(address)
        if verdict.public:
            return
        named = f"« {host} » ({address})" if host and host != address else address
        if verdict.category in INTERNAL:
            if self.allow_internal:
                return
            raise EgressRefused(
                f"Destination {named} refusée : {verdict.label}. Les cibles internes doivent être "
                "autorisées pour l'organisation par un administrateur de la plateforme."
            )
        raise EgressRefused(f"Destination {named} refusée : {verdict.label}.")

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, every one checked; raises EgressRefused otherwise."""
        if not host:
            raise EgressRefused("Destination sans nom d'hôte.")
        literal = host.strip("[]")
        try:
            ipaddress.ip_address(literal)
            infos = [literal]
        except ValueError:
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (socket.gaierror, UnicodeError) as exc:
                raise EgressRefused(f"Nom « {host} » introuvable dans le DNS.") from exc
            infos = []
            for *_, sockaddr in found:
                if sockaddr[0] not in infos:
                    infos.append(sockaddr[0])
        for address in infos:
            self.check_address(address, host)
        return infos

    def connect(self, host: str, port: int, timeout: float = 30) -> socket.socket:
        """A TCP connection to a checked address of ``host`` (never resolved a second time)."""
        last: OSError | None = None
        for address in self.resolve(host, port):
            try:
                return socket.create_connection((address, port), timeout=timeout)
            except OSError as exc:
                last = exc
        raise EgressRefused(f"« {host} » injoignable sur le port {port}.") from last


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """Host and port of a URL (``scheme://host[:port]/…``)."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or default_port


# ---------------------------------------------------------------- proxy for tools


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: _ProxyServer

    def handle(self) -> None:
        client = self.request
        client.settimeout(60)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
            if len(head) > 65536:
                return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = line.partition(" ")
        target = rest.rsplit(" ", 1)[0]
        if method.upper() == "CONNECT":
            host, _, port = target.rpartition(":")
            host, port_number, forward = host.strip("[]"), int(port or 443), b""
        else:
            parts = urlsplit(target)
            host, port_number, forward = parts.hostname or "", parts.port or 80, head
        try:
            upstream = self.server.policy.connect(host, port_number, timeout=30)
        except EgressRefused as exc:
            self.server.refusals.append(str(exc))
            body = str(exc).encode("utf-8")
            client.sendall(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            return
        with upstream:
            if forward:
                upstream.sendall(forward)
            else:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                extra = head.split(b"\r\n\r\n", 1)[1]
                if extra:
                    upstream.sendall(extra)
            _relay(client, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 300)
        if not readable:
            return
        for sock in readable:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, policy: EgressPolicy):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.policy = policy
        self.refusals: list[str] = []


@contextlib.contextmanager
def egress_proxy(policy: EgressPolicy) -> Iterator[_ProxyServer]:
    """An HTTP/CONNECT proxy on loopback that checks each destination; ``.url`` to use it."""
    server = _ProxyServer(policy)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
