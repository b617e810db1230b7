"""The ANSSI control points as pure functions over a :class:`Directory`.

Each check returns ``{level: [failing objects]}`` for the levels it evaluates (an empty list means
the point passes at that level) or raises :class:`NotEvaluable` when the dump lacks the data.
Titles, recommendations and thresholds come from ``points.yaml``.
"""

from __future__ import annotations

import base64
import datetime as dt
import struct
from collections.abc import Callable
from typing import Any

import networkx as nx

from careops.directory.engine import acl
from careops.directory.engine.model import (
    UAC_DONT_EXPIRE,
    UAC_DONT_REQ_PREAUTH,
    UAC_ENCRYPTED_TEXT_PWD,
    UAC_INTERDOMAIN_TRUST,
    UAC_PARTIAL_SECRETS,
    UAC_SERVER_TRUST,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    UAC_USE_DES_KEY_ONLY,
    Directory,
    Entry,
    filetime,
    gentime,
)


class NotEvaluable(Exception):
    """The dump does not hold what a check needs; the message says what (in French)."""


class Context:
    """What every check receives: the directory, the reference time, thresholds."""

    def __init__(self, directory: Directory, now: dt.datetime, params: dict[str, Any]):
        self.d = directory
        self.now = now
        self.params = params

    def older_than(self, when: dt.datetime | None, days: int) -> bool:
        """True when ``when`` is unknown (never set) or more than ``days`` before now."""
        return when is None or (self.now - when).days > days


CheckResult = dict[int, list[dict[str, Any]]]
CHECKS: dict[str, Callable[[Context, dict[str, Any]], CheckResult]] = {}


def check(name: str):
    def register(func):
        CHECKS[name] = func
        return func

    return register


def obj(entry: Entry, detail: str = "") -> dict[str, Any]:
    out = {"dn": entry.dn, "name": entry.name}
    if detail:
        out["detail"] = detail
    return out


def _date(value: dt.datetime | None) -> str:
    return value.date().isoformat() if value else "jamais"


def dangerous_aces(
    ctx: Context, entry: Entry, allowed: frozenset[str] = frozenset()
) -> tuple[list[dict], list[dict]]:
    """(ACEs usable by anyone, ACEs held by any non-privileged principal) on one object."""
    d = ctx.d
    if not entry.sd_key:
        return [], []
    desc = d.descriptor(entry.sd_key)
    if desc is None:
        return [], []
    broad, any_ = [], []
    for ace in desc.dacl:
        if d.is_trusted(ace.trustee) or ace.trustee in allowed:
            continue
        rights = acl.control_rights(ace)
        if not rights:
            continue
        item = {
            "dn": entry.dn,
            "name": entry.name,
            "trustee": d.label(ace.trustee),
            "detail": f"{d.label(ace.trustee)} : {', '.join(rights)}",
        }
        any_.append(item)
        if d.is_broad(ace.trustee):
            broad.append(item)
    return broad, any_


def acl_check(
    ctx: Context, entries: list[Entry], levels=(1, 2), allowed=frozenset()
) -> CheckResult:
    l1: list[dict] = []
    l2: list[dict] = []
    for entry in entries:
        broad, any_ = dangerous_aces(ctx, entry, allowed)
        l1 += broad
        l2 += any_
    out: CheckResult = {}
    if 1 in levels:
        out[1] = l1
    if 2 in levels:
        out[2] = l2
    return out


def _need(entries, what: str):
    if not entries:
        raise NotEvaluable(f"{what} absent de la collecte")
    return entries


# ---- collection completeness -------------------------------------------------------------
@check("critical_objects")
def critical_objects(ctx, p):
    d = ctx.d
    wanted = {
        "AdminSDHolder": d.find_dn("CN=AdminSDHolder,CN=System"),
        "krbtgt": d.entry_for_rid(502),
        "Administrator": d.entry_for_rid(500),
        "Domain Admins": d.entry_for_rid(512),
        "Schema Admins": d.entry_for_rid(518),
        "Enterprise Admins": d.entry_for_rid(519),
    }
    bad = []
    for label, entry in wanted.items():
        if entry is None:
            if label in ("Schema Admins", "Enterprise Admins") and not d.config_dn:
                continue
            bad.append({"dn": "", "name": label, "detail": "objet non collecté"})
        elif not entry.sd_key or d.errors_by_dn.get(entry.key):
            bad.append(obj(entry, "descripteur de sécurité ou attributs illisibles"))
    return {1: bad}


@check("sd_failed_sd_read_on_priv")
def sd_failed(ctx, p):
    d = ctx.d
    return {3: [obj(e, "descripteur illisible") for e in d.privileged_accounts if not e.sd_key]}


