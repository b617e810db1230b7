"""Integration: collect a real Samba 4 AD DC over LDAPS/StartTLS and find the planted weaknesses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from careops.directory.engine import analyze, load_dump
from careops.directory.engine.collect import CollectError, collect
from tests.directory import samba_lab

NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
PLANTED = {
    "vuln_spn_priv-l1",  # svc_sql: Domain Admins member with an SPN
    "vuln_dont_expire_priv-l1",  # svc_sql: never-expiring password
    "vuln_delegation_t4d-l1",  # SRV-UNCONS: unconstrained delegation
    "vuln_delegation_t2a4d-l1",  # SRV-T2A4D: protocol transition to ldap/dc1
    "vuln_permissions_adminsdholder-l1",  # Authenticated Users GenericAll
    "vuln_privileged_members_perm-l1",  # Domain Users may write Domain Admins' member
    "vuln_compatible_2000_anonymous-l2",  # Anonymous in Pre-Windows 2000
    "vuln_krbtgt-l2",  # krbtgt password from 2020
    "vuln_guest-l2",  # Guest enabled
    "vuln_kerberos_properties_preauth-l2",  # w_asrep
    "vuln_kerberos_properties_deskey-l2",  # w_des
    "vuln_user_accounts_machineaccountquota-l4",  # Samba default quota 10
}


def failing(result):
    return {p.id: p for p in result.points if p.status == "fail"}


def test_planted_weaknesses_are_found_and_level_is_1(lab_dump):
    assert lab_dump.complete and lab_dump.domain == "care.test"
    assert lab_dump.domain_sid.startswith("S-1-5-21-")
    # Descriptors repeat: far fewer distinct ones than objects.
    assert len(lab_dump.descriptors) < len(lab_dump.objects) / 10
    result = analyze(lab_dump, NOW)
    fails = failing(result)
    assert PLANTED <= set(fails), PLANTED - set(fails)
    assert result.level == 1 and result.level_complete
    names = {o["name"] for o in fails["vuln_spn_priv-l1"].objects}
    assert names == {"svc_sql"}
    assert {o["name"] for o in fails["vuln_delegation_t4d-l1"].objects} == {"SRV-UNCONS$"}
    # Schema Admins is not empty: w_schema counts as privileged.
    assert "w_schema" in {o["name"] for o in fails["vuln_protected_users-l3"].objects}
    # Samba 4.17 cannot pass the 2012 R2 functional level (documented limit).
    assert "vuln_functional_level-l3" in fails
    # Control paths: Domain Users → Domain Admins and Authenticated Users → AdminSDHolder.
    sources = {(p["source"], p["steps"][-1]["rel"]) for p in result.paths}
    assert ("Domain Users", "WriteMember") in sources
    assert ("Utilisateurs authentifiés", "GenericAll") in sources
    assert result.exposed_accounts > 0


def test_starttls_collection(samba_dc, admin_target):
    target = dataclasses.replace(admin_target, url="ldap://127.0.0.1:389")
    dump = collect(target)
    assert dump.complete and len(dump.objects) > 1000


def test_collection_shared_by_connections_equals_one_search(admin_target, lab_dump):
    """The domain split into subtrees over three connections gives exactly the objects, values
    and descriptors of one subtree search per partition on a single connection."""
    import gc

    single = collect(dataclasses.replace(admin_target, parallel=False))
    assert gc.isenabled()  # the collector pause ends with the collection
    by_dn = {o["dn"]: o for o in single.objects}
    shared = {o["dn"]: o for o in lab_dump.objects}
    assert len(single.objects) == len(by_dn) and len(lab_dump.objects) == len(shared)
    assert by_dn.keys() == shared.keys()
    assert all(by_dn[dn]["a"] == shared[dn]["a"] for dn in by_dn)
    assert single.descriptors.keys() == lab_dump.descriptors.keys()
    assert single.complete and lab_dump.complete


def test_ntlm_collection_over_ldaps_and_starttls(samba_dc, admin_target):
    """NTLM (NTLMv2 in SASL GSS-SPNEGO) with a DOMAIN\\account name, as on a Windows DC."""
    for url in (samba_dc.url, "ldap://127.0.0.1:389"):
        target = dataclasses.replace(
            admin_target, url=url, user="CARE\\Administrator", authentication="ntlm"
        )
        dump = collect(target)
        assert dump.complete and len(dump.objects) > 1000


def test_ntlm_wrong_password_is_refused(admin_target):
    target = dataclasses.replace(
        admin_target, user="CARE\\Administrator", password="mauvais", authentication="ntlm"
    )
    with pytest.raises(CollectError, match="Identifiants refusés"):
        collect(target)


def test_ntlm_refused_by_a_dc_that_demands_sasl_signing_is_explained(samba_dc, admin_target):
    """Samba's default before 4.20 (« ldap server require strong auth = yes ») refuses SASL
    without signing even inside TLS: the user is told why and what to do, in French."""
    samba_lab.restart_with_strong_auth(samba_dc, "yes")
    try:
        target = dataclasses.replace(
            admin_target, user="CARE\\Administrator", authentication="ntlm"
        )
        with pytest.raises(CollectError, match="exige la signature SASL.*liaison simple sur LDAPS"):
            collect(target)
        assert collect(admin_target).complete  # the simple bind over LDAPS still works
    finally:
        samba_lab.restart_with_strong_auth(samba_dc, "allow_sasl_over_tls")


def test_reader_without_descriptor_rights_gives_a_partial_collection(samba_dc, admin_target):
    target = dataclasses.replace(
        admin_target, user="reader@care.test", password=samba_lab.READER_PASSWORD
    )
    dump = collect(target)
    assert not dump.complete
    assert any(e["dn"].startswith("CN=AdminSDHolder") for e in dump.errors)
    result = analyze(dump, NOW)
    assert not result.level_complete
    assert "vuln_critical_objects-l1" in failing(result)
    assert result.completeness["objects_without_descriptor"] > 0


def test_bad_credentials(admin_target):
    with pytest.raises(CollectError, match="Identifiants refusés"):
        collect(dataclasses.replace(admin_target, password="mauvais"))


def test_tls_failure_without_the_domain_ca(admin_target):
    with pytest.raises(CollectError, match="Échec TLS"):
        collect(dataclasses.replace(admin_target, ca_file=None))


def test_tls_name_mismatch(admin_target):
    with pytest.raises(CollectError, match="nom demandé"):
        collect(dataclasses.replace(admin_target, tls_name=None))


def test_unreachable_server(admin_target):
    with pytest.raises(CollectError, match="injoignable"):
        collect(dataclasses.replace(admin_target, url="ldaps://127.0.0.1:1", timeout=3))


def test_cli_collect_then_analyze(samba_dc, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(samba_lab.ADMIN_PASSWORD + "\n")
    out = tmp_path / "care.json.gz"
    call_command(
        "ad",
        "collect",
        "--server",
        samba_dc.url,
        "--user",
        "Administrator@care.test",
        "--password-file",
        str(secret),
        "--ca-file",
        samba_dc.ca_file,
        "--tls-name",
        "DC1.care.test",
        "--out",
        str(out),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert load_dump(out).complete
    buf = io.StringIO()
    call_command("ad", "analyze", "--dump", str(out), "--now", "2026-11-29", "--json", stdout=buf)
    doc = json.loads(buf.getvalue())
    assert doc["domain"] == "care.test" and doc["level"] == 1
    assert set(doc) >= {"domain", "level", "points", "paths", "collected_at", "completeness"}
    statuses = {p["id"]: p["status"] for p in doc["points"]}
    assert statuses["vuln_spn_priv-l1"] == "fail"
    assert set(statuses.values()) <= {"pass", "fail", "not_evaluated"}
    text = io.StringIO()
    call_command("ad", "analyze", "--dump", str(out), "--now", "2026-11-29", stdout=text)
    assert "niveau ANSSI 1" in text.getvalue()
    with pytest.raises(CommandError, match="Identifiants refusés"):
        bad = tmp_path / "bad"
        bad.write_text("faux")
        call_command(
            "ad",
            "analyze",
            "--server",
            samba_dc.url,
            "--user",
            "Administrator@care.test",
            "--password-file",
            str(bad),
            "--ca-file",
            samba_dc.ca_file,
            "--tls-name",
            "DC1.care.test",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
