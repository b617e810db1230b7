"""TLS: cheap detection with the standard library, then the analysis of each endpoint by sslyze.

Detection (``detect``) is one stdlib handshake without SNI; ``peek`` reads the certificate
with SNI in a second one only when a name is known. The analysis (``analyse``) runs
sslyze (AGPL-3.0, its own OpenSSL builds through nassl, so SSL 2.0/3.0 are tested whatever the
system OpenSSL) with a minimal command set: certificate and chain, the cipher suites of each
protocol from SSL 2.0 to TLS 1.3, Heartbleed, ROBOT, OpenSSL CCS injection, secure renegotiation
and compression. Load on the target: about 550 connections per endpoint (one per cipher suite
tried), at most ``connections`` at once. sslyze is synchronous and uses threads: during a run it
works in a process of its own (``AnalysisWorker``), so that the port sweep and the
identification probes of the other hosts go on, on the other core. ``now`` judges validity;
nothing reads the clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import sys
import threading
import warnings

from careops.exposure.engine.results import TlsInfo

# sslyze's bundled trust stores hold a few old roots with a negative serial number.
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")

# Protocol names in results, from sslyze's scan command result fields.
PROTOCOL_COMMANDS = [
    ("SSLv2", "ssl_2_0_cipher_suites"),
    ("SSLv3", "ssl_3_0_cipher_suites"),
    ("TLSv1.0", "tls_1_0_cipher_suites"),
    ("TLSv1.1", "tls_1_1_cipher_suites"),
    ("TLSv1.2", "tls_1_2_cipher_suites"),
    ("TLSv1.3", "tls_1_3_cipher_suites"),
]
# A suite is weak when its IANA name holds one of these markers (or sslyze says it is anonymous):
# no encryption (NULL), no server authentication (anon), export grade (EXPORT, DES40, RC2 40 bits),
# broken ciphers (RC4, DES and its 64-bit-block successor 3DES: Sweet32) and MD5 MACs.
# CBC with SHA-1 (e.g. TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA) is not weak by itself, nor is RSA key
# exchange: they are what TLS 1.0/1.1 offer, reported by EXP-TLS-001.
WEAK_SUITE_MARKERS = ("_NULL_", "_anon_", "_EXPORT", "_DES40_", "_RC2_", "_RC4_", "_DES_", "_3DES_")
WEAK_SUITE_SUFFIXES = ("_MD5",)
VULNERABLE_ROBOT = ("VULNERABLE_WEAK_ORACLE", "VULNERABLE_STRONG_ORACLE")


def is_weak_suite(name: str, anonymous: bool = False) -> bool:
    """Whether a cipher suite (IANA name) is weak (see WEAK_SUITE_MARKERS)."""
    return (
        anonymous
        or any(marker in name for marker in WEAK_SUITE_MARKERS)
        or name.endswith(WEAK_SUITE_SUFFIXES)
    )


def _context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # noqa: S503 — we inspect, we do not trust
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED  # TLS 1.0/1.1-only endpoints too
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
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


async def detect(host: str, port: int, timeout: float) -> tuple[bytes | None, str, str] | None:
    """The port's TLS handshake without SNI (certificate, protocol, cipher); None if not TLS."""
    return await handshake(host, port, None, _context(), timeout)


async def peek(
    host: str,
    port: int,
    server_name: str | None,
    now: dt.datetime,
    timeout: float,
    plain: tuple[bytes | None, str, str] | None = None,
) -> TlsInfo:
    """The certificate and the negotiated suite, before sslyze: a handshake with SNI, or
    ``plain`` (the detection handshake) when there is no name to send."""
    if plain is not None and not server_name:
        first = plain
    else:
        first = await handshake(host, port, server_name, _context(), timeout)
    if first is None:
        return TlsInfo(error="poignée de main TLS refusée avec l'indication de nom (SNI)")
    der, _protocol, cipher = first
    info = certificate_info(der, server_name, now) if der else TlsInfo()
    info.cipher = cipher
    return info


