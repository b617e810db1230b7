"""11.12 — one address classification for the exposure scan scope and the egress policy.

``not is_global`` let through IPv4 carried in IPv6 (``::ffff:127.0.0.1``), NAT64, 6to4 and
multicast. Each row: an address, its category, whether a scan needs the internal option
(``is_restricted``), whether it is never scanned (``is_forbidden``).
"""

from __future__ import annotations

import ipaddress

import pytest

from careops.addresses import classify
from careops.egress import EgressPolicy, EgressRefused
from careops.exposure.engine import targets

TABLE = [
    # address, category, restricted (needs internal option), forbidden (never)
    ("8.8.8.8", "public", False, False),
    ("2606:4700::1111", "public", False, False),
    ("::ffff:8.8.8.8", "public", False, False),
    ("64:ff9b::808:808", "public", False, False),  # NAT64 of a public address
    ("2002:808:808::1", "public", False, False),  # 6to4 of a public address
    ("127.0.0.1", "loopback", True, False),
    ("::1", "loopback", True, False),
    ("::ffff:127.0.0.1", "loopback", True, False),  # IPv4-mapped
    ("::127.0.0.1", "loopback", True, False),  # IPv4-compatible
    ("64:ff9b::7f00:1", "loopback", True, False),  # NAT64
    ("2002:7f00:1::1", "loopback", True, False),  # 6to4
    ("10.1.2.3", "private", True, False),
    ("::ffff:192.168.1.1", "private", True, False),
    ("2002:c0a8:101::", "private", True, False),  # 6to4 of 192.168.1.1
    ("100.64.0.1", "private", True, False),  # carrier-grade NAT
    ("fc00::1", "private", True, False),
    ("fe80::1", "link_local", True, False),
    ("169.254.1.1", "link_local", True, False),
    ("169.254.169.254", "metadata", True, True),
    ("::ffff:169.254.169.254", "metadata", True, True),
    ("fd00:ec2::254", "metadata", True, True),
    ("224.0.0.1", "multicast", True, True),
    ("239.255.255.250", "multicast", True, True),
    ("::ffff:224.0.0.251", "multicast", True, True),
    ("ff02::1", "multicast", True, True),
    ("0.0.0.0", "unspecified", True, True),  # noqa: S104 - an address under test
    ("::", "unspecified", True, True),
    ("240.0.0.1", "reserved", True, True),
    ("255.255.255.255", "reserved", True, True),
    ("192.0.2.10", "documentation", True, False),  # the exposure lab's stand-in addresses
    ("198.18.0.1", "documentation", True, False),  # benchmarking
    ("2001:db8::1", "documentation", True, False),
]


@pytest.mark.parametrize("address, category, restricted, forbidden", TABLE)
def test_classification_table(address, category, restricted, forbidden):
    ip = ipaddress.ip_address(address)
    assert classify(ip).category == category
    assert targets.is_restricted(ip) is restricted
    assert targets.is_forbidden(ip) is forbidden


@pytest.mark.parametrize("address, category, restricted, forbidden", TABLE)
def test_egress_policy_agrees_with_the_scan_scope(address, category, restricted, forbidden):
    for allow_internal in (False, True):
        refused = (restricted and not allow_internal) or forbidden
        policy = EgressPolicy(allow_internal=allow_internal)
        if refused:
            with pytest.raises(EgressRefused):
                policy.check_address(address)
        else:
            policy.check_address(address)


def test_the_scanner_refuses_a_mapped_loopback_target_without_the_internal_option():
    import asyncio
    import datetime as dt

    from careops.exposure.engine import scanner

    options = scanner.ScanOptions(ports=[80], allow_private=False)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    result = asyncio.run(scanner.scan(["::ffff:127.0.0.1", "224.0.0.1"], options, now))
    assert not result.hosts
    assert any("::ffff:7f00:1" in e and "audit interne" in e for e in result.errors)
    assert any("224.0.0.1" in e and "multidiffusion" in e for e in result.errors)