# ---- domain controllers --------------------------------------------------------------------
@check("dc_inconsistent_uac")
def dc_inconsistent_uac(ctx, p):
    bad = []
    for c in ctx.d.computers:
        pg, uac = c.int("primarygroupid"), c.uac
        is_dc = bool(uac & UAC_SERVER_TRUST)
        is_rodc = bool(uac & UAC_PARTIAL_SECRETS)
        if pg == 516 and not is_dc:
            bad.append(obj(c, "groupe principal 516 sans SERVER_TRUST_ACCOUNT"))
        elif pg == 521 and not is_rodc:
            bad.append(obj(c, "groupe principal 521 sans PARTIAL_SECRETS_ACCOUNT"))
        elif is_dc and pg not in (516, 0):
            bad.append(obj(c, f"SERVER_TRUST_ACCOUNT avec groupe principal {pg}"))
        elif is_dc and not uac & UAC_TRUSTED_FOR_DELEGATION:
            bad.append(obj(c, "contrôleur de domaine sans TRUSTED_FOR_DELEGATION"))
    return {1: bad}


@check("dc_obsolete")
def dc_obsolete(ctx, p):
    bad = []
    for c in ctx.d.domain_controllers:
        os_name = c.get("operatingsystem") or ""
        if "windows" in os_name.lower() and any(v in os_name for v in p["obsolete_os"]):
            bad.append(obj(c, os_name))
    return {1: bad}


def _stale_passwords(ctx, computers, max_days) -> list:
    """Computers whose machine password is older than ``max_days``."""
    return [
        obj(c, f"mot de passe changé : {_date(filetime(c.get('pwdlastset')))}")
        for c in computers
        if ctx.older_than(filetime(c.get("pwdlastset")), max_days)
    ]


@check("password_change_dc_no_change")
def dc_no_change(ctx, p):
    return {1: _stale_passwords(ctx, ctx.d.domain_controllers, p["max_days"])}


@check("password_change_inactive_dc")
def dc_inactive(ctx, p):
    return {
        1: [
            obj(c, f"dernière connexion : {_date(filetime(c.get('lastlogontimestamp')))}")
            for c in ctx.d.domain_controllers
            if ctx.older_than(filetime(c.get("lastlogontimestamp")), p["max_days"])
        ]
    }


@check("dc_crypto")
def dc_crypto(ctx, p):
    out: CheckResult = {2: [], 3: [], 4: []}
    for c in ctx.d.domain_controllers:
        etypes = c.int("msds-supportedencryptiontypes")
        if etypes & 0x3:
            out[2].append(obj(c, f"DES actif ({etypes})"))
        if not etypes & 0x18:
            out[3].append(obj(c, f"AES absent ({etypes})"))
        if etypes & 0x4 or not etypes:
            out[4].append(obj(c, f"RC4 actif ({etypes})"))
    return out


# ---- delegation ------------------------------------------------------------------------------
def _dc_hosts(d: Directory) -> set[str]:
    hosts = set()
    for c in d.domain_controllers:
        hosts.add((c.get("samaccountname") or "").rstrip("$").lower())
        if c.get("dnshostname"):
            hosts.add(c.get("dnshostname").lower())
    hosts.discard("")
    return hosts


def _delegates_to_dc(d: Directory, entry: Entry, dc_hosts: set[str]) -> list[str]:
    hits = []
    for spn in entry.all("msds-allowedtodelegateto"):
        svc, _, rest = spn.partition("/")
        host = rest.split(":")[0].split("/")[0].lower()
        if host in dc_hosts or svc.lower() == "krbtgt":
            hits.append(spn)
    return hits


@check("delegation_a2d2")
def delegation_a2d2(ctx, p):
    d = ctx.d
    dc_hosts = _dc_hosts(d)
    dcs = {c.key for c in d.domain_controllers}
    return {
        1: [
            obj(e, ", ".join(h))
            for e in d.accounts
            if e.key not in dcs
            and not e.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION
            and (h := _delegates_to_dc(d, e, dc_hosts))
        ]
    }


@check("delegation_t2a4d")
def delegation_t2a4d(ctx, p):
    d = ctx.d
    dc_hosts = _dc_hosts(d)
    dcs = {c.key for c in d.domain_controllers}
    return {
        1: [
            obj(e, ", ".join(h))
            for e in d.accounts
            if e.key not in dcs
            and e.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION
            and (h := _delegates_to_dc(d, e, dc_hosts))
        ]
    }


@check("delegation_t4d")
def delegation_t4d(ctx, p):
    d = ctx.d
    dcs = {c.key for c in d.domain_controllers}
    return {
        1: [
            obj(e, "délégation non contrainte")
            for e in d.accounts
            if e.enabled and e.uac & UAC_TRUSTED_FOR_DELEGATION and e.key not in dcs
        ]
    }


@check("delegation_sourcedeleg")
def delegation_sourcedeleg(ctx, p):
    d = ctx.d
    targets = {e.key for e in d.privileged_accounts} | {c.key for c in d.domain_controllers}
    return {
        1: [
            obj(e, "msDS-AllowedToActOnBehalfOfOtherIdentity renseigné")
            for e in d.accounts
            if e.key in targets and e.get("msds-allowedtoactonbehalfofotheridentity")
        ]
    }


