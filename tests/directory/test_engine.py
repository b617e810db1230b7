"""Engine pieces: descriptor parser, dump format, waivers, control paths, imports."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careops.directory.engine import analyze, load_dump, save_dump, sd
from careops.directory.engine.analysis import Waiver, summary
from careops.directory.engine.dump import DumpError
from careops.directory.engine.imports import load_pingcastle
from careops.directory.engine.model import Directory
from tests.directory.synthetic import DA, DOMAIN_SID, NOW, clean, find, set_acl

sids = st.builds(
    lambda auth, subs: f"S-1-{auth}" + "".join(f"-{s}" for s in subs),
    st.integers(0, 2**32),
    st.lists(st.integers(0, 2**32 - 1), max_size=8),
)
guids = st.one_of(st.none(), st.uuids().map(str))
aces = st.builds(
    sd.Ace, st.booleans(), st.integers(0, 0x1F), st.integers(0, 2**32 - 1), sids, guids, guids
)


@settings(deadline=None)  # no timing flakiness on a loaded 2-core machine
@given(owner=sids, group=sids, entries=st.lists(aces, max_size=12))
def test_descriptor_roundtrip(owner, group, entries):
    parsed = sd.parse(sd.build(owner, group, entries))
    assert parsed.owner == owner and parsed.group == group
    assert list(parsed.dacl) == entries


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_descriptor_parser_never_crashes_on_garbage(data):
    try:
        sd.parse(data)
    except sd.DescriptorError:
        pass


def test_dump_roundtrip_and_bad_files(tmp_path):
    dump = clean().dump
    path = tmp_path / "d.json.gz"
    save_dump(dump, path)
    assert load_dump(path).objects == dump.objects
    truncated = tmp_path / "t.json.gz"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DumpError, match="tronqué"):
        load_dump(truncated)
    foreign = tmp_path / "f.json"
    foreign.write_text(json.dumps({"hello": 1}))
    with pytest.raises(DumpError, match="format inconnu"):
        load_dump(foreign)
    future = tmp_path / "v.json.gz"
    doc = dump.to_json() | {"version": 99}
    future.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(DumpError, match="Version"):
        load_dump(future)
    with pytest.raises(DumpError, match="illisible"):
        load_dump(tmp_path / "absent")


def test_descriptors_parsed_once_per_distinct_value():
    b = clean()
    directory = Directory(b.dump)
    assert len(directory._descriptors) == len(b.dump.descriptors) < len(b.dump.objects) / 10


def test_waiver_is_shown_apart_and_never_hides_the_level():
    b = clean()
    find(b, "CN=Guest")["a"]["useraccountcontrol"] = ["512"]
    waiver = Waiver("vuln_guest-l2", "Borne d'accueil, compte surveillé", dt.date(2027, 1, 1))
    result = analyze(b.dump, NOW, waivers=[waiver])
    guest = next(p for p in result.points if p.id == "vuln_guest-l2")
    assert guest.status == "fail" and guest.waiver["justification"].startswith("Borne")
    assert result.level == 2 and result.waived == ["vuln_guest-l2"]
    expired = Waiver("vuln_guest-l2", "x", dt.date(2026, 1, 1))
    assert analyze(b.dump, NOW, waivers=[expired]).waived == []


def test_control_path_through_group_membership():
    b = clean()
    helpdesk = f"{DOMAIN_SID}-1103"
    # Helpdesk may reset adm_alice's password; user0 is a member of Helpdesk.
    set_acl(
        b,
        "CN=adm_alice",
        sd.Ace(True, 0, sd.DS_CONTROL_ACCESS, helpdesk, "00299570-246d-11d0-a768-00aa006e0529"),
    )
    result = analyze(b.dump, NOW)
    path = next(p for p in result.paths if p["source"] == "Helpdesk")
    assert path["steps"] == [{"from": "Helpdesk", "to": "adm_alice", "rel": "ForceChangePassword"}]
    assert result.exposed_accounts == 1  # user0, through Helpdesk
    assert summary(result)["paths"] == result.paths


def test_trusted_trustees_make_no_path():
    b = clean()
    set_acl(b, "CN=adm_alice", sd.Ace(True, 0, sd.GENERIC_ALL, DA))
    assert analyze(b.dump, NOW).paths == []


def test_pingcastle_import(tmp_path):
    from careops.directory.engine.analysis import from_pingcastle

    xml = tmp_path / "ad_hc_hop.test.xml"
    xml.write_text(
        "<HealthcheckData><DomainFQDN>hop.test</DomainFQDN>"
        "<GenerationDate>2026-11-20T10:00:00</GenerationDate><MaturityLevel>2</MaturityLevel>"
        "<RiskRules><HealthcheckRiskRule><RiskId>A-Krbtgt</RiskId><Points>50</Points>"
        "<Rationale>krbtgt 400 jours</Rationale></HealthcheckRiskRule>"
        "<HealthcheckRiskRule><RiskId>X-Unknown</RiskId><Points>1</Points></HealthcheckRiskRule>"
        "</RiskRules></HealthcheckData>"
    )
    result = from_pingcastle(load_pingcastle(xml))
    assert result.level == 2 and not result.level_complete
    assert {p.id for p in result.failing()} == {"vuln_krbtgt-l2"}
    assert result.completeness["unmapped_rules"] == ["X-Unknown"]
    bad = tmp_path / "bad.xml"
    bad.write_text("<HealthcheckData><Domain")
    with pytest.raises(DumpError, match="tronqué"):
        load_pingcastle(bad)
    evil = tmp_path / "evil.xml"
    evil.write_text('<!DOCTYPE x [<!ENTITY a "b">]><HealthcheckData/>')
    with pytest.raises(DumpError, match="DTD"):
        load_pingcastle(evil)


def test_cli_analyze_errors_and_waivers(tmp_path):
    import io

    from django.core.management import CommandError, call_command

    truncated = tmp_path / "t.json.gz"
    save_dump(clean().dump, tmp_path / "d.json.gz")
    truncated.write_bytes((tmp_path / "d.json.gz").read_bytes()[:100])
    with pytest.raises(CommandError, match="tronqué"):
        call_command("ad", "analyze", "--dump", str(truncated), stdout=io.StringIO())
    with pytest.raises(CommandError, match="--now"):
        call_command(
            "ad",
            "analyze",
            "--dump",
            str(tmp_path / "d.json.gz"),
            "--now",
            "demain",
            stdout=io.StringIO(),
        )
    b = clean()
    find(b, "CN=Guest")["a"]["useraccountcontrol"] = ["512"]
    save_dump(b.dump, tmp_path / "g.json.gz")
    waivers = tmp_path / "w.yaml"
    waivers.write_text("- point: vuln_guest-l2\n  justification: borne\n  expires: 2027-01-01\n")
    out = io.StringIO()
    call_command(
        "ad",
        "analyze",
        "--dump",
        str(tmp_path / "g.json.gz"),
        "--now",
        "2026-11-29",
        "--waivers",
        str(waivers),
        "--json",
        stdout=out,
    )
    doc = json.loads(out.getvalue())
    assert doc["level"] == 2
    assert [p["id"] for p in doc["points"] if p["waived"]] == ["vuln_guest-l2"]
    text = io.StringIO()
    call_command(
        "ad",
        "analyze",
        "--dump",
        str(tmp_path / "g.json.gz"),
        "--now",
        "2026-11-29",
        "--waivers",
        str(waivers),
        stdout=text,
    )
    assert "[dérogation]" in text.getvalue() and "niveau ANSSI 2" in text.getvalue()


def _ber(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


@settings(deadline=None)
@given(
    message_id=st.integers(1, 2**31 - 1),
    dn=st.text(max_size=60),
    attributes=st.dictionaries(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz-;=0123456789", min_size=1, max_size=20),
        st.lists(st.binary(max_size=300), min_size=1, max_size=4),
        max_size=6,
    ),
)
def test_search_entry_reader_matches_ldap3(message_id, dn, attributes):
    from ldap3.operation.search import search_result_entry_response_to_dict_fast
    from ldap3.utils.asn1 import decode_message_fast

    from careops.directory.engine.collect import parse_search_entry

    attrs = b"".join(
        _ber(0x30, _ber(0x04, name.encode()) + _ber(0x31, b"".join(_ber(0x04, v) for v in vals)))
        for name, vals in attributes.items()
    )
    body = _ber(0x04, dn.encode()) + _ber(0x30, attrs)
    mid = message_id.to_bytes((message_id.bit_length() + 8) // 8, "big", signed=True)
    raw = _ber(0x30, _ber(0x02, mid) + _ber(0x64, body))
    got_id, entry = parse_search_entry(raw)
    reference = decode_message_fast(raw)
    expected = search_result_entry_response_to_dict_fast(reference["payload"], None, None, False)
    assert got_id == int(reference["messageID"]) == message_id
    assert entry["dn"] == expected["dn"]
    assert entry["raw_attributes"] == dict(expected["raw_attributes"])
