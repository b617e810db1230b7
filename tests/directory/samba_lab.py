"""A throw-away Samba 4 AD DC on loopback with planted weaknesses (tests only).

Private target directory, loopback only, offline seeding with ldbadd/ldbmodify while samba is
stopped, then `samba --foreground` on 127.0.0.1. Pitfalls handled: smb.conf rewritten to keep
everything in the private directory and never forward DNS; LDAPS only (simple bind needs TLS).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REALM = "CARE.TEST"
BASE = "DC=care,DC=test"
ADMIN_PASSWORD = "Passw0rd!CaRE2026"
READER_PASSWORD = "Lecteur!CaRE2026"
TOOLS = ("samba", "samba-tool", "ldbadd", "ldbmodify", "ldbsearch")


def available() -> str | None:
    """None when a DC can be provisioned here, else the reason why not."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return "outils Samba absents : " + ", ".join(missing) + " (paquets samba, ldb-tools)"
    if os.geteuid() != 0:
        return "le contrôleur Samba doit être lancé en root"
    return None


@dataclass
class Lab:
    directory: Path
    process: subprocess.Popen
    port: int = 636

    @property
    def url(self) -> str:
        return f"ldaps://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        return str(self.directory / "private" / "tls" / "ca.pem")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _run(*args: str, **kw) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def _rewrite_conf(d: Path) -> None:
    path = d / "etc" / "smb.conf"
    text = path.read_text()
    sections = re.split(r"(?m)^(?=\[)", text)
    keep = [
        s
        for s in sections
        if not s.startswith("[") or s.split("]")[0][1:] in ("global", "sysvol", "netlogon")
    ]
    text = "".join(keep)
    text = re.sub(r"(?m)^\s*(dns forwarder|log file|unix password sync) = .*\n", "", text)
    extra = [
        f"pid directory = {d}/run",
        f"ncalrpc dir = {d}/run/ncalrpc",
        f"log file = {d}/log/log.%m",
        f"ntp signd socket directory = {d}/run/ntp_signd",
        "server services = -nbt -dnsupdate -ntp_signd -dns -kcc -drepl",
        "disable netbios = yes",
        "load printers = no",
        "printcap name = /dev/null",
        "disable spoolss = yes",
        # NTLM (SASL GSS-SPNEGO) inside TLS without SASL signing, as Windows DCs and Samba ≥ 4.20
        # accept by default; Samba 4.17's default ("yes") demands SASL sign/seal even over TLS.
        "ldap server require strong auth = allow_sasl_over_tls",
    ]
    text = text.replace("[global]\n", "[global]\n" + "".join(f"\t{e}\n" for e in extra), 1)
    path.write_text(text)


WEAK_LDIF = f"""dn: OU=Weak,{BASE}
objectClass: organizationalUnit

dn: CN=w_neverexp,OU=Weak,{BASE}
objectClass: user
sAMAccountName: w_neverexp
userAccountControl: 66048

dn: CN=w_asrep,OU=Weak,{BASE}
objectClass: user
sAMAccountName: w_asrep
userAccountControl: 4194816

dn: CN=w_des,OU=Weak,{BASE}
objectClass: user
sAMAccountName: w_des
userAccountControl: 2097664

dn: CN=svc_sql,OU=Weak,{BASE}
objectClass: user
sAMAccountName: svc_sql
servicePrincipalName: MSSQLSvc/sql01.care.test:1433
userAccountControl: 66048

dn: CN=w_schema,OU=Weak,{BASE}
objectClass: user
sAMAccountName: w_schema
userAccountControl: 512

dn: CN=SRV-UNCONS,OU=Weak,{BASE}
objectClass: computer
sAMAccountName: SRV-UNCONS$
userAccountControl: 528384
operatingSystem: Windows Server 2012 R2 Standard

dn: CN=SRV-T2A4D,OU=Weak,{BASE}
objectClass: computer
sAMAccountName: SRV-T2A4D$
userAccountControl: 16781312
msDS-AllowedToDelegateTo: ldap/dc1.care.test
"""

WEAK_MODIFY = f"""dn: CN=Domain Admins,CN=Users,{BASE}
changetype: modify
add: member
member: CN=svc_sql,OU=Weak,{BASE}

dn: CN=Schema Admins,CN=Users,{BASE}
changetype: modify
add: member
member: CN=w_schema,OU=Weak,{BASE}

dn: CN=Pre-Windows 2000 Compatible Access,CN=Builtin,{BASE}
changetype: modify
add: member
member: <SID=S-1-5-7>

dn: CN=krbtgt,CN=Users,{BASE}
changetype: modify
replace: pwdLastSet
pwdLastSet: 132223104000000000

dn: CN=Guest,CN=Users,{BASE}
changetype: modify
replace: userAccountControl
userAccountControl: 66080
"""


