"""TCP port scan: raw SYN probes when the process may open a raw socket (synscan.py), else an
asyncio connect scan with global and per-host concurrency, rate limits, timeouts, retries.

A filtering firewall costs one timeout per port and nothing more: no exponential back-off. Once a
host has answered, its timeout adapts to the measured round-trip time (never below a floor), so
dropping hosts on a fast network are scanned quickly while slow links keep a safe margin.
"""

from __future__ import annotations

import _socket
import asyncio
import collections
import errno
import os
import select
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class PortScanOptions:
    """Politeness and speed knobs of the connect scan."""

    concurrency: int = 1000  # connections in flight, all hosts together (connect scan)
    per_host: int = 500  # connections in flight towards one host (connect scan)
    rate: float | None = None  # probes per second, all hosts (None: unlimited)
    # new probes (SYNs) per second towards one host: every host starts at ``start_host_rate``;
    # the SYN scan doubles a host's rate each window in which it answered every probe sent
    # before that window, up to ``host_rate``, and stops growing at its first silence (the
    # connect scan keeps ``start_host_rate``)
    host_rate: float = 250000.0
    start_host_rate: float = 40000.0
    min_host_rate: float = 50.0  # the adaptive back-off never goes below this
    max_passes: int = 6  # SYN scan: passes over a host's silent ports while they recover answers
    timeout: float = 1.0  # connect timeout before a host has answered
    min_timeout: float = 0.25  # adaptive timeout floor once a host answered
    rtt_factor: float = 8.0  # adaptive timeout = max(min_timeout, factor × smoothed RTT)
    retries: int = 0  # extra tries of a timed-out port (only on hosts that answered; connect)
    processes: int = 1  # connect-scan processes (0: one per core above 20,000 probes)
    method: str = "auto"  # "auto": SYN when possible (IPv4, CAP_NET_RAW), else "connect"
    # SYN host discovery: an address that has not answered (yet) waits as long as the addresses
    # of the same sweep that did answer need (rtt_factor × their smoothed RTT, floor
    # min_timeout), as nmap's group timing does; ``rtt_hint`` (s): that RTT from a previous block
    shared_rtt: bool = False
    rtt_hint: float | None = None


# The internal-audit profile (medical devices, PLCs, old embedded stacks on the LAN): a few
# connections and a few hundred probes per second per host, whatever the global budget.
GENTLE = {"per_host": 32, "host_rate": 300.0, "min_host_rate": 20.0, "concurrency": 256}


@dataclass
class PortScanHost:
    """Per-host result of the connect scan."""

    address: str
    open: list[int] = field(default_factory=list)
    closed: int = 0
    filtered: int = 0
    unreachable: int = 0
    max_rtt: float = 0.0
    method: str = "connect"
    backoffs: int = 0
    peak_rate: float = 0.0  # SYN scan: highest probe rate reached towards this host (probes/s)
    # called with (address, port) as soon as a port is found open (identification starts then)
    on_open: Callable[[str, int], None] | None = field(default=None, repr=False, compare=False)

    @property
    def answered(self) -> bool:
        """The host proved alive: at least one port accepted or refused the connection."""
        return bool(self.open) or self.closed > 0


_LINGER_ZERO = struct.pack("ii", 1, 0)
SILENT_SWITCH = 1000  # connect scan: silent probes after which a mute host gets the short timeout
# probes that never left this machine: no route, a local firewall, an address it cannot use
# (an IPv6 link-local address without its interface gives EINVAL)
_UNREACHABLE_ERRNOS = {
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EACCES,
    errno.EPERM,
    errno.EINVAL,
    errno.EADDRNOTAVAIL,
}