# ---- privileged accounts ---------------------------------------------------------------------
@check("dont_expire_priv")
def dont_expire_priv(ctx, p):
    return {1: [obj(e) for e in ctx.d.privileged_users if e.enabled and e.uac & UAC_DONT_EXPIRE]}


@check("kerberos_properties_preauth_priv")
def preauth_priv(ctx, p):
    return {1: [obj(e) for e in ctx.d.privileged_users if e.uac & UAC_DONT_REQ_PREAUTH]}


@check("password_change_priv")
def password_change_priv(ctx, p):
    return {
        1: [
            obj(e, f"mot de passe changé : {_date(filetime(e.get('pwdlastset')))}")
            for e in ctx.d.privileged_users
            if e.enabled and ctx.older_than(filetime(e.get("pwdlastset")), p["max_days"])
        ]
    }


@check("spn_priv")
def spn_priv(ctx, p):
    return {
        1: [
            obj(e, ", ".join(e.all("serviceprincipalname")))
            for e in ctx.d.privileged_users
            if "computer" not in e.classes and e.rid != 502 and e.all("serviceprincipalname")
        ]
    }


@check("privileged_members")
def privileged_members(ctx, p):
    d = ctx.d
    enabled = [e for e in d.privileged_users if e.enabled]
    limit = p["max_accounts"]
    names = {(e.get("samaccountname") or e.dn).lower() for e in enabled}
    l1 = [obj(e) for e in enabled] if len(names) > limit else []
    l2 = [obj(e) for e in d.privileged_users] if len(d.privileged_users) > limit else []
    return {1: l1, 2: l2}


@check("privileged_members_no_admincount")
def no_admincount(ctx, p):
    return {2: [obj(e) for e in ctx.d.privileged_users if e.int("admincount") != 1]}


@check("privileged_members_password")
def priv_password(ctx, p):
    head = ctx.d.domain_head
    if head is None or head.get("minpwdlength") is None:
        raise NotEvaluable("politique de mot de passe du domaine absente de la collecte")
    length = head.int("minpwdlength")
    if length >= p["min_length"]:
        return {2: []}
    return {
        2: [
            obj(e, f"longueur minimale du domaine : {length}")
            for e in ctx.d.privileged_users
            if e.enabled
        ]
    }


@check("primary_group_id_1000")
def pgid_1000(ctx, p):
    return {
        1: [
            obj(e, f"primaryGroupID {e.int('primarygroupid')}")
            for e in ctx.d.accounts
            if 0 < e.int("primarygroupid") < 1000
            and e.int("primarygroupid") not in (513, 514, 515, 516, 521)
        ]
    }


@check("primary_group_id_nochange")
def pgid_nochange(ctx, p):
    return {
        3: [
            obj(e, f"primaryGroupID {e.int('primarygroupid')}")
            for e in ctx.d.accounts
            if e.get("primarygroupid") and e.int("primarygroupid") not in (513, 514, 515, 516, 521)
        ]
    }


@check("protected_users")
def protected_users(ctx, p):
    d = ctx.d
    if d.entry_for_rid(525) is None:
        raise NotEvaluable("groupe Protected Users absent de la collecte")
    members = d.recursive_members({d.domain_sid_of(525)})
    return {
        3: [
            obj(e)
            for e in d.privileged_users
            if e.enabled and "computer" not in e.classes and e.rid != 502 and e.sid not in members
        ]
    }


@check("reversible_password_priv_uac")
def reversible_priv(ctx, p):
    return {3: [obj(e) for e in ctx.d.privileged_users if e.uac & UAC_ENCRYPTED_TEXT_PWD]}


@check("reversible_password_priv_namingcontext")
def reversible_nc(ctx, p):
    head = ctx.d.domain_head
    if head is None:
        raise NotEvaluable("racine du domaine absente de la collecte")
    return {
        3: [obj(head, "pwdProperties : stockage réversible")]
        if head.int("pwdproperties") & 0x10
        else []
    }


@check("silo_priv")
def silo_priv(ctx, p):
    return {
        4: [
            obj(e)
            for e in ctx.d.privileged_users
            if e.enabled
            and "computer" not in e.classes
            and e.rid != 502
            and not e.get("msds-assignedauthnpolicysilo")
        ]
    }


@check("privileged_members_perm")
def privileged_members_perm(ctx, p):
    d = ctx.d
    entries = [d.by_sid[s] for s in d.privileged_sids if s in d.by_sid]
    return acl_check(ctx, entries)


# ---- accounts --------------------------------------------------------------------------------
def _enabled_users(d: Directory) -> list[Entry]:
    return [e for e in d.users if e.enabled and not e.uac & UAC_INTERDOMAIN_TRUST]


