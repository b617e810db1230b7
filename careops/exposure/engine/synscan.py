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

Politeness: per-host pacing (round-robin across hosts under the global ``rate``), starting at
``start_host_rate`` new probes per second. A host that answers its probes (a SYN-ACK or a RST
each) is probed faster, as TCP's slow start grows a window: each window (at least 20 ms and 4
smoothed RTTs) by whose end the host has answered as many probes as were sent before the window
began doubles the host's rate, up to the ceiling ``host_rate``; the first window that falls short
ends the growth for the rest of the sweep. A host that filters, or drops under load, never grows
past the start rate. Then an adaptive back-off: silent ports of a host that answered are probed again in a second
pass; if that pass recovers answers (loss or a rate-limiting middlebox, not a filtering
firewall, which stays silent the second time too) the host's rate drops to the answer rate
measured in that pass (at least halved) and the remaining silent ports get another pass, up to
``max_passes``.

Sending: each sender thread hands its share of a turn's SYNs to the kernel in one
``sendmmsg`` call per 1,024 packets (through ctypes, which releases the GIL for the call), or
one ``sendto`` per packet where the C library has no ``sendmmsg``.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import socket
import struct
import threading
from collections.abc import Callable

TICK = 0.002  # pacing granularity (s)
BATCH = 2048  # SYNs handed to one sender thread per turn
SENDERS = int(os.environ.get("CAREOPS_SYN_SENDERS", "2"))  # sender threads
SAMPLE = 256  # silent ports probed again to tell loss (they answer now) from filtering
GROWTH_WINDOW = 0.02  # shortest rate-growth window (s); at least 4 smoothed RTTs
CATCH_UP = 0.1  # longest gap between turns whose probes a host may still get (s)
GROWTH_MIN_PROBES = 64  # a window proves nothing with fewer probes sent before it


def available() -> bool:
    """Can this process open a raw socket (root or CAP_NET_RAW)?"""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    except OSError:
        return False
    sock.close()
    return True


SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)


def port_filter(port: int, keep: int = 128) -> list[tuple[int, int, int, int]]:
    """A classic BPF program for a raw IPv4 TCP socket: keep the first ``keep`` bytes of the
    packets whose TCP destination port is ``port``, drop the others in the kernel."""
    return [
        (0xB1, 0, 0, 0),  # X = 4 × (IP header length)        ldxb 4*([0]&0xf)
        (0x48, 0, 0, 2),  # A = TCP destination port           ldh [x+2]
        (0x15, 0, 1, port),  # A == port ?                     jeq #port
        (0x06, 0, 0, keep),  # keep the packet (its head)     ret #keep
        (0x06, 0, 0, 0),  # drop it                            ret #0
    ]


def attach_port_filter(sock: socket.socket, port: int) -> bool:
    """Attach ``port_filter`` to ``sock``; False (and every packet kept, the Python side still
    checks each one) where the kernel refuses it."""
    import ctypes

    program = port_filter(port)
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in program))
    try:
        sock.setsockopt(
            socket.SOL_SOCKET,
            SO_ATTACH_FILTER,
            struct.pack("HL", len(program), ctypes.addressof(code)),
        )
    except OSError:
        return False
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


