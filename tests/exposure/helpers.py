"""Real loopback services for the app tests: a DNS server answering TXT/A, and lab responders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dns.message
import dns.rdatatype
import dns.rrset

RESPONDERS = Path(__file__).with_name("lab_responders.py")


class DnsServer:
    """A tiny authoritative DNS server on 127.0.0.1 (UDP) serving the records it is given."""

    def __init__(self):
        self.records: dict[tuple[str, str], list[str]] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            kind = dns.rdatatype.to_text(question.rdtype)
            values = self.records.get((name, kind))
            if values:
                quoted = [f'"{v}"' if kind == "TXT" else v for v in values]
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", kind, *quoted))
            elif not any(n == name for n, _k in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_responders(**ports: int) -> subprocess.Popen:
    """Start lab_responders.py on 127.0.0.1 (rdp=, hl7=, garbage=, hang=) and wait for them."""
    args = [sys.executable, str(RESPONDERS), "--bind", "127.0.0.1"]
    for name, port in ports.items():
        args += [f"--{name}", str(port)]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 15
    pending = set(ports.values())
    while pending and time.monotonic() < deadline:
        for port in list(pending):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    pending.discard(port)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    if pending:
        stop(process)
        raise RuntimeError(f"répondeurs non démarrés sur {sorted(pending)}")
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        process.wait(timeout=10)


def identify_behind(handler, now):
    """What identification names on a 127.0.0.1 port served by ``handler`` (an asyncio
    stream handler), with the default options and no TLS analysis."""
    import asyncio

    from careops.exposure.engine.scanner import ScanOptions, identify

    async def run():
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await identify("127.0.0.1", port, None, ScanOptions(tls_checks=False), now)
        finally:
            server.close()

    return asyncio.run(run())
