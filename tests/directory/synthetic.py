"""A synthetic, fully compliant (level 5) directory, and helpers to plant one weakness at a time."""

from __future__ import annotations

import copy
import datetime as dt

from careops.directory.engine import sd
from careops.directory.engine.dump import Dump

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
DOMAIN_SID = "S-1-5-21-1111-2222-3333"
BASE = "DC=hop,DC=test"
CONFIG = f"CN=Configuration,{BASE}"
SCHEMA = f"CN=Schema,{CONFIG}"
DA = f"{DOMAIN_SID}-512"
READ = 0x00020094
PKI = f"CN=Public Key Services,CN=Services,{CONFIG}"


def filetime(when: dt.datetime) -> str:
    return str(int((when - dt.datetime(1601, 1, 1, tzinfo=dt.UTC)).total_seconds() * 10**7))


def gentime(when: dt.datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S.0Z")


RECENT = filetime(NOW - dt.timedelta(days=3))
OLD_CREATED = gentime(NOW - dt.timedelta(days=800))


def descriptor(extra: list[sd.Ace] | None = None, owner: str = DA) -> bytes:
    aces = [
        sd.Ace(True, 0, sd.GENERIC_ALL, "S-1-5-18"),
        sd.Ace(True, 0, sd.GENERIC_ALL, DA),
        sd.Ace(True, 0, READ, "S-1-5-11"),
    ]
    return sd.build(owner, DA, aces + list(extra or []))


class Builder:
    """Builds a Dump; ``clean()`` returns a domain that passes every point."""

    def __init__(self):
        self.dump = Dump(
            domain="hop.test",
            domain_sid=DOMAIN_SID,
            collected_at=NOW.isoformat(),
            naming_contexts={
                "domain": BASE,
                "configuration": CONFIG,
                "schema": SCHEMA,
                "dns": [f"DC=DomainDnsZones,{BASE}"],
            },
            source="synthetic",
            complete=True,
        )
        self.default_sd = self.dump.add_descriptor(descriptor())

    def add(self, dn: str, classes: list[str], sd_key: str | None = "default", **attrs) -> dict:
        a = {"objectclass": ["top", *classes], "whencreated": [OLD_CREATED]}
        for key, value in attrs.items():
            a[key.lower().replace("_", "-")] = value if isinstance(value, list) else [str(value)]
        obj = {"dn": dn, "a": a, "sd": self.default_sd if sd_key == "default" else sd_key}
        self.dump.objects.append(obj)
        return obj

    def user(self, name: str, rid: int, ou: str = "CN=Users", uac: int = 512, **attrs) -> dict:
        base = {
            "samaccountname": name,
            "objectsid": f"{DOMAIN_SID}-{rid}",
            "useraccountcontrol": uac,
            "pwdlastset": RECENT,
            "lastlogontimestamp": RECENT,
            "primarygroupid": 513,
            "msds-supportedencryptiontypes": 24,
        }
        base.update(attrs)
        return self.add(f"CN={name},{ou},{BASE}", ["person", "user"], **base)

    def group(
        self, name: str, sid: str, members: list[str] | None = None, ou: str = "CN=Users"
    ) -> dict:
        return self.add(
            f"CN={name},{ou},{BASE}",
            ["group"],
            samaccountname=name,
            objectsid=sid,
            member=members or [],
        )


def clean() -> Builder:
    b = Builder()
    b.add(
        BASE,
        ["domain", "domainDNS"],
        objectsid=DOMAIN_SID,
        **{
            "msDS-Behavior-Version": 7,
            "ms-DS-MachineAccountQuota": 0,
            "minPwdLength": 14,
            "pwdProperties": 1,
            "msDS-ExpirePasswordsOnSmartCardOnlyAccounts": "TRUE",
            "gPLink": f"[LDAP://CN={{31B2F340-016D-11D2-945F-00C04FB984F9}},CN=Policies,CN=System,{BASE};0]",
        },
    )
    b.add(f"CN=System,{BASE}", ["container"])
    b.add(f"CN=AdminSDHolder,CN=System,{BASE}", ["container"])
    b.add(
        f"CN={{31B2F340-016D-11D2-945F-00C04FB984F9}},CN=Policies,CN=System,{BASE}",
        ["groupPolicyContainer"],
    )
    b.add(f"CN=MicrosoftDNS,CN=System,{BASE}", ["container"])
    b.add(f"CN=BCKUPKEY_abc Secret,CN=System,{BASE}", ["secret"])
    b.add(
        f"CN=DFSR-GlobalSettings,CN=System,{BASE}",
        ["msDFSR-GlobalSettings"],
        **{"msDFSR-Flags": 48},
    )
    b.add(f"CN=ActiveDirectoryUpdate,CN=DomainUpdates,CN=System,{BASE}", ["container"], revision=16)
    b.add(f"OU=Domain Controllers,{BASE}", ["organizationalUnit"])
    b.add(f"OU=Admins,{BASE}", ["organizationalUnit"])
    admin_dn = f"CN=Administrator,CN=Users,{BASE}"
    alice_dn = f"CN=adm_alice,OU=Admins,{BASE}"
    dc_dn = f"CN=DC1,OU=Domain Controllers,{BASE}"
    b.user("Administrator", 500, admincount=1, **{"msDS-AssignedAuthNPolicySilo": "CN=Silo"})
    b.user(
        "adm_alice",
        1101,
        ou="OU=Admins",
        admincount=1,
        **{"msDS-AssignedAuthNPolicySilo": "CN=Silo"},
    )
    b.user("Guest", 501, uac=512 | 2)
    b.user("krbtgt", 502, uac=512 | 2, admincount=1)
    for i in range(8):
        b.user(f"user{i}", 1200 + i)
    b.add(
        dc_dn,
        ["person", "user", "computer"],
        samaccountname="DC1$",
        objectsid=f"{DOMAIN_SID}-1000",
        useraccountcontrol=0x2000 | 0x80000,
        primarygroupid=516,
        pwdlastset=RECENT,
        lastlogontimestamp=RECENT,
        operatingsystem="Windows Server 2022 Standard",
        dnshostname="dc1.hop.test",
        **{"msDS-SupportedEncryptionTypes": 24},
    )
    b.add(
        f"CN=SRV1,CN=Computers,{BASE}",
        ["person", "user", "computer"],
        samaccountname="SRV1$",
        objectsid=f"{DOMAIN_SID}-1300",
        useraccountcontrol=0x1000,
        primarygroupid=515,
        pwdlastset=RECENT,
        lastlogontimestamp=RECENT,
        dnshostname="srv1.hop.test",
        operatingsystem="Windows Server 2022 Standard",
    )
    b.group("Domain Admins", DA, [alice_dn, admin_dn])
    b.group("Enterprise Admins", f"{DOMAIN_SID}-519", [admin_dn])
    b.group("Schema Admins", f"{DOMAIN_SID}-518")
    b.group("Domain Controllers", f"{DOMAIN_SID}-516")
    b.group("Domain Users", f"{DOMAIN_SID}-513")
    b.group("Domain Computers", f"{DOMAIN_SID}-515")
    b.group("Cert Publishers", f"{DOMAIN_SID}-517")
    b.group("Group Policy Creator Owners", f"{DOMAIN_SID}-520")
    b.group("Read-only Domain Controllers", f"{DOMAIN_SID}-521")
    b.group("Protected Users", f"{DOMAIN_SID}-525", [alice_dn, admin_dn])
    b.group("Allowed RODC Password Replication Group", f"{DOMAIN_SID}-571")
    b.group(
        "Denied RODC Password Replication Group",
        f"{DOMAIN_SID}-572",
        [
            f"CN={n},CN=Users,{BASE}"
            for n in (
                "Domain Admins",
                "Enterprise Admins",
                "Schema Admins",
                "Domain Controllers",
                "Cert Publishers",
                "Group Policy Creator Owners",
                "Read-only Domain Controllers",
                "krbtgt",
            )
        ],
    )
    b.group("DnsAdmins", f"{DOMAIN_SID}-1102")
    b.group("Helpdesk", f"{DOMAIN_SID}-1103", [f"CN=user0,CN=Users,{BASE}"])
    b.group(
        "Administrators", "S-1-5-32-544", [f"CN=Domain Admins,CN=Users,{BASE}"], ou="CN=Builtin"
    )
    b.group(
        "Pre-Windows 2000 Compatible Access",
        "S-1-5-32-554",
        [f"CN=S-1-5-11,CN=ForeignSecurityPrincipals,{BASE}"],
        ou="CN=Builtin",
    )
    # Configuration partition.
    b.add(CONFIG, ["configuration"])
    b.add(f"CN=Partitions,{CONFIG}", ["crossRefContainer"], **{"msDS-Behavior-Version": 7})
    b.add(f"CN=Directory Service,CN=Windows NT,CN=Services,{CONFIG}", ["nTDSService"])
    b.add(PKI, ["container"])
    b.add(
        f"CN=CA1,CN=Enrollment Services,{PKI}",
        ["pKIEnrollmentService"],
        certificatetemplates=["User"],
    )
    b.add(
        f"CN=User,CN=Certificate Templates,{PKI}",
        ["pKICertificateTemplate"],
        cn="User",
        **{
            "msPKI-Certificate-Name-Flag": 0,
            "msPKI-Enrollment-Flag": 0,
            "pKIExtendedKeyUsage": ["1.3.6.1.5.5.7.3.2"],
        },
    )
    b.add(
        f"CN=Master Root Key,CN=Master Root Keys,CN=Group Key Distribution Service,"
        f"CN=Services,{CONFIG}",
        ["msKds-ProvRootKey"],
    )
    b.add(
        f"CN=user-Display,CN=409,CN=DisplaySpecifiers,{CONFIG}",
        ["displaySpecifier"],
        admincontextmenu=["1,Ouvrir,\\\\hop.test\\netlogon\\tool.exe"],
    )
    b.add(SCHEMA, ["dMD"])
    b.add(f"CN=User,{SCHEMA}", ["classSchema"])
    zone = (
        "b64:"
        + __import__("base64")
        .b64encode(__import__("struct").pack("<IIIII", 1, 0, 0, 1, 2) + b"\x02")
        .decode()
    )
    b.add(
        f"DC=hop.test,CN=MicrosoftDNS,DC=DomainDnsZones,{BASE}",
        ["dnsZone"],
        name="hop.test",
        dnsproperty=[zone],
    )
    b.add(f"DC=DomainDnsZones,{BASE}", ["domainDNS"])
    return b


def find(b: Builder, dn_start: str) -> dict:
    """The object whose DN starts with ``dn_start`` (case-insensitive)."""
    for o in b.dump.objects:
        if o["dn"].lower().startswith(dn_start.lower()):
            return o
    raise KeyError(dn_start)


def set_acl(b: Builder, dn_start: str, *aces: sd.Ace, owner: str = DA) -> None:
    find(b, dn_start)["sd"] = b.dump.add_descriptor(descriptor(list(aces), owner=owner))


def clone(b: Builder) -> Builder:
    return copy.deepcopy(b)