class _Template:
    """The SYNs towards one host differ only by destination port: the checksum of everything
    else is summed once, each packet adds its port (one's-complement sums commute)."""

    __slots__ = ("sport", "middle", "options", "base")

    _LAYOUT = struct.Struct("!HH12sH6s")  # ports, sequence…window, checksum, urgent + MSS

    def __init__(self, src: bytes, dst: bytes, sport: int, seq: int):
        zero_port = _syn(src, dst, sport, 0, seq)
        self.sport = sport
        self.middle, self.options = zero_port[4:16], zero_port[18:]
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(zero_port))
        blank = zero_port[:16] + b"\x00\x00" + zero_port[18:]  # checksum field left out
        self.base = (~_checksum(pseudo + blank)) & 0xFFFF  # folded sum, port 0

    def packet(self, dport: int) -> bytes:
        total = self.base + dport
        total = (total & 0xFFFF) + (total >> 16)
        return self._LAYOUT.pack(self.sport, dport, self.middle, ~total & 0xFFFF, self.options)

    def packets(self, dports: list[int]) -> list[bytes]:
        pack, sport, middle, options, base = (
            self._LAYOUT.pack,
            self.sport,
            self.middle,
            self.options,
            self.base,
        )
        return [
            pack(sport, d, middle, ~(((base + d) & 0xFFFF) + ((base + d) >> 16)) & 0xFFFF, options)
            for d in dports
        ]


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
        "full_pass",
        "template",
        "growing",
        "window_end",
        "window_sent",
        "pass_sent",
        "queued",
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
        # the kernel keeps only the answers to this sweep (the raw socket would otherwise get a
        # copy of every TCP packet: identification, TLS analysis, another sweep running beside)
        attach_port_filter(self.sock, self.sport)
        self.ceiling = float(options.host_rate or 0.0) or 1e9  # 0: no ceiling
        self.isn = random.getrandbits(32)
        self.ack = (self.isn + 1) & 0xFFFFFFFF
        self.hosts: dict[bytes, _Host] = {}
        for address, result in hosts.items():
            host = _Host()
            host.address = address
            host.packed = socket.inet_aton(address)
            host.source = self._source(address)
            host.template = _Template(host.source, host.packed, self.sport, self.isn)
            host.result = result
            host.pending = set(ports)
            host.queue = list(reversed(ports))
            host.sent_at = {}
            host.rate = min(self.ceiling, float(options.start_host_rate or self.ceiling))
            host.growing = host.rate < self.ceiling
            host.window_end = None
            host.window_sent = 0
            host.pass_sent = 0
            result.peak_rate = host.rate
            host.tokens = 0.0
            host.queued = False  # had probes waiting at the end of the last turn
            host.passes = 0
            host.pass_answers = 0
            host.pass_started = None
            host.last_sent = 0.0
            host.srtt = None
            host.done = False
            host.full_pass = True
            self.hosts[host.packed] = host
        self.active = [h for h in self.hosts.values()]
        # the smoothed RTT of every answer of the sweep (used only with options.shared_rtt)
        self.group_srtt = options.rtt_hint if options.shared_rtt else None
        self.global_tokens = 0.0
        self.last_tick = self.loop.time()
        self.wake = asyncio.Event()
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

    def _timeout(self, host: _Host) -> float:
        options = self.options
        srtt = host.srtt if host.srtt is not None else self.group_srtt
        if srtt is None:
            return options.timeout
        return min(options.timeout, max(options.min_timeout, options.rtt_factor * srtt))

    def _send_batch(self, batch: list) -> list:
        """Worker thread: send chunks of SYNs, (host, ports) each (the GIL is released in the
        system call, and on a near network the kernel processes the target's answer inside
        it); return the failures."""
        failed: list = []
        sender = _multi_sender()
        if sender is not None:
            sender.send(self.sock.fileno(), batch, failed)
            return failed
        send = self.sock.sendto
        for host, ports in batch:
            address = (host.address, 0)
            for port, packet in zip(ports, host.template.packets(ports), strict=True):
                try:
                    send(packet, address)
                except OSError as exc:
                    _failure(failed, host, port, exc.errno)
        return failed

    async def run(self) -> None:
        import concurrent.futures

        options = self.options
        threads = max(1, min(SENDERS, os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            while self.active:
                now = self.loop.time()
                elapsed = max(0.0, now - self.last_tick)
                self.last_tick = now
                if options.rate:
                    self.global_tokens = min(
                        options.rate * 0.05, self.global_tokens + options.rate * elapsed
                    )
                budget = int(self.global_tokens if options.rate else BATCH * threads)
                batch = []
                sending = [h for h in self.active if h.queue]
                for host in sending:
                    if host.growing:
                        self._grow(host, now)
                    _refill(host, elapsed)
                    if host.pass_started is None:
                        host.pass_started = now
                # each host's share of the budget in one chunk of consecutive queue entries
                sending = [h for h in sending if h.tokens >= 1]
                count = 0
                while sending and count < budget:
                    share = max(1, (budget - count) // len(sending))
                    still = []
                    for host in sending:
                        take = min(int(host.tokens), len(host.queue), share, budget - count)
                        if take <= 0:
                            continue
                        ports = host.queue[-take:]
                        del host.queue[-take:]
                        ports.reverse()
                        batch.append((host, ports))
                        host.sent_at.update(dict.fromkeys(ports, now))
                        host.last_sent = now
                        host.pass_sent += take
                        host.tokens -= take
                        count += take
                        if host.tokens >= 1 and host.queue:
                            still.append(host)
                    sending = still
                for host in self.active:
                    host.queued = bool(host.queue)
                if options.rate:
                    self.global_tokens -= count
                if batch:
                    parts = await asyncio.gather(
                        *(
                            self.loop.run_in_executor(pool, self._send_batch, part)
                            for part in _split(batch, count, threads)
                        )
                    )
                    for failed in parts:
                        for host, port, unreachable in failed:
                            if host.done or port not in host.pending:
                                continue
                            host.pending.discard(port)
                            if unreachable:
                                host.result.unreachable += 1
                            else:
                                host.result.filtered += 1
                self._receive()
                self._end_passes(self.loop.time())
                if not self.active:
                    break
                if any(h.queue for h in self.active):
                    delay = TICK if not batch else 0
                else:
                    now = self.loop.time()
                    delay = max(
                        TICK,
                        min(h.last_sent + self._timeout(h) for h in self.active if h.pending) - now
                        if any(h.pending for h in self.active)
                        else TICK,
                    )
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), delay)
                except TimeoutError:
                    pass

    def _grow(self, host: _Host, now: float) -> None:
        """Slow start: double the host's rate when, at the end of the current window, it has
        answered as many probes as were sent before the window began; stop growing at the
        first window that falls short."""
        if host.window_end is None:
            host.window_end, host.window_sent = now + GROWTH_WINDOW, host.pass_sent
            return
        if now < host.window_end:
            return
        if host.passes or not host.full_pass:
            host.growing = False  # later passes only re-probe silent ports
            return
        self._receive()  # count the answers already queued
        if host.window_sent >= GROWTH_MIN_PROBES:
            if host.pass_answers < host.window_sent:
                host.growing = False
                return
            host.rate = min(self.ceiling, host.rate * 2)
            host.result.peak_rate = max(host.result.peak_rate, host.rate)
            host.growing = host.rate < self.ceiling
        srtt = host.srtt or 0.0
        host.window_end, host.window_sent = now + max(GROWTH_WINDOW, 4 * srtt), host.pass_sent

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
                if host.passes == 1 and len(host.pending) > SAMPLE:
                    # a sample first: a filtering firewall stays silent the second time too
                    host.queue = random.sample(sorted(host.pending), SAMPLE)
                else:
                    if host.passes > 1:
                        # the previous pass recovered answers: loss or rate limiting; slow
                        # down to the answer rate just measured (at least halved)
                        host.rate = max(
                            self.options.min_host_rate,
                            min(host.rate / 2, recovered / duration)
                            if host.full_pass
                            else host.rate / 2,
                        )
                        host.result.backoffs += 1
                    host.queue = sorted(host.pending, reverse=True)
                host.full_pass = len(host.queue) == len(host.pending)
                host.pass_answers = 0
                host.pass_sent = 0
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
            self.wake.set()

    def _receive(self) -> None:
        recv = self.sock.recv
        hosts = self.hosts
        shared = self.options.shared_rtt
        ours, ack_expected, unpack = self.sport, self.ack, _ANSWER.unpack_from
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
            sport, dport, _seq, ack = unpack(packet, ihl)
            if dport != ours or ack != ack_expected:
                continue
            flags = packet[ihl + 13]
            if sport not in host.pending:
                continue
            if flags & 0x12 == 0x12:
                host.result.open.append(sport)
                if host.result.on_open:
                    host.result.on_open(host.address, sport)
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
                if shared:
                    group = self.group_srtt
                    self.group_srtt = rtt if group is None else 0.875 * group + 0.125 * rtt
                host.result.max_rtt = max(host.result.max_rtt, rtt)


_ANSWER = struct.Struct("!HHII")  # source and destination ports, sequence, acknowledgement


def _failure(failed: list, host: _Host, port: int, code: int | None) -> None:
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES):
        failed.append((host, port, True))
    elif code in (errno.EAGAIN, errno.ENOBUFS):
        pass  # lost, as on the wire (full queue, unresolved neighbour): retried
    else:
        failed.append((host, port, False))