def _seed_users(d: Path, count: int) -> None:
    if count <= 0:
        return
    seed = d / "seed"
    seed.mkdir(exist_ok=True)
    for chunk in range(0, count, 1000):
        ou = f"OU=Dept{chunk // 1000:02d},{BASE}"
        ids = range(chunk, min(count, chunk + 1000))
        recs = [f"dn: {ou}\nobjectClass: organizationalUnit\n"]
        recs += [
            f"dn: CN=u{i:06d},{ou}\nobjectClass: user\nsAMAccountName: u{i:06d}\n"
            f"userPrincipalName: u{i:06d}@care.test\nuserAccountControl: 512\n"
            for i in ids
        ]
        members = list(ids)
        for g in range(chunk // 100, chunk // 100 + 10):
            picked = members[(g * 7) % max(1, len(members)) :][:50]
            recs.append(
                f"dn: CN=g{g:05d},{ou}\nobjectClass: group\nsAMAccountName: g{g:05d}\n"
                + "".join(f"member: CN=u{m:06d},{ou}\n" for m in picked)
            )
        path = seed / f"c{chunk // 1000:03d}.ldif"
        path.write_text("\n".join(recs))
        _run("ldbadd", "-H", str(d / "private" / "sam.ldb"), str(path))


def _port_busy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def provision(d: Path, users: int = 0) -> Lab:
    """Provision, seed weaknesses, start samba on 127.0.0.1 and wait until LDAPS answers."""
    if _port_busy(636) or _port_busy(389):
        raise RuntimeError("127.0.0.1:636/389 already in use: another directory server runs here")
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    _run(
        "samba-tool",
        "domain",
        "provision",
        f"--targetdir={d}",
        f"--realm={REALM}",
        "--domain=CARE",
        "--server-role=dc",
        "--dns-backend=SAMBA_INTERNAL",
        f"--adminpass={ADMIN_PASSWORD}",
        "--host-name=dc1",
        "--host-ip=127.0.0.1",
        "--option=interfaces=lo",
        "--option=bind interfaces only=yes",
    )
    for sub in ("run", "log", "cache"):
        (d / sub).mkdir(exist_ok=True)
    _rewrite_conf(d)
    sam = str(d / "private" / "sam.ldb")
    _seed_users(d, users)
    (d / "weak.ldif").write_text(WEAK_LDIF)
    (d / "weak_mod.ldif").write_text(WEAK_MODIFY)
    _run("ldbadd", "-H", sam, str(d / "weak.ldif"))
    _run(
        "ldbmodify",
        "-H",
        sam,
        "--controls=local_oid:1.3.6.1.4.1.7165.4.3.12:0",
        str(d / "weak_mod.ldif"),
    )
    lab = start(d)
    try:
        _plant_online(lab)
    except Exception:
        lab.stop()
        raise
    return lab


def start(d: Path) -> Lab:
    """Start an already provisioned DC on 127.0.0.1 and wait (bounded) until LDAPS answers."""
    if _port_busy(636) or _port_busy(389):
        raise RuntimeError("127.0.0.1:636/389 already in use: another directory server runs here")
    log = open(d / "log" / "samba.out", "ab")  # noqa: SIM115 - kept open for the process
    process = subprocess.Popen(
        [
            "samba",
            f"--configfile={d}/etc/smb.conf",
            "--foreground",
            "--no-process-group",
            "--debug-stdout",
            "-d1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    lab = Lab(d, process)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError("samba stopped: " + (d / "log" / "samba.out").read_text()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", 636), timeout=1):
                return lab
        except OSError:
            if time.monotonic() > deadline:
                lab.stop()
                raise RuntimeError("samba did not answer on 127.0.0.1:636 within 60 s") from None
            time.sleep(0.2)


def restart_with_strong_auth(lab: Lab, value: str) -> None:
    """Restart the DC with another ``ldap server require strong auth`` (in place: ``lab`` keeps
    pointing at the running process)."""
    conf = lab.directory / "etc" / "smb.conf"
    conf.write_text(
        re.sub(
            r"(?m)^(\s*ldap server require strong auth = ).*$",
            lambda m: m.group(1) + value,
            conf.read_text(),
        )
    )
    lab.stop()
    deadline = time.monotonic() + 30
    while _port_busy(636) or _port_busy(389):  # bounded: the old workers release the ports
        if time.monotonic() > deadline:
            raise RuntimeError("127.0.0.1:636/389 still busy 30 s after stopping samba")
        time.sleep(0.1)
    lab.process = start(lab.directory).process


def _plant_online(lab: Lab) -> None:
    """Weaknesses that need the running DC (descriptor edits) and the low-privilege reader."""
    auth = ["-H", "ldap://127.0.0.1", "-U", "Administrator", f"--password={ADMIN_PASSWORD}"]
    _run("samba-tool", "user", "create", "reader", READER_PASSWORD, *auth)
    _run(
        "samba-tool",
        "dsacl",
        "set",
        *auth,
        f"--objectdn=CN=AdminSDHolder,CN=System,{BASE}",
        "--sddl=(A;;GA;;;AU)",
    )
    _run(
        "samba-tool",
        "dsacl",
        "set",
        *auth,
        f"--objectdn=CN=Domain Admins,CN=Users,{BASE}",
        "--sddl=(OA;;WP;bf9679c0-0de6-11d0-a285-00aa003049e2;;DU)",
    )
    out = _run("ldbsearch", *auth, "(sAMAccountName=reader)", "objectSid")
    sid = next(line.split()[1] for line in out.splitlines() if line.startswith("objectSid:"))
    # The reader may not read AdminSDHolder's descriptor: a collection that must be partial.
    _run(
        "samba-tool",
        "dsacl",
        "set",
        *auth,
        f"--objectdn=CN=AdminSDHolder,CN=System,{BASE}",
        f"--sddl=(D;;RC;;;{sid})",
    )