class _Sweep:
    """Non-blocking connects watched by one private epoll set that the asyncio loop polls as a
    single reader; timeouts kept in a FIFO checked by one timer. No task, handle or selector
    registration per probe: the loop's own lag never turns an open port into a timeout."""

    def __init__(self, hosts, ports, options, on_host_done):
        self.loop = asyncio.get_running_loop()
        self.hosts: dict[str, PortScanHost] = hosts
        self.options = options
        self.on_host_done = on_host_done
        self.timeouts = dict.fromkeys(hosts, options.timeout)
        self.srtt: dict[str, float] = {}
        self.remaining = dict.fromkeys(hosts, len(ports))
        self.inflight_host = dict.fromkeys(hosts, 0)
        self.queues = {a: [(p, 0) for p in reversed(ports)] for a in hosts}
        self.families = {a: socket.AF_INET6 if ":" in a else socket.AF_INET for a in hosts}
        self.ready_hosts = list(hosts)  # hosts with queued ports, visited round-robin
        self.cursor = 0
        self.inflight = 0
        self.next_slot = 0.0
        self.host_slot = dict.fromkeys(hosts, 0.0)
        rate = min(options.host_rate or 0.0, options.start_host_rate) or options.host_rate
        self.host_gap = 1.0 / rate if rate else 0.0
        self.wakeup = None
        self.epoll = select.epoll()
        self.probes: dict[int, list] = {}  # fd → [sock, address, port, attempt, started, deadline]
        self.expiry: collections.deque = collections.deque()
        self.timer = None
        self.done = self.loop.create_future()
        self.loop.add_reader(self.epoll.fileno(), self._drain)

    def close(self) -> None:
        self.loop.remove_reader(self.epoll.fileno())
        if self.timer:
            self.timer.cancel()
        if self.wakeup:
            self.wakeup.cancel()
        for probe in self.probes.values():
            probe[0].close()
        self.epoll.close()

    def launch(self) -> None:
        options = self.options
        while self.inflight < options.concurrency and self.ready_hosts:
            if options.rate:
                now = self.loop.time()
                if self.next_slot > now:
                    if self.wakeup is None:
                        self.wakeup = self.loop.call_at(self.next_slot, self._wake)
                    return
                self.next_slot = max(now, self.next_slot) + 1.0 / options.rate
            started = False
            for _ in range(len(self.ready_hosts)):
                self.cursor %= len(self.ready_hosts)
                address = self.ready_hosts[self.cursor]
                queue = self.queues[address]
                if not queue:
                    self.ready_hosts.pop(self.cursor)
                    if not self.ready_hosts:
                        break
                    continue
                self.cursor += 1
                if self.inflight_host[address] >= options.per_host:
                    continue
                if self.host_gap:
                    now = self.loop.time()
                    slot = self.host_slot[address]
                    if slot > now:
                        if self.wakeup is None:
                            self.wakeup = self.loop.call_at(slot, self._wake)
                        continue
                    self.host_slot[address] = max(now - 0.02, slot) + self.host_gap
                port, attempt = queue.pop()
                self._start(address, port, attempt)
                started = True
                break
            if not started:
                if options.rate:
                    self.next_slot -= 1.0 / options.rate
                break
        if self.inflight == 0 and not any(self.queues.values()) and not self.done.done():
            self.done.set_result(None)

    def _wake(self) -> None:
        self.wakeup = None
        self.launch()

    def _start(self, address: str, port: int, attempt: int) -> None:
        sock = _socket.socket(self.families[address], socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        self.inflight += 1
        self.inflight_host[address] += 1
        started = self.loop.time()
        code = sock.connect_ex((address, port))
        if code == errno.EINPROGRESS:
            # On a near network the answer (often a RST) may already be in: no need to wait.
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) or errno.EINPROGRESS
        if code in (errno.EINPROGRESS, errno.EAGAIN):
            deadline = started + self.timeouts[address]
            probe = [sock, address, port, attempt, started, deadline]
            fd = sock.fileno()
            self.probes[fd] = probe
            self.epoll.register(fd, select.EPOLLOUT | select.EPOLLONESHOT)
            self.expiry.append(probe)
            if self.timer is None:
                self.timer = self.loop.call_at(deadline, self._expire)
            return
        # Answered at once: the enclosing launch() loop goes on (no recursion).
        self._finish(sock, address, port, attempt, started, code, launch=False)

    def _drain(self) -> None:
        for fd, _events in self.epoll.poll(0, 4096):
            probe = self.probes.pop(fd, None)
            if probe is None:
                continue
            sock = probe[0]
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            self._finish(sock, probe[1], probe[2], probe[3], probe[4], code, launch=False)
        self.launch()

    def _expire(self) -> None:
        self.timer = None
        self._drain()  # completions already queued win over their deadline
        now = self.loop.time()
        while self.expiry:
            probe = self.expiry[0]
            sock = probe[0]
            if sock.fileno() == -1 or self.probes.get(sock.fileno()) is not probe:
                self.expiry.popleft()  # already finished
                continue
            if probe[5] > now:
                break
            self.expiry.popleft()
            del self.probes[sock.fileno()]
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0:
                try:
                    sock.getpeername()  # connected while the loop was busy: open
                except OSError:
                    code = errno.ETIMEDOUT
            self._finish(sock, probe[1], probe[2], probe[3], probe[4], code, launch=False)
        if self.expiry and self.timer is None:
            self.timer = self.loop.call_at(max(self.expiry[0][5], now + 0.005), self._expire)
        self.launch()

    def _finish(self, sock, address, port, attempt, started, code, launch=True) -> None:
        if code == 0:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        sock.close()
        self.inflight -= 1
        self.inflight_host[address] -= 1
        host = self.hosts[address]
        if code in (0, errno.ECONNREFUSED, errno.ECONNRESET):
            if code == 0:
                host.open.append(port)
                if host.on_open:
                    host.on_open(address, port)
            else:
                host.closed += 1
            elapsed = self.loop.time() - started
            host.max_rtt = max(host.max_rtt, elapsed)
            # Smoothed RTT (as TCP does): one slow answer while the loop was busy does not
            # inflate every later timeout; _expire still catches late completions.
            srtt = self.srtt.get(address)
            srtt = elapsed if srtt is None else 0.875 * srtt + 0.125 * elapsed
            self.srtt[address] = srtt
            self.timeouts[address] = min(
                self.options.timeout, max(self.options.min_timeout, self.options.rtt_factor * srtt)
            )
        elif code in _UNREACHABLE_ERRNOS:
            host.unreachable += 1
        elif attempt < self.options.retries and host.answered:
            self.queues[address].insert(0, (port, attempt + 1))
            if address not in self.ready_hosts:
                self.ready_hosts.append(address)
            if launch:
                self.launch()
            return
        else:
            host.filtered += 1
            if not host.answered and host.filtered == SILENT_SWITCH:
                # a thousand probes unanswered within the long timeout: the host is absent or
                # drops everything; waiting longer per port finds nothing more
                self.timeouts[address] = min(self.timeouts[address], self.options.min_timeout)
        self.remaining[address] -= 1
        if self.remaining[address] == 0 and self.on_host_done:
            host.open.sort()
            self.on_host_done(host)
        if launch:
            self.launch()