class _MultiSender:
    """``sendmmsg`` through ctypes: one system call for up to ``SLOTS`` packets. Each thread
    has its own instance (its buffers are reused from one call to the next)."""

    SLOTS = 1024
    SIZE = 24  # a SYN with its MSS option

    def __init__(self, function):
        import ctypes

        class IoVec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

        class MsgHdr(ctypes.Structure):
            _fields_ = [
                ("name", ctypes.c_void_p),
                ("namelen", ctypes.c_uint32),
                ("iov", ctypes.c_void_p),
                ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p),
                ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int),
            ]

        class MMsgHdr(ctypes.Structure):
            _fields_ = [("hdr", MsgHdr), ("len", ctypes.c_uint)]

        self.ctypes = ctypes
        self.function = function
        self.buffer = ctypes.create_string_buffer(self.SLOTS * self.SIZE)
        self.iovecs = (IoVec * self.SLOTS)()
        self.messages = (MMsgHdr * self.SLOTS)()
        self.stride = ctypes.sizeof(MMsgHdr)
        self.first = ctypes.addressof(self.messages)
        self.names: dict[bytes, object] = {}  # packed address → its sockaddr_in, kept alive
        self.slot_names = [0] * self.SLOTS  # the sockaddr each slot's header points to
        base = ctypes.addressof(self.buffer)
        for index in range(self.SLOTS):
            self.iovecs[index].base = base + index * self.SIZE
            self.iovecs[index].len = self.SIZE
            header = self.messages[index].hdr
            header.iov = ctypes.addressof(self.iovecs[index])
            header.iovlen = 1
            header.namelen = 16

    def _name(self, host: _Host) -> int:
        name = self.names.get(host.packed)
        if name is None:
            raw = struct.pack("=H2s4s8x", socket.AF_INET, b"\x00\x00", host.packed)
            name = self.names[host.packed] = self.ctypes.create_string_buffer(raw, 16)
        return self.ctypes.addressof(name)

    def send(self, fd: int, batch: list, failed: list) -> None:
        slots, messages, held = self.SLOTS, self.messages, self.slot_names
        # the slots filled so far: (host, its ports in these slots), in slot order; a failure
        # (rare) is mapped back to its port from them, so no per-packet tuple is built
        segments: list[tuple[_Host, list[int]]] = []
        data: list[bytes] = []
        filled = 0
        for host, ports in batch:
            name, part = self._name(host), ports
            while part:
                room = slots - filled
                head, part = part[:room], part[room:]
                end = filled + len(head)
                # a slot keeps its destination from one call to the next: set only the slots
                # that held another host's (a ctypes write per packet cost a third of sending)
                if held[filled:end].count(name) != end - filled:
                    for index in range(filled, end):
                        messages[index].hdr.name = name
                    held[filled:end] = [name] * (end - filled)
                segments.append((host, head))
                data.extend(host.template.packets(head))
                filled = end
                if filled == slots:
                    self._flush(fd, segments, filled, data, failed)
                    segments, data, filled = [], [], 0
        if filled:
            self._flush(fd, segments, filled, data, failed)

    def _flush(self, fd: int, segments: list, count: int, data: list, failed: list) -> None:
        ctypes = self.ctypes
        payload = b"".join(data)
        ctypes.memmove(self.buffer, payload, len(payload))
        offset = 0
        while offset < count:
            sent = self.function(fd, self.first + offset * self.stride, count - offset, 0)
            if sent < 0:
                # the message at ``offset`` failed; the next call goes on after it
                host, port = _slot(segments, offset)
                _failure(failed, host, port, ctypes.get_errno())
                offset += 1
            else:
                offset += sent


