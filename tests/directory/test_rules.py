"""One synthetic test per control point: the clean domain passes it, a planted weakness fails it."""

from __future__ import annotations

import base64
import datetime as dt
import struct

import pytest

from careops.directory.engine import analyze, sd
from careops.directory.engine.analysis import catalogue
from careops.directory.engine.rules import CHECKS
from tests.directory.synthetic import (
    BASE,
    CONFIG,
    DA,
    DOMAIN_SID,
    NOW,
    PKI,
    SCHEMA,
    Builder,
    clean,
    filetime,
    find,
    gentime,
    set_acl,
)

OLD = filetime(NOW - dt.timedelta(days=4000))
DU = f"{DOMAIN_SID}-513"
HELPDESK = f"{DOMAIN_SID}-1103"
GA = sd.GENERIC_ALL


def attr(b: Builder, dn_start: str, **values) -> None:
    obj = find(b, dn_start)
    for key, value in values.items():
        obj["a"][key.lower().replace("_", "-")] = value if isinstance(value, list) else [str(value)]


def add_member(b: Builder, group: str, dn: str) -> None:
    find(b, f"CN={group}")["a"].setdefault("member", []).append(dn)


ALICE = f"CN=adm_alice,OU=Admins,{BASE}"


def many_admins(b):
    for i in range(51):
        b.user(
            f"adm{i}",
            3000 + i,
            ou="OU=Admins",
            admincount=1,
            **{"msDS-AssignedAuthNPolicySilo": "CN=Silo"},
        )
        add_member(b, "Domain Admins", f"CN=adm{i},OU=Admins,{BASE}")
        add_member(b, "Protected Users", f"CN=adm{i},OU=Admins,{BASE}")


def rsa_cert(bits: int, hash_name: str = "sha256") -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(65537, bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, getattr(hashes, hash_name.upper())())
    )
    return "b64:" + base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def zone(mode: int) -> str:
    return "b64:" + base64.b64encode(struct.pack("<IIIII", 1, 0, 0, 1, 2) + bytes([mode])).decode()


def rodc(b: Builder, **attrs) -> None:
    b.add(
        f"CN=RODC1,OU=Domain Controllers,{BASE}",
        ["user", "computer"],
        samaccountname="RODC1$",
        objectsid=f"{DOMAIN_SID}-1400",
        useraccountcontrol=0x1000 | 0x4000000,
        primarygroupid=521,
        pwdlastset=filetime(NOW),
        lastlogontimestamp=filetime(NOW),
        **{
            "msDS-SupportedEncryptionTypes": 24,
            "msDS-NeverRevealGroup": [f"<SID=S-1-5-32-{r}>" for r in (544, 548, 549, 551)]
            + [f"CN=Denied RODC Password Replication Group,CN=Users,{BASE}"],
            **attrs,
        },
    )


def trust(b: Builder, direction: int, attributes: int, trust_type: int = 2) -> None:
    b.add(
        f"CN=other.test,CN=System,{BASE}",
        ["trustedDomain"],
        trustdirection=direction,
        trustattributes=attributes,
        trusttype=trust_type,
    )


def dormant(b):
    for o in b.dump.objects:
        if o["dn"].startswith("CN=user"):
            o["a"]["lastlogontimestamp"] = [OLD]
            o["a"]["pwdlastset"] = [OLD]


def template_esc1(b):
    attr(b, "CN=User,CN=Certificate Templates", **{"msPKI-Certificate-Name-Flag": 1})
    set_acl(
        b,
        "CN=User,CN=Certificate Templates",
        sd.Ace(True, 0, sd.DS_CONTROL_ACCESS, DU, "0e10c968-78fb-11d2-90d4-00c04f79dc55"),
    )


