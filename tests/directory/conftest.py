"""A real Samba AD DC, provisioned once per test session on loopback (see samba_lab)."""

from __future__ import annotations

import os

import pytest

from tests.directory import samba_lab


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory):
    reason = samba_lab.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Samba AD DC indisponible en CI : {reason}")
        pytest.skip(f"!!! Samba AD DC indisponible, tests d'intégration AD sautés : {reason}")
    lab = samba_lab.provision(tmp_path_factory.mktemp("samba-ad") / "dc")
    yield lab
    lab.stop()


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