def _refill(host: _Host, elapsed: float) -> None:
    """Add to the host's token bucket what ``elapsed`` seconds since the last turn give it.

    The burst is 20 ms worth. When this turn came late while the host had probes waiting (the
    loop was receiving a fast host's answers), the host gets what it was due since the last
    turn, up to CATCH_UP, so that its rate holds on average: beside two fast hosts, a slow one
    got 2/3 of its rate. The turn's budget still bounds what leaves at once, and a host starting
    a new pass after a pause gets no more than the 20 ms burst."""
    burst = max(GROWTH_WINDOW, min(elapsed, CATCH_UP)) if host.queued else GROWTH_WINDOW
    host.tokens = min(max(host.rate * burst, 1.0), host.tokens + host.rate * elapsed)


def _slot(segments: list, index: int) -> tuple:
    """The (host, port) of slot ``index`` among ``segments`` [(host, ports), …]."""
    for host, ports in segments:
        if index < len(ports):
            return host, ports[index]
        index -= len(ports)
    raise IndexError(index)


_SENDERS = threading.local()


def _multi_sender() -> _MultiSender | None:
    """This thread's ``sendmmsg`` sender, or None where the C library has none."""
    sender = getattr(_SENDERS, "sender", False)
    if sender is False:
        sender = None
        if os.environ.get("CAREOPS_SYN_SENDMMSG", "1") != "0":
            try:
                import ctypes

                function = ctypes.CDLL(None, use_errno=True).sendmmsg
                function.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
                function.restype = ctypes.c_int
                sender = _MultiSender(function)
            except (OSError, AttributeError):
                sender = None
        _SENDERS.sender = sender
    return sender