async def scan_ports(
    addresses: Iterable[str],
    ports: list[int],
    options: PortScanOptions | None = None,
    on_host_done: Callable[[PortScanHost], None] | None = None,
    on_open: Callable[[str, int], None] | None = None,
) -> dict[str, PortScanHost]:
    """Scan ``ports`` on every address; return one PortScanHost per address. ``on_host_done``
    is called when a host is finished, ``on_open`` as soon as a port is found open."""
    options = options or PortScanOptions()
    hosts = {a: PortScanHost(a, on_open=on_open) for a in dict.fromkeys(addresses)}
    if not hosts or not ports:
        return hosts
    if options.method in ("auto", "syn"):
        from careops.exposure.engine import synscan

        raw = {a: h for a, h in hosts.items() if ":" not in a}
        if raw and synscan.capable():
            for host in raw.values():
                host.method = "syn"
            rest = {a: h for a, h in hosts.items() if ":" in a}
            jobs = [synscan.syn_scan(raw, list(ports), options, on_host_done)]
            if rest:
                jobs.append(_connect_scan(rest, ports, options, on_host_done))
            await asyncio.gather(*jobs)
            return hosts
        if options.method == "syn":
            raise PermissionError("balayage SYN impossible : CAP_NET_RAW absent")
    return await _connect_scan(hosts, ports, options, on_host_done)


async def _connect_scan(hosts, ports, options, on_host_done):
    processes = options.processes or (os.cpu_count() or 1)
    if processes > 1 and len(hosts) * len(ports) >= PARALLEL_THRESHOLD:
        return await _scan_parallel(hosts, list(ports), options, processes, on_host_done)
    sweep = _Sweep(hosts, list(ports), options, on_host_done)
    try:
        sweep.launch()
        await sweep.done
    finally:
        sweep.close()
    for host in hosts.values():
        host.open.sort()
    return hosts


PARALLEL_THRESHOLD = 20000


def _scan_slice(addresses: list[str], ports: list[int], options: PortScanOptions) -> dict:
    """Child-process entry point: one sweep over a slice of the ports."""
    return asyncio.run(scan_ports(addresses, ports, options))


async def _scan_parallel(hosts, ports, options, processes, on_host_done):
    """Split the ports across processes (the kernel work of connects uses every core)."""
    import concurrent.futures
    import dataclasses
    import multiprocessing

    child = dataclasses.replace(
        options,
        processes=1,
        method="connect",
        concurrency=max(1, options.concurrency // processes),
        per_host=max(1, options.per_host // processes),
        rate=options.rate / processes if options.rate else None,
    )
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")  # safe from threaded callers (task workers)
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(pool, _scan_slice, list(hosts), ports[i::processes], child)
                for i in range(processes)
            )
        )
    for part in parts:
        for address, result in part.items():
            host = hosts[address]
            host.open.extend(result.open)
            if host.on_open:
                for port in result.open:
                    host.on_open(address, port)
            host.closed += result.closed
            host.filtered += result.filtered
            host.unreachable += result.unreachable
            host.max_rtt = max(host.max_rtt, result.max_rtt)
    for host in hosts.values():
        host.open.sort()
        if on_host_done:
            on_host_done(host)
    return hosts
