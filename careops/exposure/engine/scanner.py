"""The engine's entry point: targets → DNS → connect scan (+ UDP IKE) → identification → TLS →
findings."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import ipaddress
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from careops.addresses import classify
from careops.exposure.engine import probes, rules, targets, tls, udp, web
from careops.exposure.engine.portscan import GENTLE, PortScanOptions, scan_ports
from careops.exposure.engine.results import HostResult, ScanResult, Service

ENGINE_VERSION = "careops-exposure 1.1"

# Host discovery of the addresses of a range (never of a declared address or name): a TCP SYN
# (or connect) to these ports, plus an ICMP echo when raw sockets are available. Any answer
# (open, refused, echo reply) makes the address a live host, which then gets every requested
# port; an address that answers none of them is reported with coverage "discovery" only.
DISCOVERY_PORTS: tuple[int, ...] = (
    21, 22, 23, 25, 53, 80, 104, 110, 111, 135, 139, 143, 389, 443, 445, 465, 587, 993, 995,
    1433, 1723, 2575, 3306, 3389, 5432, 5900, 5985, 6379, 8000, 8080, 8443, 9200, 10443, 11112,
    27017,
)  # fmt: skip

SERVER_PATTERNS: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"^nginx(?:/([\d.]+))?", re.I), "nginx", "f5:nginx"),
    (re.compile(r"^Apache(?:/([\d.]+))?", re.I), "Apache httpd", "apache:http_server"),
    (
        re.compile(r"^Microsoft-IIS(?:/([\d.]+))?", re.I),
        "Microsoft IIS",
        "microsoft:internet_information_services",
    ),
    (re.compile(r"^Microsoft-HTTPAPI(?:/([\d.]+))?", re.I), "Microsoft HTTPAPI", ""),
    (re.compile(r"^lighttpd(?:/([\d.]+))?", re.I), "lighttpd", "lighttpd:lighttpd"),
    (
        re.compile(r"^Apache-Coyote(?:/([\d.]+))?|^Apache Tomcat(?:/([\d.]+))?", re.I),
        "Apache Tomcat",
        "apache:tomcat",
    ),
    (re.compile(r"^Jetty\(([\d.]+)", re.I), "Jetty", "eclipse:jetty"),
    (re.compile(r"^openresty(?:/([\d.]+))?", re.I), "OpenResty", "openresty:openresty"),
]


@dataclass
class ScanOptions:
    """Everything that shapes a run; the defaults are polite for internet targets."""

    # TCP ports; a targets.PortList (what parse_ports returns) also carries its UDP ports
    ports: list[int] = field(default_factory=lambda: targets.parse_ports(None))
    portscan: PortScanOptions = field(default_factory=PortScanOptions)
    allow_private: bool = False
    # how to allow private addresses, named in the refusal (the CLI says --allow-private)
    private_hint: str = "l'option « audit interne » doit être activée par un administrateur"
    scope_networks: list[str] | None = None  # verified ranges (None: no scope check, CLI use)
    scope_domains: list[str] | None = None  # verified domains (names and their subdomains)
    nameservers: list[str] | None = None
    dns_timeout: float = 2.0
    probe_timeout: float = 3.0
    banner_timeout: float = 1.5
    # internet profile: the banner wait (1 s + 8 round trips) and the probes of a mute port
    # (0.5 s + 8 round trips, round trips measured on the port's connection) never wait more
    # than the fixed values (probes.adaptive_wait); the internal profile keeps the fixed waits
    adaptive_waits: bool = True
    service_deadline: float = 10.0  # identification of one port never takes longer
    identify_concurrency: int = 16
    tls_checks: bool = True  # sslyze analysis of each TLS endpoint (tls.py)
    tls_connections: int = 5  # sslyze connections at once to one TLS endpoint
    tls_endpoints: int = 4  # TLS endpoints analysed at once in a run
    tls_timeout: float = 5.0  # per sslyze connection (two retries on timeouts)
    tls_deadline: float = 180.0  # whole analysis of one endpoint (~550 connections)
    identify: bool = True  # False: discovery only (open ports, no probes, no findings)
    vulndb_path: str | None = None
    rules_path: str | None = None
    # UDP ports probed with IKE (None: those of ``ports`` when it is a PortList, else none)
    udp_ports: list[int] | None = None
    udp_timeout: float = 0.25  # wait per UDP send; (1 + udp_retries) sends per IKE version
    udp_retries: int = 1
    udp_concurrency: int = 256
    host_discovery: bool = True  # discover live hosts of ranges before their full-port audit
    # identification: connections at once towards one host (never more than one per port)
    identify_per_host: int = 4

    def __post_init__(self):
        if self.udp_ports is None:
            self.udp_ports = list(getattr(self.ports, "udp", []))


def internal_profile(options: ScanOptions) -> ScanOptions:
    """The gentle internal-audit profile (medical devices on a LAN): GENTLE probe pacing, one
    identification connection at a time per host, longer probe timeouts."""
    return dataclasses.replace(
        options,
        portscan=dataclasses.replace(options.portscan, **GENTLE),
        identify_per_host=1,
        adaptive_waits=False,
        identify_concurrency=min(options.identify_concurrency, 8),
        tls_connections=min(options.tls_connections, 2),
        tls_endpoints=min(options.tls_endpoints, 2),
        udp_concurrency=min(options.udp_concurrency, 32),
    )


def range_members(raw_targets: list[str]) -> set[str]:
    """Addresses that come from a range (CIDR or a.b.c.d-e) of ``raw_targets``: those get host
    discovery; a declared address or name is always audited on every port, even inside a range
    also declared (it used to get discovery only there, and a host that drops everything was
    then left with 35 ports probed although the user had named it)."""
    members: set[str] = set()
    declared: set[str] = set()
    for raw in raw_targets:
        try:
            target = targets.parse_target(raw)
        except targets.TargetError:
            continue
        if not target.hostname and len(target.addresses) > 1:
            members.update(target.addresses)
        else:
            declared.update(target.addresses)
    return members - declared


def _server_product(service: Service, server: str) -> None:
    for pattern, product, cpe in SERVER_PATTERNS:
        match = pattern.match(server)
        if match:
            version = next((g for g in match.groups() if g), "")
            service.product, service.version = product, version
            service.confidence = "high" if version else "medium"
            if cpe:
                service.cpe = probes.make_cpe(cpe, version)
            distro = probes._distro(server)
            if distro:
                service.details["distribution"] = distro
            return
    if server:
        service.product = server.split("/")[0][:60]
        service.version = server.split("/")[1].split(" ")[0][:30] if "/" in server else ""
        service.confidence = "medium"


async def _identify_http(address, port, service, is_tls, timeout, server_name) -> bool:
    answer = await web.probe_http(address, port, is_tls, timeout, server_name)
    if answer is None:
        return False
    info, body = answer
    service.http = info
    service.service = "https" if is_tls else "http"
    service.banner = f"HTTP {info.status} {info.server}".strip()
    _server_product(service, info.server)
    if "You Know, for Search" in body or '"cluster_name"' in body:
        service.service = "elasticsearch"
        service.product = "Elasticsearch"
        try:
            service.version = json.loads(body)["version"]["number"]
        except (ValueError, KeyError, TypeError):
            service.version = ""
        service.cpe = probes.make_cpe("elastic:elasticsearch", service.version)
        service.details["auth_required"] = False
    elif info.status == 401 and "security_exception" in body:
        service.service = "elasticsearch"
        service.product = "Elasticsearch"
        service.details["auth_required"] = True
    elif "Microsoft-HTTPAPI" in info.server and port in (5985, 5986, 47001):
        service.service = "winrm"
        service.product = "Microsoft WinRM"
    if info.edge_device:
        service.details["edge_device"] = info.edge_device
    service.confidence = "high" if service.version else service.confidence or "medium"
    return True


FRAGILE_SILENT = 2  # unanswered probes (banner aside) after which a port is left alone
FRAGILE_BACKOFF = 0.25  # pause after an unanswered probe (× their count) or a refusal (× 2)


async def identify(
    address: str, port: int, server_name: str | None, options: ScanOptions, now: dt.datetime
) -> Service:
    """Find what answers on an open port: hinted probe first, then the generic order."""
    timeout = options.probe_timeout
    service = Service(port)
    hint = probes.PORT_HINTS.get(port)
    order = [hint] if hint else []
    # Redis right after HTTP: it stays silent on the TLS, RDP and SMB probes (it waits for an
    # end of line) and drops the HTTP one unanswered, so after them it was left alone as a mute
    # port and a Redis without password on any port but 6379 went unnamed.
    for name in [
        "banner",
        "tls",
        "http",
        "redis",
        "rdp",
        "smb",
        "mongodb",
        "postgresql",
        "mssql",
        "hl7",
        "dicom",
    ]:
        if name not in order:
            order.append(name)
    garbage = b""
    silent = 0  # probes that got no answer at all within their timeout (banner aside)
    refused = 0
    loop = asyncio.get_running_loop()
    seen = probes.Exchanges()
    probes.EXCHANGES.set(seen)  # this task's probes record connection times and answers

    def rtt() -> float | None:
        return min(seen.connects) if options.adaptive_waits and seen.connects else None

    # One connection at a time on this port (each probe closes its own before the next), first
    # identifying answer wins; a probe left unanswered or a refused connection slows the next
    # one down, and the port is left alone after FRAGILE_SILENT unanswered probes or two refused
    # connections: a device serving one association at a time is never queued up.
    for name in order:
        if silent and name not in (hint, "banner"):
            # a mute port gets shorter probes (adaptive: 0.5 s + 8 round trips, 1 s at most)
            timeout = probes.adaptive_wait(rtt(), min(options.probe_timeout, 1.0))
        started = loop.time()
        limit = timeout
        answers = len(seen.answers)
        result: Service | None = None
        try:
            if name == "banner":
                limit = options.banner_timeout
                found, raw = await probes.probe_banner(
                    address, port, options.banner_timeout, adaptive=options.adaptive_waits
                )
                limit = probes.adaptive_wait(rtt(), options.banner_timeout, probes.BANNER_FLOOR)
                garbage = garbage or raw
                result = found
            elif name == "tls":
                plain = await tls.detect(address, port, timeout)
                if plain is not None:
                    service.service = "tls"
                    service.confidence = "medium"
                    if options.tls_checks:
                        # certificate only here; sslyze completes it once identification is done
                        service.tls = await tls.peek(
                            address, port, server_name, now, timeout, plain
                        )
                    await _identify_http(address, port, service, True, timeout, server_name)
                    if service.details.get("edge_device") is None and service.tls:
                        edge = web.detect_edge(service.tls.subject + " " + service.tls.issuer)
                        if edge:
                            service.details["edge_device"] = edge
                    result = service
            elif name == "http":
                if await _identify_http(address, port, service, False, timeout, server_name):
                    result = service
            else:
                result = await probes.CLIENT_FIRST[name](address, port, timeout)
        except ConnectionRefusedError:
            refused += 1
            if refused >= 2:
                service.details["identification"] = "le port n'accepte plus de connexion"
                break
            await asyncio.sleep(FRAGILE_BACKOFF * 2)
            continue
        except (OSError, TimeoutError, EOFError, ValueError):
            pass
        except Exception as exc:  # a hostile or broken service must not stop the run
            service.details.setdefault("probe_errors", []).append(
                f"{name}: {exc.__class__.__name__}"
            )
        if result is None and name != "banner":
            # a greeting that came after the banner wait, in front of this probe's answer
            late = next(filter(None, map(probes.classify_banner, seen.answers[answers:])), None)
            if late is not None:
                result = late
                result.details["late_banner"] = True
        if result is not None:
            result.port = port
            return result
        if loop.time() - started >= 0.9 * limit:  # no answer at all: the port held the line
            silent += 1
            if silent > FRAGILE_SILENT:
                service.details["identification"] = (
                    "arrêtée : le service ne répond à aucune sonde (appareil fragile ?)"
                )
                break
            if name != "banner":
                await asyncio.sleep(FRAGILE_BACKOFF * silent)
    service.service = probes.PORT_NAMES.get(port, "unknown")
    service.confidence = "low"
    if garbage:
        service.banner = probes._printable(garbage)
        service.details["unrecognised_answer"] = True
    return service


def _domain_allowed(name: str, domains: list[str]) -> bool:
    name = name.lower().rstrip(".")
    return any(
        name == d or name.endswith("." + d) for d in (x.lower().rstrip(".") for x in domains)
    )


async def expand_targets(
    raw_targets: list[str], options: ScanOptions
) -> tuple[dict[str, list[str]], list[str]]:
    """Parse, resolve and scope-check targets; return ({address: hostnames}, French errors)."""
    errors: list[str] = []
    addresses: dict[str, list[str]] = {}
    resolver = None
    for raw in raw_targets:
        try:
            target = targets.parse_target(raw)
        except targets.TargetError as exc:
            errors.append(str(exc))
            continue
        names = []
        candidate = list(target.addresses)
        if target.hostname:
            if options.scope_domains is not None and not _domain_allowed(
                target.hostname, options.scope_domains
            ):
                errors.append(f"« {target.hostname} » est hors du périmètre vérifié : refusé.")
                continue
            resolver = resolver or targets.make_resolver(options.nameservers, options.dns_timeout)
            resolution = await targets.resolve(target.hostname, resolver)
            if resolution.error:
                errors.append(resolution.error)
                continue
            names = [target.hostname]
            candidate = resolution.a + resolution.aaaa
        for address in candidate:
            ip = ipaddress.ip_address(address)
            if targets.is_forbidden(ip):
                errors.append(f"Adresse {address} refusée : {classify(ip).label}.")
                continue
            if targets.is_restricted(ip) and not options.allow_private:
                errors.append(
                    f"Adresse {address} privée, de bouclage ou locale refusée : "
                    f"{options.private_hint}."
                )
                continue
            if options.scope_networks is not None and not targets.in_scope(
                address, options.scope_networks
            ):
                # a verified name proves the name, not the addresses it points to
                errors.append(
                    f"Adresse {address} de « {names[0]} » hors des plages approuvées : refusée "
                    "tant qu'elle n'est pas approuvée."
                    if names
                    else f"Adresse {address} hors du périmètre vérifié : refusée."
                )
                continue
            entry = addresses.setdefault(address, [])
            for name in names:
                if name not in entry:
                    entry.append(name)
    return addresses, errors


# addresses discovered at once: on a LAN each address is a neighbour (ARP) entry, and a table
# overflow (1,024 entries by default on Linux) would drop the probes of live hosts too
DISCOVERY_BLOCK = 256
# blocks discovered at once (512 neighbour entries at most): the next block's probes go out
# while a block waits for its silent addresses, instead of after that wait
DISCOVERY_BLOCKS_AT_ONCE = 2


UNREACHABLE = "unreachable"  # coverage of an address no probe could be sent to from here


def _unreachable(address: str) -> str:
    return (
        f"Adresse {address} injoignable depuis ce poste (pas de route, ou pare-feu local) : "
        "aucun port n'a pu être sondé, elle n'est pas auditée."
    )


async def discover_hosts(
    candidates: list[str], options: ScanOptions, rtt_hint: float | None = None
) -> tuple[dict[str, str], float | None]:
    """Probe DISCOVERY_PORTS (and ICMP echo when raw sockets are allowed) on ``candidates``;
    return ({address: probe method, or UNREACHABLE when no probe could leave this machine} for
    the addresses that answered nothing, the round-trip
    time of those that answered, for the next block). With SYN probes, silent addresses wait
    as long as the answering ones need (8 × their smoothed RTT, at least ``min_timeout``, at
    most ``timeout``; ``rtt_hint`` from a previous block), as nmap's group timing does."""
    if not candidates:
        return {}, rtt_hint
    from careops.exposure.engine import synscan

    quick = dataclasses.replace(
        options.portscan, max_passes=1, retries=0, shared_rtt=True, rtt_hint=rtt_hint
    )
    raw = options.portscan.method != "connect" and synscan.capable()
    sweep = asyncio.ensure_future(scan_ports(candidates, list(DISCOVERY_PORTS), quick))
    try:
        alive = (
            await synscan.ping(candidates, options.portscan.timeout, until=sweep) if raw else set()
        )
        found = await sweep
    finally:
        sweep.cancel()
    dead = {
        a: UNREACHABLE if found[a].unreachable >= len(DISCOVERY_PORTS) else found[a].method
        for a in candidates
        if not found[a].answered and not found[a].open and a not in alive
    }
    rtts = sorted(found[a].max_rtt for a in candidates if found[a].answered)
    return dead, (rtts[len(rtts) // 2] if rtts else rtt_hint)


async def scan(
    raw_targets: list[str],
    options: ScanOptions | None = None,
    now: dt.datetime | None = None,
    on_host_done: Callable[[HostResult], None] | None = None,
    addresses: dict[str, list[str]] | None = None,
    discover: set[str] | None = None,
) -> ScanResult:
    """Run the whole engine. ``now`` (UTC) dates the run and judges certificate validity.

    ``addresses`` (already expanded and scope-checked, {address: hostnames}) skips DNS: the app
    shards a run into host blocks this way. ``discover``: the addresses that get host discovery
    first (default: those of the ranges of ``raw_targets``, see ``range_members``).
    """
    options = options or ScanOptions()
    if now is None:
        raise ValueError("now est obligatoire (le moteur ne lit pas l'horloge)")
    started = time.monotonic()
    result = ScanResult(started_at=now.isoformat())

    def mark(phase: str) -> None:
        """``phase`` ended now (the latest end when it runs for several hosts or ports)."""
        result.phases[phase] = round(
            max(result.phases.get(phase, 0.0), time.monotonic() - started), 3
        )

    if addresses is None:
        addresses, result.errors = await expand_targets(raw_targets, options)
    mark("targets")
    # sslyze in its own process, started now: its import and its analyses overlap the sweep
    tls_worker = (
        await tls.AnalysisWorker.start()
        if addresses and options.identify and options.tls_checks
        else None
    )
    if discover is None:
        discover = range_members(raw_targets)
    # an address a declared name resolves to is a declared host too
    candidates = (
        [a for a in addresses if a in discover and not addresses[a]]
        if options.host_discovery
        else []
    )
    in_ranges = set(candidates)
    declared = [a for a in addresses if a not in in_ranges]
    # Per address: its port sweep (a PortScanHost, or the probe method when host discovery
    # found nothing there) and its UDP IKE probes. Identification of a port starts as soon as
    # the sweep finds it open; the full sweep of the live hosts of a discovery block starts while
    # the next block is being discovered.
    loop = asyncio.get_running_loop()
    port_results: dict[str, asyncio.Future] = {a: loop.create_future() for a in addresses}
    udp_results: dict[str, asyncio.Future] = {a: loop.create_future() for a in addresses}
    sweeps = asyncio.Semaphore(2)  # full sweeps at once (each has its own raw socket)

    def ports_done(scanned) -> None:
        future = port_results.get(scanned.address)
        if future is not None and not future.done():
            future.set_result(scanned)

    async def audit(group: list[str]) -> None:
        """Every requested port of ``group`` and its IKE probes (the UDP waits run during the
        TCP sweep and identification, never after them)."""
        async with sweeps:
            udp_task = asyncio.ensure_future(
                udp.scan_ike(
                    group,
                    options.udp_ports or [],
                    options.udp_timeout,
                    options.udp_retries,
                    options.udp_concurrency,
                )
            )
            try:
                found = await scan_ports(
                    group,
                    options.ports,
                    options.portscan,
                    on_host_done=ports_done,
                    on_open=lambda address, port: identification(address, port),
                )
                for address in group:
                    ports_done(found[address])
                probes_by_host = await udp_task
                mark("ports")
            except BaseException as exc:
                udp_task.cancel()
                for address in group:
                    for future in (port_results[address], udp_results[address]):
                        if future.done():
                            continue
                        if isinstance(exc, asyncio.CancelledError):
                            # Ctrl-C: the hosts' jobs are cancelled too and never read these;
                            # an exception set here was logged once per address at exit
                            future.cancel()
                        else:
                            future.set_exception(exc)
                raise
            for address in group:
                udp_results[address].set_result(probes_by_host.get(address, []))

    async def discovery() -> None:
        jobs = []
        measured: dict[str, float | None] = {"rtt": None}  # the latest block's answer RTT
        blocks_at_once = asyncio.Semaphore(DISCOVERY_BLOCKS_AT_ONCE)

        async def discover_block(block: list[str]) -> None:
            async with blocks_at_once:
                dead, rtt = await discover_hosts(block, options, measured["rtt"])
            if rtt is not None:
                measured["rtt"] = rtt
            for address, method in dead.items():
                port_results[address].set_result(method)
                udp_results[address].set_result([])
            live = [a for a in block if a not in dead]
            if live:
                jobs.append(asyncio.ensure_future(audit(live)))

        await asyncio.gather(
            *(
                discover_block(candidates[start : start + DISCOVERY_BLOCK])
                for start in range(0, len(candidates), DISCOVERY_BLOCK)
            )
        )
        if candidates:
            mark("discovery")
        await asyncio.gather(*jobs)

    semaphore = asyncio.Semaphore(max(1, options.identify_concurrency))
    tls_semaphore = asyncio.Semaphore(max(1, options.tls_endpoints))

    per_host: dict[str, asyncio.Semaphore] = {}

    async def one(address: str, port: int, server_name: str | None) -> Service:
        if not options.identify:
            return Service(port, service=probes.PORT_NAMES.get(port, "unknown"))
        host_slots = per_host.setdefault(
            address, asyncio.Semaphore(max(1, options.identify_per_host))
        )
        async with host_slots, semaphore:
            try:
                service = await asyncio.wait_for(
                    identify(address, port, server_name, options, now), options.service_deadline
                )
            except TimeoutError:
                mark("identification")
                return Service(
                    port,
                    service=probes.PORT_NAMES.get(port, "unknown"),
                    details={"identification": "délai dépassé"},
                )
        mark("identification")
        if service.tls is not None and options.tls_checks:
            # outside the identification deadline: sslyze has its own bounds (tls.analyse)
            async with tls_semaphore:
                service.tls = await tls.analyse(
                    address,
                    port,
                    server_name,
                    now,
                    service.tls,
                    connections=options.tls_connections,
                    timeout=options.tls_timeout,
                    deadline=options.tls_deadline,
                    worker=tls_worker,
                )
            mark("tls")
        return service

    # identification of a port starts as soon as the sweep finds it open
    identifications: dict[tuple[str, int], asyncio.Future] = {}

    def identification(address: str, port: int) -> asyncio.Future:
        key = (address, port)
        if key not in identifications:
            names = addresses[address]
            identifications[key] = asyncio.ensure_future(
                one(address, port, names[0] if names else None)
            )
        return identifications[key]

    async def host_job(address: str) -> HostResult:
        names = addresses[address]
        scanned = await port_results[address]
        if isinstance(scanned, str):  # host discovery: nothing answered
            host = HostResult(
                address=address,
                hostnames=names,
                ports_scanned=len(DISCOVERY_PORTS),
                filtered=len(DISCOVERY_PORTS),
                coverage="discovery",
                method=scanned,
            )
            if scanned == UNREACHABLE:  # a range with no route from here: not « silent »
                host.coverage, host.method = UNREACHABLE, ""
                host.filtered, host.unreachable = 0, len(DISCOVERY_PORTS)
            if on_host_done:
                on_host_done(host)
            return host
        host = HostResult(
            address=address,
            hostnames=names,
            answered=scanned.answered,
            ports_scanned=len(options.ports) + len(options.udp_ports or []),
            filtered=scanned.filtered,
            method=scanned.method,
            backoffs=scanned.backoffs,
            peak_rate=round(scanned.peak_rate),
            unreachable=scanned.unreachable,
        )
        if options.ports and scanned.unreachable >= len(options.ports):
            # nothing was probed: without this the host read as audited, with nothing exposed
            # (level A, minimum met) although no packet had reached it
            host.coverage = UNREACHABLE
            result.errors.append(_unreachable(address))
        tcp_services, udp_probes = await asyncio.gather(
            asyncio.gather(*(identification(address, port) for port in scanned.open)),
            udp_results[address],
        )
        host.services = list(tcp_services)
        for probe in udp_probes:
            service = udp.to_service(probe)
            if service is not None:
                host.services.append(service)
                host.answered = True
            elif probe.state == "closed":
                host.answered = True  # an ICMP port-unreachable proves the host is there
            else:
                host.filtered += 1
        if on_host_done:
            on_host_done(host)
        return host

    stages = [asyncio.ensure_future(discovery())]
    if declared:
        stages.append(asyncio.ensure_future(audit(declared)))
    try:
        result.hosts = list(await asyncio.gather(*(host_job(a) for a in addresses)))
        await asyncio.gather(*stages)
        unreachable = [
            h.address for h in result.hosts if h.coverage == UNREACHABLE and h.address in in_ranges
        ]
        if unreachable:  # one sentence for a range, not one per address
            shown = ", ".join(unreachable[:5]) + (" …" if len(unreachable) > 5 else "")
            result.errors.append(
                f"{len(unreachable)} adresse(s) des plages injoignable(s) depuis ce poste (pas de "
                f"route, ou pare-feu local), non auditées : {shown}"
            )
    except BaseException:
        for stage in stages:
            stage.cancel()
        raise
    finally:
        if tls_worker is not None:
            await tls_worker.close()
    vulndb = None
    if options.vulndb_path:
        from careops.exposure.engine.vulndb import VulnDB, VulnDBError

        try:
            vulndb = VulnDB(options.vulndb_path)
            result.catalogues.update(vulndb.catalogues())
        except VulnDBError as exc:
            result.errors.append(str(exc))
    try:
        result.findings = rules.evaluate(result.hosts, vulndb, options.rules_path)
    finally:
        if vulndb:
            vulndb.close()
    result.catalogues["rules"] = rules.catalogue(options.rules_path)["version"]
    result.catalogues["engine"] = ENGINE_VERSION
    result.exposure_level, result.minimum_level_met = rules.result_level(
        result.hosts, result.findings, options.rules_path
    )
    mark("findings")
    result.finished_at = (now + dt.timedelta(seconds=time.monotonic() - started)).isoformat()
    return result


def scan_sync(
    raw_targets: list[str], options: ScanOptions | None = None, now=None, **kw
) -> ScanResult:
    """``scan`` from synchronous code (CLI, tasks)."""
    return asyncio.run(scan(raw_targets, options, now, **kw))
