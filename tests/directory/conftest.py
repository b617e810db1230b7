"""Fixtures of the directory tests; the Samba AD DC itself (``samba_dc``) is in tests/conftest.py,
shared with the remote-access tests (one DC per machine: it binds 127.0.0.1:389/636)."""

from __future__ import annotations

import pytest

from tests.directory import samba_lab


@pytest.fixture(scope="session")
def admin_target(samba_dc):
    from careops.directory.engine.collect import Target

    return Target(
        samba_dc.url,
        "Administrator@care.test",
        samba_lab.ADMIN_PASSWORD,
        ca_file=samba_dc.ca_file,
        tls_name="DC1.care.test",
    )


@pytest.fixture(scope="session")
def lab_dump(admin_target):
    from careops.directory.engine.collect import collect

    return collect(admin_target)