def _split(batch: list, count: int, parts: int) -> list[list]:
    """``batch`` (chunks of (host, ports), ``count`` ports in all) in ``parts`` lists of about
    the same number of ports, a chunk cut in two where needed."""
    size = -(-count // parts)
    out: list[list] = [[]]
    room = size
    for host, ports in batch:
        while ports:
            if room == 0:
                out.append([])
                room = size
            head, ports = ports[:room], ports[room:]
            out[-1].append((host, head))
            room -= len(head)
    return out


async def syn_scan(hosts: dict, ports: list[int], options, on_host_done=None) -> None:
    """Fill the PortScanHost values of ``hosts`` (IPv4 addresses only)."""
    sweep = SynSweep(hosts, ports, options, on_host_done)
    try:
        await sweep.run()
    finally:
        sweep.close()


def capable() -> bool:
    """Raw SYN probes are possible (and not disabled by CAREOPS_EXPOSURE_NO_RAW=1)."""
    return os.environ.get("CAREOPS_EXPOSURE_NO_RAW") != "1" and available()


def _echo(ident: int, sequence: int) -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, ident, sequence) + b"careops"
    return header[:2] + struct.pack("!H", _checksum(header)) + header[4:]


async def ping(
    addresses: list[str],
    timeout: float,
    rate: float = 20000.0,
    until: asyncio.Future | None = None,
) -> set[str]:
    """ICMP echo to every IPv4 address (paced at ``rate``); the addresses that replied within
    ``timeout``, or until ``until`` is done (the SYN probes sent beside, which wait as long as
    the answering addresses need), whichever comes first."""
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
        if until is None:
            await asyncio.sleep(timeout)
        else:
            await asyncio.wait([until], timeout=timeout)
        receive()
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
    return alive