@check("user_accounts_dormant")
def dormant(ctx, p):
    users = _enabled_users(ctx.d)
    days = p["inactive_days"]
    dormant = []
    for e in users:
        last = filetime(e.get("lastlogontimestamp"))
        if last is None:
            created = gentime(e.get("whencreated"))
            stale = created is not None and ctx.older_than(created, days)
        else:
            stale = ctx.older_than(last, days) and ctx.older_than(
                filetime(e.get("pwdlastset")), days
            )
        if stale and e.rid not in (501, 502):
            dormant.append(e)
    if users and len(dormant) / len(users) > p["max_ratio"]:
        return {1: [obj(e) for e in dormant]}
    return {1: []}


@check("dont_expire")
def dont_expire(ctx, p):
    users = _enabled_users(ctx.d)
    bad = [e for e in users if e.uac & UAC_DONT_EXPIRE]
    if users and len(bad) / len(users) > p["max_ratio"]:
        return {2: [obj(e) for e in bad]}
    return {2: []}


@check("guest")
def guest(ctx, p):
    entry = ctx.d.entry_for_rid(501)
    if entry is None:
        raise NotEvaluable("compte Invité absent de la collecte")
    return {2: [obj(entry, "compte activé")] if entry.enabled else []}


@check("kerberos_properties_deskey")
def deskey(ctx, p):
    return {2: [obj(e) for e in ctx.d.accounts if e.enabled and e.uac & UAC_USE_DES_KEY_ONLY]}


@check("kerberos_properties_preauth")
def preauth(ctx, p):
    return {2: [obj(e) for e in ctx.d.accounts if e.enabled and e.uac & UAC_DONT_REQ_PREAUTH]}


@check("kerberos_properties_encryption")
def spn_encryption(ctx, p):
    return {
        3: [
            obj(e, f"msDS-SupportedEncryptionTypes {e.int('msds-supportedencryptiontypes')}")
            for e in ctx.d.users
            if e.enabled
            and e.all("serviceprincipalname")
            and e.rid != 502
            and not e.int("msds-supportedencryptiontypes") & 0x18
        ]
    }


@check("krbtgt")
def krbtgt(ctx, p):
    entry = ctx.d.entry_for_rid(502)
    if entry is None:
        raise NotEvaluable("compte krbtgt absent de la collecte")
    when = filetime(entry.get("pwdlastset"))
    return {
        2: [obj(entry, f"mot de passe changé : {_date(when)}")]
        if ctx.older_than(when, p["max_days"])
        else []
    }


def _servers(d: Directory) -> list[Entry]:
    dcs = {c.key for c in d.domain_controllers}
    return [
        c
        for c in d.computers
        if c.enabled and c.key not in dcs and "server" in (c.get("operatingsystem") or "").lower()
    ]


@check("password_change_server_no_change_90")
def server_90(ctx, p):
    return {2: _stale_passwords(ctx, _servers(ctx.d), p["max_days"])}


@check("password_change_server_no_change_45")
def server_45(ctx, p):
    return {3: _stale_passwords(ctx, _servers(ctx.d), p["max_days"])}


@check("password_change_inactive_servers")
def server_inactive(ctx, p):
    return {
        3: [
            obj(c, f"dernière connexion : {_date(filetime(c.get('lastlogontimestamp')))}")
            for c in _servers(ctx.d)
            if ctx.older_than(filetime(c.get("lastlogontimestamp")), p["max_days"])
        ]
    }


@check("password_change_cluster_no_change_3years")
def cluster(ctx, p):
    return {
        2: [
            obj(c)
            for c in ctx.d.computers
            if c.enabled
            and any(
                s.lower().startswith("msclustervirtualserver/")
                for s in c.all("serviceprincipalname")
            )
            and ctx.older_than(filetime(c.get("pwdlastset")), p["max_days"])
        ]
    }


@check("password_change_msa_no_change_90")
def msa(ctx, p):
    return {
        2: [
            obj(c)
            for c in ctx.d.accounts
            if c.enabled
            and c.classes & {"msds-groupmanagedserviceaccount", "msds-managedserviceaccount"}
            and ctx.older_than(filetime(c.get("pwdlastset")), p["max_days"])
        ]
    }


@check("trusts_accounts")
def trust_accounts(ctx, p):
    return {
        2: [
            obj(e)
            for e in ctx.d.users
            if e.uac & UAC_INTERDOMAIN_TRUST
            and ctx.older_than(filetime(e.get("pwdlastset")), p["max_days"])
        ]
    }


# ---- SID history, groups -----------------------------------------------------------------------
@check("sidhistory_present")
def sidhistory_present(ctx, p):
    return {
        3: [obj(e, ", ".join(e.all("sidhistory"))) for e in ctx.d.entries if e.all("sidhistory")]
    }


