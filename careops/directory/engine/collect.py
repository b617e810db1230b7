"""Collect a directory dump over LDAPS or StartTLS with ldap3 (raw attributes, paged searches,
SD-flags control 0x07 so that owner, group and DACL are read without needing the SACL right)."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import ssl
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlparse

from careops.directory.engine.dump import Dump
from careops.directory.engine.sd import sid_to_str

SID_ATTRIBUTES = {"objectsid", "sidhistory", "securityidentifier"}
GUID_ATTRIBUTES = {"objectguid", "schemaidguid", "rightsguid"}
DESCRIPTOR_ATTRIBUTES = {"msds-allowedtoactonbehalfofotheridentity"}
BINARY_ATTRIBUTES = {
    "dnsproperty",
    "cacertificate",
    "usercertificate",
    "dnsrecord",
    "pkiexpirationperiod",
    "pkioverlapperiod",
    "pkikeyusage",
    "logonhours",
    "msds-revealedusers",
}
# What the control points read; the domain partition is searched for these attributes only.
ATTRIBUTES = [
    "objectClass",
    "objectSid",
    "sAMAccountName",
    "name",
    "cn",
    "userAccountControl",
    "servicePrincipalName",
    "pwdLastSet",
    "lastLogonTimestamp",
    "accountExpires",  # remote_access: third-party accounts that never expire (check A6)
    "adminCount",
    "member",
    "primaryGroupID",
    "msDS-AllowedToDelegateTo",
    "msDS-AllowedToActOnBehalfOfOtherIdentity",
    "msDS-SupportedEncryptionTypes",
    "sIDHistory",
    "whenCreated",
    "operatingSystem",
    "operatingSystemVersion",
    "dNSHostName",
    "gPLink",
    "msDS-Behavior-Version",
    "ms-DS-MachineAccountQuota",
    "minPwdLength",
    "pwdProperties",
    "maxPwdAge",
    "msDS-ExpirePasswordsOnSmartCardOnlyAccounts",
    "trustDirection",
    "trustAttributes",
    "trustType",
    "trustPartner",
    "msDS-RevealedUsers",
    "msDS-NeverRevealGroup",
    "msDS-RevealOnDemandGroup",
    "msDS-KrbTgtLinkBl",
    "msDS-AssignedAuthNPolicySilo",
    "revision",
    "msDFSR-Flags",
    "dSHeuristics",
    "dnsProperty",
    "dc",
    "cACertificate",
    "userCertificate",
    "certificateTemplates",
    "msPKI-Certificate-Name-Flag",
    "msPKI-Enrollment-Flag",
    "msPKI-RA-Signature",
    "pKIExtendedKeyUsage",
    "adminContextMenu",
    "shellContextMenu",
    "managedBy",
    "serverReference",
    "nTSecurityDescriptor",
]
SCHEMA_ATTRIBUTES = ["objectClass", "name", "whenCreated", "nTSecurityDescriptor"]
MAX_RECORDED_ERRORS = 1000


class CollectError(RuntimeError):
    """A collection that could not run; the message is in French and says why."""


@dataclass
class Target:
    """Where and how to connect."""

    url: str
    user: str
    password: str
    base: str | None = None
    ca_file: str | None = None
    tls_name: str | None = None  # name expected in the certificate when connecting by address
    address: str | None = None  # checked address to connect to (the URL's name stays for TLS)
    verify: bool = True
    authentication: str = "simple"  # simple | ntlm
    page_size: int = 1000
    timeout: int = 30
    parallel: bool = True  # several connections share the partitions and the domain's subtrees
    connections: int = 3  # connections when parallel (the DC answers them at once)


def host_port(url: str) -> tuple[str, int]:
    """Host and port of an ``ldaps://`` / ``ldap://`` URL (or a bare host: LDAPS)."""
    parsed = urlparse(url if "://" in url else f"ldaps://{url}")
    if parsed.scheme not in ("ldaps", "ldap"):
        raise CollectError(f"Adresse de serveur invalide : {url} (ldaps:// ou ldap://).")
    return parsed.hostname or "", parsed.port or (636 if parsed.scheme == "ldaps" else 389)


