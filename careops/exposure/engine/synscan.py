"""Raw TCP SYN scan (IPv4), used when the process holds CAP_NET_RAW; portscan.py falls back to
its connect scan otherwise.

Why: a connect scan pays one socket and one timeout slot per silent port, so a host that drops
packets costs probes × timeout / concurrency (33 s for 65,535 ports at 500 in flight and 0.25 s).
A SYN scan sends every probe at a paced rate and waits for the silent ones once, at the end of a
pass: the cost of a dropping host becomes probes / rate + one timeout.

How: one raw socket sends hand-built SYNs (the kernel adds the IP header and picks the route)
from one local port reserved by a bound, non-listening TCP socket (no other program can use it;
the kernel answers every SYN-ACK with a RST, so no connection stays half open on the target).
The same raw socket receives the answers: SYN-ACK → open, RST → closed; anything whose
acknowledgement is not our sequence number + 1, or from an address we did not probe, is ignored.

Politeness: per-host pacing (``host_rate`` new probes per second, round-robin across hosts under
the global ``rate``), and an adaptive back-off: silent ports of a host that answered are probed
again in a second pass; if that pass recovers answers (loss or a rate-limiting middlebox, not a
filtering firewall, which stays silent the second time too) the host's rate drops to the answer
rate measured in that pass (at least halved) and the remaining silent ports get another pass, up
to ``max_passes``.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import struct
from collections.abc import Callable

TICK = 0.002  # pacing granularity (s)


def available() -> bool:
    """Can this process open a raw socket (root or CAP_NET_RAW)?"""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    except OSError:
        return False
    sock.close()
    return True


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


# SYN with MSS 1460 (a bare SYN without options is a classic scanner fingerprint some stacks drop)
_OPTIONS = b"\x02\x04\x05\xb4"


def _syn(src: bytes, dst: bytes, sport: int, dport: int, seq: int) -> bytes:
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (6 << 4), 0x02, 64240, 0, 0)
    segment = header + _OPTIONS
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(segment))
    checksum = _checksum(pseudo + segment)
    return segment[:16] + struct.pack("!H", checksum) + segment[18:]


class _Host:
    __slots__ = (
        "address",
        "packed",
        "source",
        "result",
        "pending",
        "queue",
        "sent_at",
        "rate",
        "tokens",
        "passes",
        "pass_answers",
        "pass_started",
        "last_sent",
        "srtt",
        "done",
    )


class SynSweep:
    """One raw-socket SYN sweep of ``ports`` on every IPv4 address of ``hosts``."""

    def __init__(self, hosts, ports, options, on_host_done: Callable | None):
        self.loop = asyncio.get_running_loop()
        self.options = options
        self.on_host_done = on_host_done
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.sock.setblocking(False)
        for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, 16 << 20)
                break
            except OSError:
                continue
        self.reserve = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.reserve.bind(("0.0.0.0", 0))  # noqa: S104 — reserves a local port, never listens
        self.sport = self.reserve.getsockname()[1]
        self.isn = random.getrandbits(32)
        self.ack = (self.isn + 1) & 0xFFFFFFFF
        self.hosts: dict[bytes, _Host] = {}
        for address, result in hosts.items():
            host = _Host()
            host.address = address
            host.packed = socket.inet_aton(address)
            host.source = self._source(address)
            host.result = result
            host.pending = set(ports)
            host.queue = list(reversed(ports))
            host.sent_at = {}
            host.rate = float(options.host_rate)
            host.tokens = 0.0
            host.passes = 0
            host.pass_answers = 0
            host.pass_started = None
            host.last_sent = 0.0
            host.srtt = None
            host.done = False
            self.hosts[host.packed] = host
        self.active = [h for h in self.hosts.values()]
        self.global_tokens = 0.0
        self.last_tick = self.loop.time()
        self.done = self.loop.create_future()
        self.timer = None
        self.loop.add_reader(self.sock.fileno(), self._on_readable)

    @staticmethod
    def _source(address: str) -> bytes:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect((address, 9))
            return socket.inet_aton(probe.getsockname()[0])
        except OSError:
            return b"\x00\x00\x00\x00"
        finally:
            probe.close()

    def close(self) -> None:
        self.loop.remove_reader(self.sock.fileno())
        if self.timer:
            self.timer.cancel()
        self.sock.close()
        self.reserve.close()

    def start(self) -> None:
        self._tick()

    def _timeout(self, host: _Host) -> float:
        options = self.options
        if host.srtt is None:
            return options.timeout
        return min(options.timeout, max(options.min_timeout, options.rtt_factor * host.srtt))

    def _tick(self) -> None:
        self.timer = None
        now = self.loop.time()
        elapsed = max(0.0, now - self.last_tick)
        self.last_tick = now
        options = self.options
        if options.rate:
            self.global_tokens = min(
                options.rate * 0.05, self.global_tokens + options.rate * elapsed
            )
        sending = [h for h in self.active if h.queue]
        budget = self.global_tokens if options.rate else float("inf")
        # per-host token buckets (burst: 20 ms worth), then round-robin one probe per host
        for host in sending:
            host.tokens = min(max(host.rate * 0.02, 1.0), host.tokens + host.rate * elapsed)
            if host.pass_started is None:
                host.pass_started = now
        send = self.sock.sendto
        while sending and budget >= 1:
            still = []
            for host in sending:
                if host.tokens < 1 or not host.queue or budget < 1:
                    continue
                port = host.queue.pop()
                try:
                    send(
                        _syn(host.source, host.packed, self.sport, port, self.isn),
                        (host.address, 0),
                    )
                except BlockingIOError:
                    host.queue.append(port)
                    budget = 0
                    break
                except OSError as exc:
                    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES):
                        host.pending.discard(port)
                        host.result.unreachable += 1
                    else:
                        raise
                host.sent_at[port] = now
                host.last_sent = now
                host.tokens -= 1
                budget -= 1
                if host.tokens >= 1 and host.queue:
                    still.append(host)
            sending = still
        if options.rate:
            self.global_tokens = budget if budget != float("inf") else self.global_tokens
        self._receive()
        self._end_passes(now)
        if not self.active:
            if not self.done.done():
                self.done.set_result(None)
            return
        if any(h.queue for h in self.active):
            delay = TICK
        else:
            delay = max(TICK, min(h.last_sent + self._timeout(h) for h in self.active) - now)
        self.timer = self.loop.call_later(delay, self._tick)

    def _end_passes(self, now: float) -> None:
        for host in list(self.active):
            if host.queue or (host.pending and now < host.last_sent + self._timeout(host)):
                continue
            self._drain()
            if host.queue:
                continue
            recovered = host.pass_answers
            duration = max(TICK, host.last_sent - (host.pass_started or host.last_sent) + TICK)
            host.passes += 1
            answered = host.result.answered
            retry = (
                host.pending
                and answered
                and host.passes < self.options.max_passes
                and (host.passes == 1 or recovered > 0)
            )
            if retry:
                if host.passes > 1:
                    # a retry pass recovered answers: loss or rate limiting; slow down to the
                    # answer rate just measured (at least halved)
                    host.rate = max(
                        self.options.min_host_rate, min(host.rate / 2, recovered / duration)
                    )
                    host.result.backoffs += 1
                host.queue = sorted(host.pending, reverse=True)
                host.pass_answers = 0
                host.pass_started = None
                continue
            host.result.filtered += len(host.pending)
            host.pending.clear()
            host.done = True
            self.active.remove(host)
            host.result.open.sort()
            if self.on_host_done:
                self.on_host_done(host.result)

    def _drain(self) -> None:
        self._receive()

    def _on_readable(self) -> None:
        self._receive()
        if any(not h.pending and not h.queue for h in self.active):
            self._end_passes(self.loop.time())
            if not self.active and not self.done.done():
                self.done.set_result(None)

    def _receive(self) -> None:
        recv = self.sock.recv
        hosts = self.hosts
        now = self.loop.time()
        for _ in range(100000):
            try:
                packet = recv(128)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            ihl = (packet[0] & 0x0F) * 4
            host = hosts.get(packet[12:16])
            if host is None or len(packet) < ihl + 14:
                continue
            sport, dport, _seq, ack = struct.unpack_from("!HHII", packet, ihl)
            if dport != self.sport or ack != self.ack:
                continue
            flags = packet[ihl + 13]
            if sport not in host.pending:
                continue
            if flags & 0x12 == 0x12:
                host.result.open.append(sport)
            elif flags & 0x04:
                host.result.closed += 1
            else:
                continue
            host.pending.discard(sport)
            host.pass_answers += 1
            sent = host.sent_at.get(sport)
            if sent is not None:
                rtt = max(0.0, now - sent)
                host.srtt = rtt if host.srtt is None else 0.875 * host.srtt + 0.125 * rtt
                host.result.max_rtt = max(host.result.max_rtt, rtt)


async def syn_scan(hosts: dict, ports: list[int], options, on_host_done=None) -> None:
    """Fill the PortScanHost values of ``hosts`` (IPv4 addresses only)."""
    sweep = SynSweep(hosts, ports, options, on_host_done)
    try:
        sweep.start()
        await sweep.done
    finally:
        sweep.close()


def capable() -> bool:
    """Raw SYN probes are possible (and not disabled by CAREOPS_EXPOSURE_NO_RAW=1)."""
    return os.environ.get("CAREOPS_EXPOSURE_NO_RAW") != "1" and available()


def _echo(ident: int, sequence: int) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, ident, sequence) + b"careops"
    return header[:2] + struct.pack("!H", _checksum(header)) + header[4:]


async def ping(addresses: list[str], timeout: float, rate: float = 20000.0) -> set[str]:
    """ICMP echo to every IPv4 address (paced at ``rate``); the addresses that replied."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    ident = random.getrandbits(16)
    wanted = {socket.inet_aton(a): a for a in addresses if ":" not in a}
    alive: set[str] = set()

    def receive() -> None:
        while True:
            try:
                packet = sock.recv(256)
            except OSError:
                return
            ihl = (packet[0] & 0x0F) * 4
            if len(packet) < ihl + 8 or packet[ihl] != 0:
                continue
            if struct.unpack_from("!H", packet, ihl + 4)[0] != ident:
                continue
            address = wanted.get(packet[12:16])
            if address:
                alive.add(address)

    loop.add_reader(sock.fileno(), receive)
    try:
        for index, address in enumerate(wanted.values()):
            try:
                sock.sendto(_echo(ident, index & 0xFFFF), (address, 0))
            except OSError:
                pass  # unreachable or no buffer: that address stays unproven
            if index % 64 == 63:
                await asyncio.sleep(64 / rate)
        await asyncio.sleep(timeout)
        receive()
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
    return alive