# check → (plant the weakness, failing point ids)
PLANTS = {
    "adcs_control": (
        lambda b: set_acl(b, PKI, sd.Ace(True, 0, sd.WRITE_DAC, DU)),
        {"vuln_adcs_control-l1"},
    ),
    "adcs_template_control": (
        lambda b: set_acl(b, "CN=User,CN=Certificate", sd.Ace(True, 0, sd.WRITE_OWNER, HELPDESK)),
        {"vuln_adcs_template_control-l1", "vuln_adcs_template_control-l2"},
    ),
    "adcs_template_auth_enroll_with_name": (
        template_esc1,
        {"vuln_adcs_template_auth_enroll_with_name-l1"},
    ),
    "certificates_vuln": (
        lambda b: attr(b, "CN=CA1,", cacertificate=[rsa_cert(1024)]),
        {"vuln_certificates_vuln-l3"},
    ),
    "critical_objects": (
        lambda b: find(b, "CN=AdminSDHolder").update(sd=None),
        {"vuln_critical_objects-l1"},
    ),
    "dc_inconsistent_uac": (
        lambda b: attr(b, "CN=DC1,", primarygroupid=515),
        {"vuln_dc_inconsistent_uac-l1"},
    ),
    "dc_obsolete": (
        lambda b: attr(b, "CN=DC1,", operatingsystem="Windows Server 2008 R2"),
        {"vuln_dc_obsolete-l1"},
    ),
    "delegation_a2d2": (
        lambda b: attr(b, "CN=SRV1,", **{"msDS-AllowedToDelegateTo": ["cifs/dc1.hop.test"]}),
        {"vuln_delegation_a2d2-l1"},
    ),
    "delegation_sourcedeleg": (
        lambda b: attr(
            b,
            "CN=DC1,",
            **{
                "msDS-AllowedToActOnBehalfOfOtherIdentity": [
                    "sd:" + b.dump.add_descriptor(sd.build(DA, DA, [sd.Ace(True, 0, GA, DU)]))
                ]
            },
        ),
        {"vuln_delegation_sourcedeleg-l1"},
    ),
    "delegation_t2a4d": (
        lambda b: attr(
            b,
            "CN=SRV1,",
            useraccountcontrol=0x1000 | 0x1000000,
            **{"msDS-AllowedToDelegateTo": ["ldap/DC1"]},
        ),
        {"vuln_delegation_t2a4d-l1"},
    ),
    "delegation_t4d": (
        lambda b: attr(b, "CN=SRV1,", useraccountcontrol=0x1000 | 0x80000),
        {"vuln_delegation_t4d-l1"},
    ),
    "display_specifier": (
        lambda b: attr(
            b, "CN=user-Display", admincontextmenu=["1,Outil,\\\\srv1\\partage\\outil.exe"]
        ),
        {"vuln_display_specifier-l1"},
    ),
    "dnsadmins": (
        lambda b: add_member(b, "DnsAdmins", f"CN=user1,CN=Users,{BASE}"),
        {"vuln_dnsadmins-l1"},
    ),
    "dnszone_bad_prop": (
        lambda b: attr(b, "DC=hop.test,CN=MicrosoftDNS", dnsproperty=[zone(1)]),
        {"vuln_dnszone_bad_prop-l1", "vuln_dnszone_bad_prop-l3"},
    ),
    "dont_expire_priv": (
        lambda b: attr(b, "CN=adm_alice", useraccountcontrol=512 | 0x10000),
        {"vuln_dont_expire_priv-l1"},
    ),
    "dsheuristics_bad": (
        lambda b: attr(b, "CN=Directory Service", dsheuristics="0000002"),
        {"vuln_dsheuristics_bad-l2"},
    ),
    "functional_level": (
        lambda b: attr(b, "CN=Partitions", **{"msDS-Behavior-Version": 3}),
        {"vuln_functional_level-l1", "vuln_functional_level-l3", "vuln_functional_level-l4"},
    ),
    "group_loop": (
        lambda b: (
            b.group("Loop1", f"{DOMAIN_SID}-1500", [f"CN=Loop2,CN=Users,{BASE}"]),
            b.group("Loop2", f"{DOMAIN_SID}-1501", [f"CN=Loop1,CN=Users,{BASE}"]),
        ),
        {"vuln_group_loop-l4"},
    ),
    "kerberos_properties_preauth_priv": (
        lambda b: attr(b, "CN=adm_alice", useraccountcontrol=512 | 0x400000),
        {"vuln_kerberos_properties_preauth_priv-l1", "vuln_kerberos_properties_preauth-l2"},
    ),
    "password_change_dc_no_change": (
        lambda b: attr(b, "CN=DC1,", pwdlastset=OLD),
        {"vuln_password_change_dc_no_change-l1"},
    ),
    "password_change_inactive_dc": (
        lambda b: attr(b, "CN=DC1,", lastlogontimestamp=OLD),
        {"vuln_password_change_inactive_dc-l1"},
    ),
    "password_change_priv": (
        lambda b: attr(b, "CN=adm_alice", pwdlastset=OLD),
        {"vuln_password_change_priv-l1"},
    ),
    "permissions_adminsdholder": (
        lambda b: set_acl(b, "CN=AdminSDHolder", sd.Ace(True, 0, GA, "S-1-5-11")),
        {"vuln_permissions_adminsdholder-l1", "vuln_permissions_adminsdholder-l2"},
    ),
    "permissions_dc": (
        lambda b: set_acl(b, "CN=DC1,", sd.Ace(True, 0, sd.WRITE_DAC, HELPDESK)),
        {"vuln_permissions_dc-l2"},
    ),
    "permissions_dfsr_sysvol": (
        lambda b: set_acl(b, "CN=DFSR-GlobalSettings", sd.Ace(True, 0, GA, HELPDESK)),
        {"vuln_permissions_dfsr_sysvol-l2"},
    ),
    "permissions_dpapi": (
        lambda b: set_acl(b, "CN=BCKUPKEY", sd.Ace(True, 0, GA, "S-1-1-0")),
        {"vuln_permissions_dpapi-l1", "vuln_permissions_dpapi-l2"},
    ),
    "permissions_gmsa_keys": (
        lambda b: set_acl(b, "CN=Master Root Key", sd.Ace(True, 0, GA, HELPDESK)),
        {"vuln_permissions_gmsa_keys-l2"},
    ),
    "permissions_gpo_container_priv": (
        lambda b: set_acl(
            b,
            "OU=Admins",
            sd.Ace(True, 0, sd.DS_WRITE_PROPERTY, HELPDESK, "f30e3bbe-9ff0-11d1-b603-0000f80367c1"),
        ),
        {"vuln_permissions_gpo_container_priv-l2"},
    ),
    "permissions_gpo_priv": (
        lambda b: set_acl(b, "CN={31B2F340", sd.Ace(True, 0, GA, HELPDESK)),
        {"vuln_permissions_gpo_priv-l1"},
    ),
    "permissions_msdns": (
        lambda b: set_acl(
            b, "CN=MicrosoftDNS,CN=System", sd.Ace(True, 0, sd.GENERIC_WRITE, HELPDESK)
        ),
        {"vuln_permissions_msdns-l1"},
    ),
    "permissions_naming_context": (
        lambda b: set_acl(
            b,
            BASE,
            sd.Ace(True, 0, sd.DS_CONTROL_ACCESS, HELPDESK, "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"),
        ),
        {"vuln_permissions_naming_context-l2"},
    ),
    "permissions_schema": (
        lambda b: set_acl(b, f"CN=User,{SCHEMA}", sd.Ace(True, 0, GA, "S-1-5-11")),
        {"vuln_permissions_schema-l1", "vuln_permissions_schema-l2"},
    ),
    "primary_group_id_1000": (
        lambda b: attr(b, "CN=user1,", primarygroupid=512),
        {"vuln_primary_group_id_1000-l1", "vuln_primary_group_id_nochange-l3"},
    ),
    "privileged_members": (
        many_admins,
        {"vuln_privileged_members-l1", "vuln_privileged_members-l2"},
    ),
    "privileged_members_perm": (
        lambda b: set_acl(
            b,
            "CN=adm_alice",
            sd.Ace(True, 0, sd.DS_CONTROL_ACCESS, HELPDESK, "00299570-246d-11d0-a768-00aa006e0529"),
        ),
        {"vuln_privileged_members_perm-l2"},
    ),
    "spn_priv": (
        lambda b: attr(b, "CN=adm_alice", serviceprincipalname=["HTTP/web.hop.test"]),
        {"vuln_spn_priv-l1"},
    ),
    "trusts_domain_notfiltered": (lambda b: trust(b, 2, 0), {"vuln_trusts_domain_notfiltered-l1"}),
    "trusts_forest_sidhistory": (
        lambda b: trust(b, 2, 0x8 | 0x40),
        {"vuln_trusts_forest_sidhistory-l1"},
    ),
    "user_accounts_dormant": (dormant, {"vuln_user_accounts_dormant-l1"}),
    "adupdate_bad": (
        lambda b: attr(b, "CN=ActiveDirectoryUpdate", revision=15),
        {"vuln_adupdate_bad-l2"},
    ),
    "compatible_2000_anonymous": (
        lambda b: add_member(b, "Pre-Windows 2000", "<SID=S-1-5-7>"),
        {"vuln_compatible_2000_anonymous-l2", "vuln_compatible_2000_not_default-l3"},
    ),
    "dc_crypto": (
        lambda b: attr(b, "CN=DC1,", **{"msDS-SupportedEncryptionTypes": 7}),
        {"vuln_dc_crypto-l2", "vuln_dc_crypto-l3", "vuln_dc_crypto-l4"},
    ),
    "dont_expire": (
        lambda b: [attr(b, f"CN=user{i},", useraccountcontrol=512 | 0x10000) for i in range(3)],
        {"vuln_dont_expire-l2"},
    ),
    "guest": (lambda b: attr(b, "CN=Guest", useraccountcontrol=512), {"vuln_guest-l2"}),
    "kerberos_properties_deskey": (
        lambda b: attr(b, "CN=user1,", useraccountcontrol=512 | 0x200000),
        {"vuln_kerberos_properties_deskey-l2"},
    ),
    "kerberos_properties_preauth": (
        lambda b: attr(b, "CN=user1,", useraccountcontrol=512 | 0x400000),
        {"vuln_kerberos_properties_preauth-l2"},
    ),
    "krbtgt": (
        lambda b: attr(b, "CN=krbtgt", pwdlastset=filetime(NOW - dt.timedelta(days=400))),
        {"vuln_krbtgt-l2"},
    ),
    "password_change_server_no_change_90": (
        lambda b: attr(b, "CN=SRV1,", pwdlastset=filetime(NOW - dt.timedelta(days=100))),
        {
            "vuln_password_change_server_no_change_90-l2",
            "vuln_password_change_server_no_change_45-l3",
        },
    ),
    "password_change_cluster_no_change_3years": (
        lambda b: attr(
            b,
            "CN=SRV1,",
            pwdlastset=OLD,
            lastlogontimestamp=OLD,
            operatingsystem="",
            serviceprincipalname=["MSClusterVirtualServer/SRV1"],
        ),
        {"vuln_password_change_cluster_no_change_3years-l2"},
    ),
    "password_change_msa_no_change_90": (
        lambda b: b.add(
            f"CN=gmsa1,CN=Managed Service Accounts,{BASE}",
            ["user", "computer", "msDS-GroupManagedServiceAccount"],
            samaccountname="gmsa1$",
            objectsid=f"{DOMAIN_SID}-1600",
            useraccountcontrol=0x1000,
            primarygroupid=515,
            pwdlastset=filetime(NOW - dt.timedelta(days=120)),
            lastlogontimestamp=filetime(NOW),
        ),
        {"vuln_password_change_msa_no_change_90-l2"},
    ),
    "privileged_members_no_admincount": (
        lambda b: attr(b, "CN=adm_alice", admincount=0),
        {"vuln_privileged_members_no_admincount-l2"},
    ),
    "privileged_members_password": (
        lambda b: attr(b, BASE, minpwdlength=6),
        {"vuln_privileged_members_password-l2"},
    ),
    "rodc_priv_revealed": (
        lambda b: rodc(b, **{"msDS-RevealedUsers": [f"B:8:01000000:{ALICE}"]}),
        {"vuln_rodc_priv_revealed-l2"},
    ),
    "sidhistory_dangerous": (
        lambda b: attr(b, "CN=user1,", sidhistory=["S-1-5-21-9-9-9-512"]),
        {"vuln_sidhistory_dangerous-l2", "vuln_sidhistory_present-l3"},
    ),
    "sysvol_ntfrs": (
        lambda b: (
            b.add(
                f"CN=Domain System Volume (SYSVOL share),CN=File "
                f"Replication Service,CN=System,{BASE}",
                ["nTFRSReplicaSet"],
            ),
            attr(b, "CN=DFSR-GlobalSettings", **{"msDFSR-Flags": 0}),
        ),
        {"vuln_sysvol_ntfrs-l2"},
    ),
    "trusts_accounts": (
        lambda b: b.user("OTHER$", 1700, uac=0x800, pwdlastset=OLD),
        {"vuln_trusts_accounts-l2"},
    ),
    "compatible_2000_not_default": (
        lambda b: add_member(b, "Pre-Windows 2000", f"CN=user1,CN=Users,{BASE}"),
        {"vuln_compatible_2000_not_default-l3"},
    ),
    "kerberos_properties_encryption": (
        lambda b: attr(
            b,
            "CN=user2,",
            serviceprincipalname=["HTTP/app"],
            **{"msDS-SupportedEncryptionTypes": 4},
        ),
        {"vuln_kerberos_properties_encryption-l3"},
    ),
    "owner": (lambda b: set_acl(b, "CN=SRV1,", owner=f"{DOMAIN_SID}-1201"), {"vuln_owner-l3"}),
    "password_change_inactive_servers": (
        lambda b: attr(b, "CN=SRV1,", lastlogontimestamp=filetime(NOW - dt.timedelta(days=100))),
        {"vuln_password_change_inactive_servers-l3"},
    ),
    "password_change_server_no_change_45": (
        lambda b: attr(b, "CN=SRV1,", pwdlastset=filetime(NOW - dt.timedelta(days=60))),
        {"vuln_password_change_server_no_change_45-l3"},
    ),
    "primary_group_id_nochange": (
        lambda b: attr(b, "CN=user1,", primarygroupid=1103),
        {"vuln_primary_group_id_nochange-l3"},
    ),
    "protected_users": (
        lambda b: find(b, "CN=Protected Users")["a"].update(member=[]),
        {"vuln_protected_users-l3"},
    ),
    "reversible_password_priv_uac": (
        lambda b: attr(b, "CN=adm_alice", useraccountcontrol=512 | 0x80),
        {"vuln_reversible_password_priv_uac-l3"},
    ),
    "reversible_password_priv_namingcontext": (
        lambda b: attr(b, BASE, pwdproperties=0x11),
        {"vuln_reversible_password_priv_namingcontext-l3"},
    ),
    "rodc_never_reveal": (
        lambda b: (rodc(b), attr(b, "CN=RODC1", **{"msDS-NeverRevealGroup": []})),
        {"vuln_rodc_never_reveal-l3"},
    ),
    "rodc_reveal": (
        lambda b: rodc(b, **{"msDS-RevealOnDemandGroup": [ALICE]}),
        {"vuln_rodc_reveal-l3"},
    ),
    "rodc_allowed_group": (
        lambda b: add_member(b, "Allowed RODC", f"CN=user1,CN=Users,{BASE}"),
        {"vuln_rodc_allowed_group-l3"},
    ),
    "rodc_denied_group": (
        lambda b: find(b, "CN=Denied RODC")["a"].update(member=[]),
        {"vuln_rodc_denied_group-l3"},
    ),
    "rodc_orphan_krbtgt": (
        lambda b: b.user("krbtgt_12345", 1800, uac=514),
        {"vuln_rodc_orphan_krbtgt-l3"},
    ),
    "sd_failed_sd_read_on_priv": (
        lambda b: find(b, "CN=adm_alice")["a"] and find(b, "CN=adm_alice").update(sd=None),
        {"vuln_sd_failed_sd_read_on_priv-l3"},
    ),
    "sidhistory_present": (
        lambda b: attr(b, "CN=user1,", sidhistory=["S-1-5-21-9-9-9-1500"]),
        {"vuln_sidhistory_present-l3"},
    ),
    "trusts_tgt_deleg": (lambda b: trust(b, 1, 0x8 | 0x800), {"vuln_trusts_tgt_deleg-l3"}),
    "silo_priv": (
        lambda b: attr(b, "CN=adm_alice", **{"msDS-AssignedAuthNPolicySilo": []}),
        {"vuln_silo_priv-l4"},
    ),
    "smartcard_expire_passwords": (
        lambda b: attr(b, BASE, **{"msDS-ExpirePasswordsOnSmartCardOnlyAccounts": "FALSE"}),
        {"vuln_smartcard_expire_passwords-l4"},
    ),
    "user_accounts_machineaccountquota": (
        lambda b: attr(b, BASE, **{"ms-DS-MachineAccountQuota": 10}),
        {"vuln_user_accounts_machineaccountquota-l4"},
    ),
}