def certificate_info(
    der: bytes, hostname: str | None, now: dt.datetime, info: TlsInfo | None = None
) -> TlsInfo:
    """Subject, issuer, validity against ``now``, self-signature, key and host-name match."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_der_x509_certificate(der)
    info = info or TlsInfo()
    info.subject = cert.subject.rfc4514_string()
    info.issuer = cert.issuer.rfc4514_string()
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    info.not_before = not_before.isoformat()
    info.not_after = not_after.isoformat()
    info.expired = now > not_after or now < not_before
    info.days_left = (not_after - now).days
    info.self_signed = False
    if cert.issuer == cert.subject:
        try:
            cert.verify_directly_issued_by(cert)
            info.self_signed = True
        except Exception:  # signature does not verify with its own key: not self-signed
            info.self_signed = False
    key = cert.public_key()
    info.key = ""
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
    info.hostname_matches = (
        _matches(hostname, info.sans or _common_names(cert)) if hostname else None
    )
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


# ---------------------------------------------------------------- sslyze


def _scan_commands():
    from sslyze import ScanCommand

    return {
        ScanCommand.CERTIFICATE_INFO,
        ScanCommand.SSL_2_0_CIPHER_SUITES,
        ScanCommand.SSL_3_0_CIPHER_SUITES,
        ScanCommand.TLS_1_0_CIPHER_SUITES,
        ScanCommand.TLS_1_1_CIPHER_SUITES,
        ScanCommand.TLS_1_2_CIPHER_SUITES,
        ScanCommand.TLS_1_3_CIPHER_SUITES,
        ScanCommand.HEARTBLEED,
        ScanCommand.ROBOT,
        ScanCommand.OPENSSL_CCS_INJECTION,
        ScanCommand.SESSION_RENEGOTIATION,
        ScanCommand.TLS_COMPRESSION,
    }


def run_sslyze(address: str, port: int, server_name: str | None, connections: int, timeout: float):
    """sslyze's ServerScanResult for one endpoint (blocking: call it from a worker thread)."""
    from sslyze import (
        ScanCommandsExtraArguments,
        Scanner,
        ServerNetworkConfiguration,
        ServerNetworkLocation,
        ServerScanRequest,
        SessionRenegotiationExtraArgument,
    )

    name = server_name or address
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(hostname=name, port=port, ip_address=address),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=name,
            network_timeout=timeout,  # type: ignore[arg-type]  (a socket timeout: float is fine)
            network_max_retries=2,
        ),
        scan_commands=_scan_commands(),
        # one client-initiated renegotiation is enough: only secure renegotiation is judged
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            session_renegotiation=SessionRenegotiationExtraArgument(client_renegotiation_attempts=1)
        ),
    )
    scanner = Scanner(
        per_server_concurrent_connections_limit=max(1, connections),
        concurrent_server_scans_limit=1,
    )
    scanner.queue_scans([request])
    return list(scanner.get_results())[0]  # consumed whole: sslyze joins its threads at the end


def _attempt(scan_result, field: str, failures: list[str]):
    attempt = getattr(scan_result, field)
    if attempt.result is None:
        reason = getattr(attempt.error_reason, "value", attempt.error_reason) or "inconnue"
        failures.append(f"{field} ({reason})")
    return attempt.result