@check("sidhistory_dangerous")
def sidhistory_dangerous(ctx, p):
    bad = []
    for e in ctx.d.entries:
        for sid in e.all("sidhistory"):
            rid = sid.rsplit("-", 1)[-1]
            if not sid.startswith("S-1-5-21-") or (rid.isdigit() and int(rid) < 1000):
                bad.append(obj(e, sid))
    return {2: bad}


@check("group_loop")
def group_loop(ctx, p):
    d = ctx.d
    g = nx.DiGraph()
    group_sids = {e.sid for e in d.groups if e.sid}
    for group, members in d.members.items():
        for m in members:
            if m in group_sids:
                g.add_edge(m, group)
    bad = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            bad += [obj(d.by_sid[s], "boucle d'imbrication") for s in sorted(comp) if s in d.by_sid]
    return {4: bad}


def _pre2000(d: Directory) -> set[str]:
    if "S-1-5-32-554" not in d.by_sid:
        raise NotEvaluable("groupe « Accès compatible pré-Windows 2000 » absent de la collecte")
    return d.members.get("S-1-5-32-554", set())


@check("compatible_2000_anonymous")
def pre2000_anonymous(ctx, p):
    members = _pre2000(ctx.d)
    group = ctx.d.by_sid["S-1-5-32-554"]
    bad = sorted(members & {"S-1-5-7", "S-1-1-0"})
    return {2: [obj(group, f"membre {ctx.d.label(s)}") for s in bad]}


@check("compatible_2000_not_default")
def pre2000_not_default(ctx, p):
    d = ctx.d
    members = _pre2000(d)
    group = d.by_sid["S-1-5-32-554"]
    return {3: [obj(group, f"membre {d.label(s)}") for s in sorted(members - {"S-1-5-11"})]}


@check("dnsadmins")
def dnsadmins(ctx, p):
    d = ctx.d
    group = next(
        (g for g in d.groups if (g.get("samaccountname") or "").lower() == "dnsadmins"), None
    )
    if group is None:
        return {1: []}
    members = d.recursive_members({group.sid}) if group.sid else set()
    bad = [
        {"dn": group.dn, "name": group.name, "detail": f"membre non privilégié {d.label(s)}"}
        for s in sorted(members)
        if not d.is_trusted(s) and s in d.by_sid and "group" not in d.by_sid[s].classes
    ]
    bad += acl_check(ctx, [group], levels=(2,))[2]
    return {1: bad}


# ---- domain settings ---------------------------------------------------------------------------
@check("functional_level")
def functional_level(ctx, p):
    d = ctx.d
    partitions = d.by_dn.get(f"cn=partitions,{d.config_dn}") if d.config_dn else None
    source = partitions if partitions and partitions.get("msds-behavior-version") else d.domain_head
    if source is None or source.get("msds-behavior-version") is None:
        raise NotEvaluable("niveau fonctionnel absent de la collecte")
    level = source.int("msds-behavior-version")
    out = {}
    for lvl, key in ((1, "min_l1"), (3, "min_l3"), (4, "min_l4")):
        out[lvl] = [obj(source, f"msDS-Behavior-Version {level}")] if level < p[key] else []
    return out


@check("user_accounts_machineaccountquota")
def machine_quota(ctx, p):
    head = ctx.d.domain_head
    if head is None or head.get("ms-ds-machineaccountquota") is None:
        raise NotEvaluable("ms-DS-MachineAccountQuota absent de la collecte")
    quota = head.int("ms-ds-machineaccountquota")
    return {4: [obj(head, f"quota {quota}")] if quota > p["max_quota"] else []}


@check("smartcard_expire_passwords")
def smartcard(ctx, p):
    head = ctx.d.domain_head
    if head is None:
        raise NotEvaluable("racine du domaine absente de la collecte")
    value = (head.get("msds-expirepasswordsonsmartcardonlyaccounts") or "").upper()
    return {4: [] if value == "TRUE" else [obj(head, "option désactivée")]}


@check("dsheuristics_bad")
def dsheuristics(ctx, p):
    d = ctx.d
    entry = d.by_dn.get(f"cn=directory service,cn=windows nt,cn=services,{d.config_dn}")
    if entry is None:
        raise NotEvaluable("objet CN=Directory Service absent de la collecte")
    value = entry.get("dsheuristics") or ""

    def at(i: int) -> str:
        return value[i] if len(value) > i else "0"

    out: CheckResult = {1: [], 2: [], 3: []}
    if at(7) not in ("0", ""):
        out[1].append(obj(entry, "fAllowAnonNSPI actif (8e caractère)"))
    if at(15) not in ("0", ""):
        out[1].append(obj(entry, "dwAdminSDExMask renseigné (16e caractère)"))
    if at(6) == "2":
        out[2].append(obj(entry, "fLDAPBlockAnonOps = 2 : opérations anonymes permises"))
    if at(20) == "1":
        out[2].append(obj(entry, "contrôle d'unicité des UPN/SPN désactivé (21e caractère)"))
    if len(value) > 28 and at(28) not in ("0", "1"):
        out[3].append(obj(entry, "mode de KB5008383 non appliqué (29e caractère)"))
    return out