def _server(target: Target):
    from ldap3 import NONE, Server, Tls

    parsed = urlparse(target.url if "://" in target.url else f"ldaps://{target.url}")
    if parsed.scheme not in ("ldaps", "ldap"):
        raise CollectError(f"Adresse de serveur invalide : {target.url} (ldaps:// ou ldap://).")
    use_ssl = parsed.scheme == "ldaps"
    names = [target.tls_name] if target.tls_name else None
    if target.address and not names and parsed.hostname != target.address:
        names = [parsed.hostname]  # connecting by the checked address, the certificate's name
    tls = Tls(
        validate=ssl.CERT_REQUIRED if target.verify else ssl.CERT_NONE,
        ca_certs_file=target.ca_file,
        valid_names=names,
        sni=(target.tls_name or parsed.hostname) if target.address else None,
    )
    port = parsed.port or (636 if use_ssl else 389)
    server = Server(
        target.address or parsed.hostname,
        port=port,
        use_ssl=use_ssl,
        tls=tls,
        get_info=NONE,
        connect_timeout=target.timeout,
    )
    return server, use_ssl


def connect(target: Target):
    """Open an authenticated, encrypted connection (LDAPS, or StartTLS on ldap://)."""
    from ldap3 import ANONYMOUS, SIMPLE, Connection
    from ldap3.core import exceptions as lex

    from careops.directory.engine import spnego

    server, use_ssl = _server(target)
    ntlm = target.authentication == "ntlm"
    conn = Connection(
        server,
        user=None if ntlm else target.user,
        password=None if ntlm else target.password,
        authentication=ANONYMOUS if ntlm else SIMPLE,
        receive_timeout=max(target.timeout, 60),
        raise_exceptions=False,
        read_only=True,
        auto_referrals=False,
        check_names=False,  # raw attributes only: skip ldap3's per-value formatting
        return_empty_attributes=False,
    )
    try:
        conn.open()
        if conn.closed:
            raise CollectError("Serveur injoignable.")
        if not use_ssl and not conn.start_tls():
            raise CollectError("StartTLS refusé par le serveur : la connexion n'est pas chiffrée.")
        if ntlm:
            # NTLM through SASL GSS-SPNEGO (Windows and Samba), inside the TLS session.
            try:
                result = spnego.bind(conn, target.user, target.password)
            except spnego.SpnegoError as exc:
                raise CollectError(f"Authentification NTLM impossible : {exc}.") from exc
            bound = result.get("result") == 0
        else:
            bound = conn.bind()
            result = conn.result or {}
        if not bound:
            if result.get("result") == 49:
                raise CollectError("Identifiants refusés par l'annuaire (compte ou mot de passe).")
            if ntlm and result.get("result") == 8:  # strongerAuthRequired
                raise CollectError(
                    "Le contrôleur exige la signature SASL pour NTLM, même sous TLS (Samba avant "
                    "4.20 : « ldap server require strong auth = yes ») : utilisez la liaison "
                    "simple sur LDAPS, ou autorisez « allow_sasl_over_tls »."
                )
            raise CollectError(
                f"Authentification refusée : {result.get('description', '')} "
                f"{result.get('message', '')}".strip()
            )
    except lex.LDAPSocketOpenError as exc:
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            raise CollectError(
                "Échec TLS : le certificat du serveur n'est pas reconnu "
                "(indiquez l'autorité de l'annuaire avec --ca-file)."
            ) from exc
        if "doesn't match any name" in text:
            raise CollectError(
                "Échec TLS : le certificat du serveur ne porte pas le nom demandé "
                "(connectez-vous par le nom DNS du contrôleur ou indiquez --tls-name)."
            ) from exc
        if "ssl" in text.lower() or "tls" in text.lower():
            raise CollectError(f"Échec de la négociation TLS avec le serveur : {text}") from exc
        raise CollectError(f"Serveur injoignable : {target.url}.") from exc
    except lex.LDAPStartTLSError as exc:
        raise CollectError(f"Échec TLS (StartTLS) : {exc}") from exc
    except lex.LDAPException as exc:
        raise CollectError(f"Erreur LDAP : {exc}") from exc
    return conn