def failing(b: Builder) -> set[str]:
    return {p.id for p in analyze(b.dump, NOW).points if p.status == "fail"}


def test_every_check_has_a_synthetic_test():
    assert set(PLANTS) == set(CHECKS) == set(catalogue())


def test_clean_domain_passes_every_point_and_is_level_5():
    result = analyze(clean().dump, NOW)
    assert [p.id for p in result.points if p.status != "pass"] == []
    assert result.level == 5 and result.level_complete
    assert len(result.points) == 95


@pytest.mark.parametrize("check", sorted(PLANTS))
def test_planted_weakness_fails_its_point(check):
    plant, expected = PLANTS[check]
    b = clean()
    plant(b)
    got = failing(b)
    # Partial descriptors make ACL points "partial", never hide a failure.
    assert expected <= got, got
    assert {p for p in got if p.startswith(f"vuln_{check}-")} == {
        p for p in expected if p.startswith(f"vuln_{check}-")
    }
    others = got - expected
    # A planted weakness may legitimately trip a few related points, but never unrelated ones.
    assert len(others) <= 3, others


def test_level_is_lowest_failing_level():
    b = clean()
    attr(b, "CN=Guest", useraccountcontrol=512)  # level 2 point
    attr(b, BASE, **{"ms-DS-MachineAccountQuota": 10})  # level 4 point
    result = analyze(b.dump, NOW)
    assert result.level == 2
    assert result.next_level == {"target": 3, "to_fix": ["vuln_guest-l2"]}


def test_now_is_a_parameter_not_the_clock():
    b = clean()
    later = NOW + dt.timedelta(days=500)
    assert "vuln_krbtgt-l2" not in failing(b)
    assert "vuln_krbtgt-l2" in {p.id for p in analyze(b.dump, later).points if p.status == "fail"}


def test_gentime_helper_roundtrip():
    assert gentime(NOW).startswith("20261129")


def test_dump_without_configuration_marks_points_not_evaluated():
    b = clean()
    b.dump.objects = [o for o in b.dump.objects if CONFIG.lower() not in o["dn"].lower()]
    result = analyze(b.dump, NOW)
    status = {p.id: p.status for p in result.points}
    assert status["vuln_adcs_control-l1"] == "not_evaluated"
    assert status["vuln_dsheuristics_bad-l1"] == "not_evaluated"
    assert not result.level_complete