@check("adupdate_bad")
def adupdate(ctx, p):
    entry = ctx.d.find_dn("CN=ActiveDirectoryUpdate,CN=DomainUpdates,CN=System")
    if entry is None:
        return {2: []}
    return {2: [obj(entry, "révision 15")] if entry.int("revision") == 15 else []}


@check("sysvol_ntfrs")
def sysvol_ntfrs(ctx, p):
    d = ctx.d
    frs = d.of_class("ntfrsreplicaset")
    dfsr = d.find_dn("CN=DFSR-GlobalSettings,CN=System")
    migrated = dfsr is not None and (dfsr.get("msdfsr-flags") or "") in ("48",)
    return {2: [obj(e, "réplication NTFRS") for e in frs] if frs and not migrated else []}


# ---- trusts ------------------------------------------------------------------------------------
def _trusts(d: Directory) -> list[Entry]:
    return d.of_class("trusteddomain")


@check("trusts_domain_notfiltered")
def trusts_notfiltered(ctx, p):
    return {
        1: [
            obj(t)
            for t in _trusts(ctx.d)
            if t.int("trustdirection") & 2
            and not t.int("trustattributes") & 0x8
            and not t.int("trustattributes") & 0x4
            and t.int("trusttype") == 2
            and not t.int("trustattributes") & 0x20
        ]
    }


@check("trusts_forest_sidhistory")
def trusts_sidhistory(ctx, p):
    return {
        1: [
            obj(t)
            for t in _trusts(ctx.d)
            if t.int("trustdirection") & 2
            and t.int("trustattributes") & 0x8
            and t.int("trustattributes") & 0x40
        ]
    }


@check("trusts_tgt_deleg")
def trusts_tgt(ctx, p):
    return {
        3: [
            obj(t)
            for t in _trusts(ctx.d)
            if t.int("trustdirection") & 1 and t.int("trustattributes") & 0x800
        ]
    }


# ---- RODC ----------------------------------------------------------------------------------------
def _rodcs(d: Directory) -> list[Entry]:
    return [c for c in d.computers if c.uac & UAC_PARTIAL_SECRETS]


def _dn_from_dnbinary(value: str) -> str:
    return value.rsplit(":", 1)[-1] if value.startswith("B:") else value


@check("rodc_priv_revealed")
def rodc_revealed(ctx, p):
    d = ctx.d
    priv = {e.key for e in d.privileged_accounts}
    return {
        2: [
            obj(r, _dn_from_dnbinary(v))
            for r in _rodcs(d)
            for v in r.all("msds-revealedusers")
            if _dn_from_dnbinary(v).lower() in priv
        ]
    }


@check("rodc_reveal")
def rodc_reveal(ctx, p):
    d = ctx.d
    bad = []
    for r in _rodcs(d):
        for v in r.all("msds-revealondemandgroup"):
            sid = d.member_sid(v)
            if sid and sid in d.privileged_sids:
                bad.append(obj(r, v))
    return {3: bad}


@check("rodc_never_reveal")
def rodc_never_reveal(ctx, p):
    d = ctx.d
    wanted = {"S-1-5-32-544", "S-1-5-32-548", "S-1-5-32-549", "S-1-5-32-551", d.domain_sid_of(572)}
    bad = []
    for r in _rodcs(d):
        have = {d.member_sid(v) for v in r.all("msds-neverrevealgroup")}
        missing = wanted - have
        if missing:
            bad.append(obj(r, "manquent : " + ", ".join(sorted(d.label(s) for s in missing))))
    return {3: bad}


@check("rodc_allowed_group")
def rodc_allowed(ctx, p):
    d = ctx.d
    group = d.entry_for_rid(571)
    if group is None:
        raise NotEvaluable("groupe Allowed RODC Password Replication Group absent")
    return {3: [obj(group, f"membre {d.label(s)}") for s in sorted(d.members.get(group.sid, ()))]}


@check("rodc_denied_group")
def rodc_denied(ctx, p):
    d = ctx.d
    group = d.entry_for_rid(572)
    if group is None:
        raise NotEvaluable("groupe Denied RODC Password Replication Group absent")
    wanted = {d.domain_sid_of(r) for r in (512, 516, 517, 518, 519, 520, 521, 502)}
    wanted = {s for s in wanted if s in d.by_sid}
    missing = wanted - d.members.get(group.sid, set())
    return {3: [obj(group, "manque " + d.label(s)) for s in sorted(missing)]}


@check("rodc_orphan_krbtgt")
def rodc_orphan(ctx, p):
    return {
        3: [
            obj(u)
            for u in ctx.d.users
            if (u.get("samaccountname") or "").lower().startswith("krbtgt_")
            and not u.get("msds-krbtgtlinkbl")
        ]
    }