def _ber_length(data: bytes, i: int) -> tuple[int, int]:
    first = data[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    return int.from_bytes(data[i + 1 : i + 1 + n], "big"), i + 1 + n


def parse_search_entry(data: bytes) -> tuple[int, dict | None]:
    """Read an LDAPMessage: (messageID, entry dict) for a SearchResultEntry, else (id, None).

    A small BER reader for the one message type that makes up nearly all the traffic; every
    other message goes through ldap3's decoder."""
    if data[0] != 0x30:
        raise ValueError("not an LDAPMessage")
    _, i = _ber_length(data, 1)
    if data[i] != 0x02:
        raise ValueError("messageID expected")
    n, i = _ber_length(data, i + 1)
    message_id = int.from_bytes(data[i : i + n], "big", signed=True)
    i += n
    if data[i] != 0x64:  # [APPLICATION 4] SearchResultEntry
        return message_id, None
    _, i = _ber_length(data, i + 1)
    n, i = _ber_length(data, i + 1)  # objectName
    dn = data[i : i + n].decode("utf-8")
    i += n
    total, i = _ber_length(data, i + 1)  # attributes
    end = i + total
    attributes: dict[str, list[bytes]] = {}
    while i < end:
        plen, i = _ber_length(data, i + 1)
        pend = i + plen
        tlen, i = _ber_length(data, i + 1)
        name = data[i : i + tlen].decode("utf-8")
        i += tlen
        slen, i = _ber_length(data, i + 1)
        send = i + slen
        values = []
        while i < send:
            vlen, i = _ber_length(data, i + 1)
            values.append(data[i : i + vlen])
            i += vlen
        attributes[name] = values
        i = pend
    # ldap3's ranged retrieval (member;range=…) appends to both dictionaries: separate lists.
    return message_id, {
        "type": "searchResEntry",
        "dn": dn,
        "raw_attributes": attributes,
        "attributes": {name: [] for name in attributes},
    }


def _raw_entries_only(conn) -> None:
    """Decode search entries to raw bytes with our own BER reader, skipping ldap3's generic
    decoder, per-value text conversion and case-insensitive dictionaries (the collection reads
    raw attributes and decodes them once). Other messages are decoded by ldap3 as usual."""
    from ldap3.core.exceptions import LDAPSocketReceiveError
    from ldap3.strategy.base import RESPONSE_COMPLETE, SESSION_TERMINATED_BY_SERVER
    from ldap3.utils.asn1 import decode_message_fast

    strategy = conn.strategy
    strategy.socket_size = 65536  # ldap3 reads 4 KiB at a time by default: fewer, larger reads

    def get_response(message_id, timeout):
        responses = []
        while True:
            received = strategy.receiving()
            if not received:
                return SESSION_TERMINATED_BY_SERVER
            for raw in received:
                if not raw:
                    continue
                try:
                    mid, entry = parse_search_entry(raw)
                except (IndexError, ValueError, UnicodeDecodeError):
                    mid, entry = None, None
                if entry is None:
                    message = decode_message_fast(raw)
                    mid = int(message["messageID"])
                    entry = strategy.decode_response_fast(message)
                if mid == message_id:
                    responses.append(entry)
                    if entry["type"] not in (
                        "searchResEntry",
                        "searchResRef",
                        "intermediateResponse",
                    ):
                        responses.append(RESPONSE_COMPLETE)
                        return responses
                elif mid == 0:  # unsolicited notification (notice of disconnection…)
                    return SESSION_TERMINATED_BY_SERVER
                else:
                    raise LDAPSocketReceiveError("invalid messageId received")

    strategy._get_response = get_response


def _decode(name: str, values: list[bytes], dump: Dump) -> list[str]:
    if name in SID_ATTRIBUTES:
        out = []
        for v in values:
            try:
                out.append(sid_to_str(v)[0])
            except ValueError:
                out.append("b64:" + _b64(v))
        return out
    if name in GUID_ATTRIBUTES:
        return [str(uuid.UUID(bytes_le=v)) if len(v) == 16 else "b64:" + _b64(v) for v in values]
    if name in DESCRIPTOR_ATTRIBUTES:
        return ["sd:" + dump.add_descriptor(v) for v in values]
    if name in BINARY_ATTRIBUTES:
        return ["b64:" + _b64(v) for v in values]
    out = []
    for v in values:
        try:
            out.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            out.append("b64:" + _b64(v))
    return out


def _b64(value: bytes) -> str:
    import base64

    return base64.b64encode(value).decode("ascii")


def _page_cookie(result: dict) -> bytes | None:
    """The paged-results cookie of a search result (RFC 2696); empty or None on the last page."""
    control = result.get("controls", {}).get("1.2.840.113556.1.4.319", {})
    return control.get("value", {}).get("cookie")


def _search(
    conn,
    dump: Dump,
    objects: list[dict],
    errors: list[dict],
    base: str,
    attributes: list[str],
    page_size: int,
    progress: Callable[[int], None] | None,
    stats: dict[str, int],
    lock: threading.Lock,
    scope: str = "SUBTREE",
) -> bool:
    from ldap3.protocol.microsoft import security_descriptor_control

    controls = security_descriptor_control(sdflags=0x07)
    cookie = None
    wants_sd = "nTSecurityDescriptor" in attributes
    while True:
        ok = conn.search(
            base,
            "(objectClass=*)",
            scope,
            attributes=attributes,
            paged_size=page_size,
            paged_cookie=cookie,
            controls=controls,
        )
        result = conn.result or {}
        if not ok and result.get("result") not in (0, 4):
            errors.append(
                {
                    "dn": base,
                    "attribute": "",
                    "reason": f"recherche refusée : {result.get('description')}",
                }
            )
            return False
        for item in conn.response or ():
            if item.get("type") != "searchResEntry":
                continue
            raw = item.get("raw_attributes") or {}
            attrs: dict[str, list[str]] = {}
            sd_key = None
            for key, values in raw.items():
                name = key.lower()
                if not values or ";range=" in name:  # ranged parts: merged by ldap3 under the name
                    continue
                if name == "ntsecuritydescriptor":
                    sd_key = dump.add_descriptor(values[0])
                    continue
                attrs[name] = _decode(name, values, dump)
            if wants_sd and sd_key is None:
                with lock:
                    stats["missing_sd"] += 1
                if len(errors) < MAX_RECORDED_ERRORS:
                    errors.append(
                        {
                            "dn": item["dn"],
                            "attribute": "nTSecurityDescriptor",
                            "reason": "illisible",
                        }
                    )
            objects.append({"dn": item["dn"], "a": attrs, "sd": sd_key})
        with lock:
            stats["objects"] += sum(
                1 for i in conn.response or () if i.get("type") == "searchResEntry"
            )
            done = stats["objects"]
        if progress:
            progress(done)
        cookie = _page_cookie(result)
        if not cookie:
            return True


def _children(conn, base: str, page_size: int) -> list[str] | None:
    """DNs of the direct children of ``base`` (paged, no attribute); None if refused."""
    from ldap3 import LEVEL

    dns: list[str] = []
    cookie = None
    while True:
        conn.search(
            base,
            "(objectClass=*)",
            LEVEL,
            attributes=["1.1"],
            paged_size=page_size,
            paged_cookie=cookie,
        )
        result = conn.result or {}
        if result.get("result") not in (0, None):
            return None  # the caller falls back to one subtree search of the whole partition
        dns += [i["dn"] for i in conn.response or () if i.get("type") == "searchResEntry"]
        cookie = _page_cookie(result)
        if not cookie:
            return dns


@contextlib.contextmanager
def _without_cyclic_gc():
    """Pause Python's cyclic garbage collector while entries pile up: a collection builds
    hundreds of thousands of small acyclic lists and dicts, and the collector's repeated passes
    over them cost as much CPU as decoding them. Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect(
    target: Target, now: dt.datetime | None = None, progress: Callable[[int], None] | None = None
) -> Dump:
    """Collect the domain, configuration, schema and DNS partitions into a Dump."""
    with _without_cyclic_gc():
        return _collect(target, now, progress)


def _collect(
    target: Target, now: dt.datetime | None, progress: Callable[[int], None] | None
) -> Dump:
    from ldap3 import BASE

    conn = connect(target)
    try:
        _raw_entries_only(conn)
        conn.search(
            "",
            "(objectClass=*)",
            BASE,
            attributes=[
                "defaultNamingContext",
                "configurationNamingContext",
                "schemaNamingContext",
                "namingContexts",
                "dnsHostName",
                "domainControllerFunctionality",
            ],
        )
        if not conn.response:
            raise CollectError("Le serveur ne publie pas son RootDSE : est-ce un annuaire AD ?")
        root = {k.lower(): v for k, v in conn.response[0].get("raw_attributes", {}).items()}

        def first(name: str) -> str:
            vals = root.get(name.lower()) or []
            return vals[0].decode() if vals else ""

        domain_dn = target.base or first("defaultNamingContext")
        if not domain_dn:
            raise CollectError("Contexte de nommage du domaine introuvable (indiquez --base).")
        config_dn = first("configurationNamingContext")
        schema_dn = first("schemaNamingContext")
        dns = [
            v.decode()
            for v in root.get("namingcontexts") or []
            if v.decode().lower().startswith(("dc=domaindnszones", "dc=forestdnszones"))
        ]
        domain = ".".join(p[3:] for p in domain_dn.split(",") if p.upper().startswith("DC="))
        dump = Dump(
            domain=domain,
            domain_sid="",
            collected_at=(now or dt.datetime.now(dt.UTC)).isoformat(),
            naming_contexts={
                "domain": domain_dn,
                "configuration": config_dn,
                "schema": schema_dn,
                "dns": dns,
            },
            source="ldap",
            collector={
                "tool": "careops",
                "server": target.url,
                "server_name": first("dnsHostName"),
                "sd_flags": 7,
            },
        )
        stats = {"objects": 0, "missing_sd": 0}
        complete = True
        # Work units: (base, scope, attributes). The domain partition is split into its head
        # (base scope) and one subtree per top-level child, so several connections share it:
        # while this process decodes one page, the DC prepares the next pages of other units.
        others = {dn.lower() for dn in [config_dn, schema_dn, *dns] if dn}
        parts: list[tuple[str, str, list[str]]] = []
        children = _children(conn, domain_dn, target.page_size) if target.parallel else None
        if children is not None:
            parts += [(c, "SUBTREE", ATTRIBUTES) for c in children if c.lower() not in others]
            parts.append((domain_dn, "BASE", ATTRIBUTES))
        else:
            parts.append((domain_dn, "SUBTREE", ATTRIBUTES))
        parts += [(config_dn, "SUBTREE", ATTRIBUTES)] if config_dn else []
        parts += [(schema_dn, "SUBTREE", SCHEMA_ATTRIBUTES)] if schema_dn else []
        parts += [(d, "SUBTREE", ATTRIBUTES) for d in dns]
        results: list[tuple[bool, list, list]] = [(False, [], [])] * len(parts)
        lock = threading.Lock()
        queue = list(range(len(parts)))[::-1]  # popped from the end: parts in order

        def run(connection, report) -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    i = queue.pop()
                objs: list[dict] = []
                errs: list[dict] = []
                base, scope, attributes = parts[i]
                ok = _search(
                    connection,
                    dump,
                    objs,
                    errs,
                    base,
                    attributes,
                    target.page_size,
                    report,
                    stats,
                    lock,
                    scope,
                )
                results[i] = (ok, objs, errs)

        helpers_count = min(max(0, target.connections - 1), len(parts) - 1)
        if target.parallel and helpers_count:
            # Progress is reported from this thread only (the callback may write to a
            # database connection bound to it).
            extra = []
            try:
                for _ in range(helpers_count):  # inside try: a failed connect unbinds the others
                    extra.append(connect(target))
                    _raw_entries_only(extra[-1])
                with ThreadPoolExecutor(max_workers=helpers_count) as pool:
                    futures = [pool.submit(run, connection, None) for connection in extra]
                    run(conn, progress)
                    for future in futures:
                        future.result()
            finally:
                for connection in extra:
                    connection.unbind()
            if progress:
                progress(stats["objects"])
        else:
            run(conn, progress)
        for ok, objs, errs in results:
            complete &= ok
            dump.objects.extend(objs)
            dump.errors.extend(errs[: max(0, MAX_RECORDED_ERRORS - len(dump.errors))])
        head = next((o for o in dump.objects if o["dn"].lower() == domain_dn.lower()), None)
        if head and head["a"].get("objectsid"):
            dump.domain_sid = head["a"]["objectsid"][0]
        dump.collector["objects"] = stats["objects"]
        dump.collector["objects_without_descriptor"] = stats["missing_sd"]
        dump.complete = complete and stats["missing_sd"] == 0
        return dump
    finally:
        conn.unbind()