def apply_scan_result(
    info: TlsInfo, server_result, server_name: str | None, now: dt.datetime
) -> TlsInfo:
    """Fill ``info`` from sslyze's ServerScanResult (or an object of the same shape)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    if server_result.scan_result is None:
        trace = server_result.connectivity_error_trace
        reason = str(trace).strip().splitlines()[-1] if trace else "connexion refusée"
        info.error = f"analyse TLS détaillée impossible (sslyze) : {reason}"
        return info
    scan = server_result.scan_result
    failures: list[str] = []
    info.protocols, info.accepted_suites, info.weak_suites = [], {}, []
    for protocol, field in PROTOCOL_COMMANDS:
        result = _attempt(scan, field, failures)
        if result is None or not result.accepted_cipher_suites:
            continue
        info.protocols.append(protocol)
        names = [accepted.cipher_suite.name for accepted in result.accepted_cipher_suites]
        info.accepted_suites[protocol] = names
        for accepted in result.accepted_cipher_suites:
            suite = accepted.cipher_suite
            if is_weak_suite(suite.name, suite.is_anonymous) and suite.name not in info.weak_suites:
                info.weak_suites.append(suite.name)
    certificate = _attempt(scan, "certificate_info", failures)
    if certificate and certificate.certificate_deployments:
        deployment = certificate.certificate_deployments[0]
        chain = deployment.received_certificate_chain
        info.chain_length = len(chain)
        certificate_info(chain[0].public_bytes(Encoding.DER), server_name, now, info)
        valid = [p for p in deployment.path_validation_results if p.was_validation_successful]
        info.trust_stores = sorted({p.trust_store.name for p in valid})
        info.chain_error = ""
        if not valid:
            errors = [p.validation_error for p in deployment.path_validation_results]
            info.chain_error = next((e for e in errors if e), "")
        stores = [p.trust_store for p in deployment.path_validation_results]
        info.trusted = bool(valid) or chain_trusted(chain, stores, now)
    heartbleed = _attempt(scan, "heartbleed", failures)
    info.heartbleed = heartbleed.is_vulnerable_to_heartbleed if heartbleed else None
    robot = _attempt(scan, "robot", failures)
    info.robot = getattr(robot.robot_result, "value", str(robot.robot_result)) if robot else ""
    ccs = _attempt(scan, "openssl_ccs_injection", failures)
    info.ccs_injection = ccs.is_vulnerable_to_ccs_injection if ccs else None
    renegotiation = _attempt(scan, "session_renegotiation", failures)
    info.insecure_renegotiation = (
        not renegotiation.supports_secure_renegotiation if renegotiation else None
    )
    compression = _attempt(scan, "tls_compression", failures)
    info.compression = compression.supports_compression if compression else None
    if failures:
        info.error = "tests TLS non aboutis : " + ", ".join(failures)
    return info


def chain_trusted(chain: list, stores: list, now: dt.datetime) -> bool:
    """Whether the served chain leads to a root of one of ``stores``, its names and dates aside.

    sslyze's path validation also checks the host name and the validity dates, which have their
    own findings: here the leaf is checked against one of its own names, at ``now`` if it is
    valid then, otherwise in the middle of its validity.
    """
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    leaf = chain[0]
    try:
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return False  # no name to verify against: no client accepts it
    names = sans.get_values_for_type(x509.DNSName)
    addresses = sans.get_values_for_type(x509.IPAddress)
    if names:
        subject = x509.DNSName(names[0].replace("*.", "x.", 1))
    elif addresses:
        subject = x509.IPAddress(addresses[0])
    else:
        return False
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    when = now if start <= now <= end else start + (end - start) / 2
    for store in stores:
        x509_store = getattr(store, "_x509_store", None)
        if x509_store is None:
            x509_store = Store(x509.load_pem_x509_certificates(store.path.read_bytes()))
        try:
            verifier = PolicyBuilder().store(x509_store).time(when).build_server_verifier(subject)
            verifier.verify(leaf, list(chain[1:]))
            return True
        except (VerificationError, ValueError, TypeError):
            continue
    return False


async def analyse(
    address: str,
    port: int,
    server_name: str | None,
    now: dt.datetime,
    info: TlsInfo | None = None,
    *,
    connections: int = 5,
    timeout: float = 5.0,
    deadline: float = 180.0,
    worker: AnalysisWorker | None = None,
) -> TlsInfo:
    """sslyze on one endpoint, in ``worker`` (its own process) when one runs, else in a worker
    thread; errors land in ``info.error``, never raise."""
    info = info or TlsInfo()
    if worker is not None and worker.alive:
        try:
            return await asyncio.wait_for(
                worker.analyse(address, port, server_name, now, info, connections, timeout),
                deadline,
            )
        except TimeoutError:
            # the worker's thread cannot be stopped; sslyze's own timeouts bound it
            info.error = f"analyse TLS détaillée interrompue après {deadline:.0f} s"
            return info
        except WorkerGone:
            pass  # the process died: the analysis runs here instead
    try:
        server_result = await asyncio.wait_for(
            asyncio.to_thread(run_sslyze, address, port, server_name, connections, timeout),
            deadline,
        )
    except TimeoutError:
        # the worker thread cannot be stopped; sslyze's own timeouts bound it
        info.error = f"analyse TLS détaillée interrompue après {deadline:.0f} s"
        return info
    except Exception as exc:  # sslyze failing on a hostile endpoint must not stop the run
        info.error = f"analyse TLS détaillée impossible (sslyze) : {exc.__class__.__name__}"
        return info
    return _apply(info, server_result, server_name, now)


def _apply(info: TlsInfo, server_result, server_name: str | None, now: dt.datetime) -> TlsInfo:
    try:
        return apply_scan_result(info, server_result, server_name, now)
    except Exception as exc:
        info.error = f"résultat sslyze illisible : {exc.__class__.__name__}"
        return info


# ---------------------------------------------------------------- analysis process


class WorkerGone(RuntimeError):
    """The analysis process is not there any more."""


class AnalysisWorker:
    """sslyze in a process of its own, started when a run starts.

    sslyze is Python (its ~550 handshakes per endpoint go through nassl, but the plugins, the
    thread pool and the result objects are Python code): in the scanning process it would hold
    the interpreter lock against the port sweep and the identification probes, so on a
    two-core machine they would take turns on one core. In its own process, its import (~0.4 s
    of CPU) and its analyses use the other core. Requests and answers are JSON lines on the
    process's standard input and output; each request runs in a thread of the worker, so the
    endpoints analysed at once are still bounded by the caller (``tls_endpoints``) and the
    connections per endpoint by ``connections``. If the process cannot start or dies, the
    analysis runs in a thread of the caller, as before.
    """

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Future | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.counter = 0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @classmethod
    async def start(cls) -> AnalysisWorker:
        import os
        from pathlib import Path

        worker = cls()
        root = str(Path(__file__).resolve().parents[3])  # the directory holding careops/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            worker.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from careops.exposure.engine.tls import serve; serve()",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env=env,
                limit=1 << 24,
            )
        except OSError:
            return worker  # not alive: analyse() runs sslyze in a thread
        worker.reader = asyncio.ensure_future(worker._read())
        return worker

    async def _read(self) -> None:
        import json

        try:
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    break
                answer = json.loads(line)
                future = self.pending.pop(answer["id"], None)
                if future is not None and not future.done():
                    future.set_result(answer)
        finally:
            for future in self.pending.values():
                if not future.done():
                    future.set_exception(WorkerGone())
            self.pending.clear()

    async def analyse(self, address, port, server_name, now, info, connections, timeout):
        import dataclasses
        import json

        self.counter += 1
        key = self.counter
        future = asyncio.get_running_loop().create_future()
        self.pending[key] = future
        request = {
            "id": key,
            "address": address,
            "port": port,
            "server_name": server_name,
            "now": now.isoformat(),
            "info": dataclasses.asdict(info),
            "connections": connections,
            "timeout": timeout,
        }
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            await self.process.stdin.drain()
        except (OSError, RuntimeError) as exc:
            self.pending.pop(key, None)
            raise WorkerGone() from exc
        answer = await future
        if "info" in answer:
            return TlsInfo(**answer["info"])
        prefix = (
            "résultat sslyze illisible"
            if answer.get("stage") == "apply"
            else "analyse TLS détaillée impossible (sslyze)"
        )
        info.error = f"{prefix} : {answer['error']}"
        return info

    async def close(self) -> None:
        """Stop the process (every analysis is answered or abandoned by now)."""
        if self.alive:
            self.process.kill()
        if self.process is not None:
            await self.process.wait()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


def serve() -> None:
    """The analysis process: JSON requests on stdin, one thread each, JSON answers on stdout."""
    import dataclasses
    import json

    import sslyze  # noqa: F401 — imported at once, while the caller sweeps ports

    out = sys.stdout.buffer
    lock = threading.Lock()

    def work(request: dict) -> None:
        answer: dict = {"id": request["id"]}
        stage = "run"
        try:
            now = dt.datetime.fromisoformat(request["now"])
            server_name = request["server_name"]
            result = run_sslyze(
                request["address"],
                request["port"],
                server_name,
                request["connections"],
                request["timeout"],
            )
            stage = "apply"
            info = apply_scan_result(TlsInfo(**request["info"]), result, server_name, now)
            answer["info"] = dataclasses.asdict(info)
        except Exception as exc:  # reported to the caller as today's in-thread errors
            answer.update(error=exc.__class__.__name__, stage=stage)
        with lock:
            out.write(json.dumps(answer).encode() + b"\n")
            out.flush()

    for line in sys.stdin.buffer:
        threading.Thread(target=work, args=(json.loads(line),), daemon=True).start()