# ---- ACL-based points ------------------------------------------------------------------------------
@check("permissions_adminsdholder")
def perm_adminsdholder(ctx, p):
    entry = ctx.d.find_dn("CN=AdminSDHolder,CN=System")
    return acl_check(ctx, _need([entry] if entry else [], "AdminSDHolder"))


@check("permissions_dc")
def perm_dc(ctx, p):
    return acl_check(ctx, ctx.d.domain_controllers)


@check("permissions_dfsr_sysvol")
def perm_dfsr(ctx, p):
    return acl_check(
        ctx, [e for e in ctx.d.entries if any(c.startswith("msdfsr-") for c in e.classes)]
    )


@check("permissions_dpapi")
def perm_dpapi(ctx, p):
    d = ctx.d
    suffix = f",cn=system,{d.domain_dn}"
    return acl_check(
        ctx, [e for e in d.entries if e.key.startswith("cn=bckupkey_") and e.key.endswith(suffix)]
    )


@check("permissions_gmsa_keys")
def perm_gmsa(ctx, p):
    return acl_check(ctx, ctx.d.of_class("mskds-provrootkey"))


@check("permissions_naming_context")
def perm_nc(ctx, p):
    d = ctx.d
    heads = [d.by_dn.get(k) for k in (d.domain_dn, d.config_dn, d.schema_dn)]
    heads += [d.by_dn.get(k.lower()) for k in d.dump.naming_contexts.get("dns", [])]
    return acl_check(ctx, _need([h for h in heads if h], "racine des contextes de nommage"))


@check("permissions_schema")
def perm_schema(ctx, p):
    d = ctx.d
    suffix = d.schema_dn
    return acl_check(ctx, _need([e for e in d.entries if e.key.endswith(suffix)], "schéma"))


@check("permissions_msdns")
def perm_msdns(ctx, p):
    d = ctx.d
    entries = [e for e in d.entries if e.key.startswith("cn=microsoftdns,")]
    dnsadmins = {
        g.sid for g in d.groups if (g.get("samaccountname") or "").lower() == "dnsadmins" and g.sid
    }
    # DnsAdmins' own rights are the subject of vuln_dnsadmins.
    result = acl_check(ctx, entries, levels=(2,), allowed=frozenset(dnsadmins))
    return {1: result[2]}


def _gpo_targets_priv(d: Directory) -> list[Entry]:
    """Containers whose linked GPOs apply to privileged accounts: domain head, OUs above them."""
    containers: set[str] = {d.domain_dn}
    for e in d.privileged_accounts:
        parts = e.key.split(",")
        for i in range(1, len(parts)):
            parent = ",".join(parts[i:])
            if parent.startswith("ou="):
                containers.add(parent)
    return [d.by_dn[c] for c in containers if c in d.by_dn]


@check("permissions_gpo_priv")
def perm_gpo_priv(ctx, p):
    d = ctx.d
    gpos = []
    for container in _gpo_targets_priv(d):
        for link in container.all("gplink"):
            for part in link.split("["):
                dn = part.split(";")[0].removeprefix("LDAP://").removeprefix("ldap://")
                if dn and dn.lower() in d.by_dn:
                    gpos.append(d.by_dn[dn.lower()])
    unique = {g.key: g for g in gpos}
    result = acl_check(ctx, list(unique.values()), levels=(2,))
    return {1: result[2]}


@check("permissions_gpo_container_priv")
def perm_gpo_container(ctx, p):
    containers = [c for c in _gpo_targets_priv(ctx.d) if c.key != ctx.d.domain_dn]
    return acl_check(ctx, containers, levels=(2,))


@check("owner")
def owner(ctx, p):
    d = ctx.d
    bad = []
    for e in d.entries:
        desc = d.descriptor(e.sd_key)
        if desc is None or not desc.owner or d.is_trusted(desc.owner):
            continue
        created = gentime(e.get("whencreated"))
        if created is not None and (ctx.now - created).days <= p["min_age_days"]:
            continue
        if e.sid and desc.owner == e.sid:
            continue
        bad.append(obj(e, f"propriétaire {d.label(desc.owner)}"))
    return {3: bad}


# ---- PKI ---------------------------------------------------------------------------------------
def _pki_root(d: Directory) -> str:
    if not d.config_dn:
        raise NotEvaluable("partition de configuration absente de la collecte")
    return f"cn=public key services,cn=services,{d.config_dn}"


def _published_templates(d: Directory) -> set[str]:
    names = set()
    for ca in d.of_class("pkienrollmentservice"):
        names |= {n.lower() for n in ca.all("certificatetemplates")}
    return names


@check("adcs_control")
def adcs_control(ctx, p):
    d = ctx.d
    root = _pki_root(d)
    entries = [
        e for e in d.entries if e.key.endswith(root) and "pkicertificatetemplate" not in e.classes
    ]
    result = acl_check(ctx, entries, levels=(2,))
    return {1: result[2]}


