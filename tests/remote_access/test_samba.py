"""Vendor accounts planted in the real Samba AD DC of the directory tests, collected by the AD
engine, then checked on the paths that name them (A5 generic names, A6 never expiring, A10
third parties in the production AD, A13 stale accounts)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from careops.remote_access.engine import accounts, checks, rules
from tests.directory import samba_lab
from tests.remote_access.helpers import inventory_bytes, vendor_path

REPO = Path(__file__).resolve().parents[2]
# The Samba DC is the test session's (``samba_dc`` in tests/conftest.py), shared with the
# directory tests: one DC per machine, it binds 127.0.0.1:389/636.


@pytest.fixture(scope="module")
def vendor_dump(samba_dc, tmp_path_factory) -> Path:
    """Plant vendor accounts in the session's Samba DC and collect once."""
    from careops.directory.engine.collect import Target, collect
    from careops.directory.engine.dump import save_dump

    base = tmp_path_factory.mktemp("samba-vendors")
    lab = samba_dc
    auth = [
        "-H",
        "ldap://127.0.0.1",
        "-U",
        "Administrator",
        f"--password={samba_lab.ADMIN_PASSWORD}",
    ]
    for name in ("presta.irm", "support", "ext.admin", "presta.temp"):
        subprocess.run(
            ["samba-tool", "user", "create", name, "Fournisseur!2026x", *auth],
            check=True,
            capture_output=True,
            timeout=60,
        )
    subprocess.run(
        ["samba-tool", "group", "addmembers", "Domain Admins", "ext.admin", *auth],
        check=True,
        capture_output=True,
        timeout=60,
    )
    subprocess.run(
        ["samba-tool", "user", "setexpiry", "presta.temp", "--days=30", *auth],
        check=True,
        capture_output=True,
        timeout=60,
    )
    dump = collect(
        Target(
            lab.url,
            "Administrator@care.test",
            samba_lab.ADMIN_PASSWORD,
            ca_file=lab.ca_file,
            tls_name="DC1.care.test",
        )
    )
    path = base / "care.test.json.gz"
    save_dump(dump, path)
    return path


def test_vendor_accounts_of_the_real_directory(vendor_dump):
    view = accounts.load(str(vendor_dump))
    irm, support, admin, temp = (
        view.facts(n) for n in ("presta.irm", "support", "ext.admin", "presta.temp")
    )
    assert irm.found and irm.enabled and irm.never_expires and not irm.privileged
    assert support.generic and not irm.generic
    assert admin.privileged and "membre d'un groupe privilégié" in admin.problems
    assert temp.found and not temp.never_expires
    assert not view.facts("inconnu").found
    path = vendor_path(accounts=["presta.irm", "support"], directory="dedicated")
    result = checks.evaluate([path], checks.Sources(directory=view), rules.load()).paths[0]
    by_code = {c.code: c for c in result.checks}
    assert by_code["A5"].status == "fail" and "support" in by_code["A5"].reason
    assert by_code["A5"].source == "directory"
    assert "sans date d'expiration : presta.irm, support" in by_code["A6"].reason
    assert by_code["A10"].status == "fail" and "AD de production care.test" in by_code["A10"].reason
    # the same directory collected four months later: nobody logged on, the accounts are stale
    dump = accounts.load_dump(str(vendor_dump))
    dump.collected_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=120)).isoformat()
    later = accounts.from_dump(dump)
    assert later.facts("presta.irm").stale
    a13 = checks.a13(path, checks.Sources(directory=later, as_of=dt.date.today()), rules.load())
    assert (
        a13.status == "fail"
        and "inutilisé(s) depuis plus de 90 j : presta.irm, support" in a13.reason
    )


def test_check_cli_reads_the_collected_dump(vendor_dump, tmp_path):
    inventory = tmp_path / "inventaire.xlsx"
    inventory.write_bytes(inventory_bytes([vendor_path(accounts=["presta.irm"])]))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "careops.cli",
            "remote-access",
            "check",
            str(inventory),
            "--ad",
            str(vendor_dump),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert "A10" in done.stdout and "présent(s) dans l'AD de production care.test" in done.stdout
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"\x1f\x8b\x08garbage")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "careops.cli",
            "remote-access",
            "check",
            str(inventory),
            "--ad",
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 2 and "erreur : " in done.stderr and "collecte" in done.stderr.lower()