@check("adcs_template_control")
def adcs_template_control(ctx, p):
    d = ctx.d
    _pki_root(d)
    templates = d.of_class("pkicertificatetemplate")
    published = _published_templates(d)
    all_bad = acl_check(ctx, templates, levels=(2,))[2]
    pub = [
        b
        for b in all_bad
        if b["name"].lower() in published
        or (d.by_dn[b["dn"].lower()].get("cn") or "").lower() in published
    ]
    return {1: pub, 2: all_bad}


AUTH_EKUS = {"1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.20.2.2", "1.3.6.1.5.2.3.4", "2.5.29.37.0"}


@check("adcs_template_auth_enroll_with_name")
def adcs_esc1(ctx, p):
    d = ctx.d
    _pki_root(d)
    published = _published_templates(d)
    bad = []
    for t in d.of_class("pkicertificatetemplate"):
        if (t.get("cn") or t.name).lower() not in published:
            continue
        if not t.int("mspki-certificate-name-flag") & 1:
            continue
        if t.int("mspki-enrollment-flag") & 0x2 or t.int("mspki-ra-signature") > 0:
            continue
        ekus = set(t.all("pkiextendedkeyusage"))
        if ekus and not ekus & AUTH_EKUS:
            continue
        desc = d.descriptor(t.sd_key)
        for ace in desc.dacl if desc else ():
            if acl.can_enroll(ace) and not d.is_trusted(ace.trustee):
                bad.append(obj(t, f"inscription ouverte à {d.label(ace.trustee)}"))
                break
    return {1: bad}


@check("certificates_vuln")
def certificates(ctx, p):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa, rsa

    d = ctx.d
    out: CheckResult = {1: [], 2: [], 3: []}
    for e in d.entries:
        for attr in ("cacertificate", "usercertificate"):
            for value in e.all(attr):
                if not value.startswith("b64:"):
                    continue
                try:
                    cert = x509.load_der_x509_certificate(base64.b64decode(value[4:]))
                    key = cert.public_key()
                except ValueError:
                    out[2].append(obj(e, f"{attr} illisible"))
                    continue
                if isinstance(key, dsa.DSAPublicKey):
                    out[1].append(obj(e, "clé DSA"))
                elif isinstance(key, rsa.RSAPublicKey):
                    bits, exp = key.key_size, key.public_numbers().e
                    if bits < p["rsa_min_bits_l1"]:
                        out[1].append(obj(e, f"RSA {bits} bits"))
                    elif bits < p["rsa_min_bits_l3"]:
                        out[3].append(obj(e, f"RSA {bits} bits"))
                    if exp < p["min_exponent"]:
                        out[3].append(obj(e, f"exposant {exp}"))
                algo = cert.signature_hash_algorithm
                if algo is not None and algo.name in ("sha1", "md5"):
                    out[3].append(obj(e, f"signature {algo.name.upper()}"))
    return out


# ---- DNS and display specifiers -----------------------------------------------------------------
def _zone_update_mode(values: list[str]) -> int | None:
    for value in values:
        if not value.startswith("b64:"):
            continue
        raw = base64.b64decode(value[4:])
        if len(raw) < 20:
            continue
        length, _name_len, _flag, _version, prop_id = struct.unpack_from("<IIIII", raw, 0)
        if prop_id == 0x02 and length >= 1 and len(raw) > 20:
            return raw[20]
    return None


@check("dnszone_bad_prop")
def dnszone(ctx, p):
    d = ctx.d
    zones = _need(d.of_class("dnszone"), "zones DNS")
    domain = d.dump.domain.lower()
    out: CheckResult = {1: [], 3: []}
    for z in zones:
        name = (z.get("name") or z.get("dc") or "").lower()
        if name in ("rootdnsservers", "..trustanchors") or name.endswith("in-addr.arpa"):
            insecure_levels = (3,)
        elif name in (domain, f"_msdcs.{domain}"):
            insecure_levels = (1, 3)
        else:
            insecure_levels = (3,)
        if _zone_update_mode(z.all("dnsproperty")) == 1:
            for lvl in insecure_levels:
                out[lvl].append(obj(z, "mises à jour dynamiques non sécurisées"))
    return out


@check("display_specifier")
def display_specifier(ctx, p):
    d = ctx.d
    specs = _need(d.of_class("displayspecifier"), "spécificateurs d'affichage")
    bad = []
    for s in specs:
        for attr in ("admincontextmenu", "shellcontextmenu"):
            for v in s.all(attr):
                target = v.split(",")[-1].strip().lower()
                if (
                    target.startswith("\\\\")
                    and "\\sysvol\\" not in target
                    and "\\netlogon\\" not in target
                ):
                    bad.append(obj(s, v))
    return {1: bad}
