"""Shared fixtures: an organisation tree across two regions, and one user per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

# Test defaults (temporary data folder, immediate task queue) are set in tests/settings.py.

PASSWORD = "motdepasse-de-test-2026"

# The PostgreSQL pass of `make test` (CAREOPS_TEST_DATABASE_ONLY=1) runs the tests that use the
# Django test database; the others (engines, labs, deployment processes with their own
# databases) do not depend on the suite's database and already ran in the SQLite pass.
_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_setup", "live_server"}


def _uses_test_database(item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    import os

    if os.environ.get("CAREOPS_TEST_DATABASE_ONLY") != "1":
        return
    kept = [item for item in items if _uses_test_database(item)]
    dropped = [item for item in items if not _uses_test_database(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        config._careops_database_only = len(dropped)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    dropped = getattr(config, "_careops_database_only", 0)
    if dropped:
        terminalreporter.write_line(
            f"{dropped} tests without the Django test database left out of this pass "
            "(CAREOPS_TEST_DATABASE_ONLY=1): they run in the SQLite pass of make test."
        )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts and ends with an empty cache: figures cached by signature (the
    awareness card) or counters (login throttling, rate limits) never leak from one test's
    rolled-back rows to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class Tree:
    """The test organisation tree (see ``org_tree``)."""

    ans: object
    ars_idf: object
    ars_ara: object
    ght: object
    ej_a: object
    ej_b: object
    eg_a1: object
    eg_a2: object
    eg_b1: object
    esms: object
    ej_other: object
    eg_other: object


def make_org(parent, kind, name, finess8=None, **extra):
    """Create an organisation node (FINESS completed with its Luhn key)."""
    from careops.tenancy import finess
    from careops.tenancy.models import Organisation

    number = finess.with_key(finess8) if finess8 else None
    node = Organisation(parent=parent, kind=kind, name=name, finess=number, **extra)
    node.full_clean()
    node.save()
    return node


@pytest.fixture
def org_tree(db) -> Tree:
    """ANS → ARS IdF → GHT → EJ A (2 sites), EJ B (1 site), ESMS; ARS ARA → another EJ."""
    ans = make_org(None, "ans", "ANS", category="regulator")
    ars_idf = make_org(ans, "ars", "ARS Île-de-France", region_code="11", category="regulator")
    ars_ara = make_org(
        ans, "ars", "ARS Auvergne-Rhône-Alpes", region_code="84", category="regulator"
    )
    ght = make_org(ars_idf, "ght", "GHT Test Val-de-Seine", category="ght")
    ej_a = make_org(
        ght,
        "ej",
        "CH Alpha",
        "92000001",
        category="public",
        activity_weight=700,
        activity_unit="activité combinée",
    )
    ej_b = make_org(
        ght,
        "ej",
        "CH Bêta",
        "92000002",
        category="public",
        activity_weight=300,
        activity_unit="activité combinée",
    )
    eg_a1 = make_org(ej_a, "eg", "CH Alpha — site principal", "92000011")
    eg_a2 = make_org(ej_a, "eg", "CH Alpha — site annexe", "92000012")
    eg_b1 = make_org(ej_b, "eg", "CH Bêta — site", "92000021")
    esms = make_org(ars_idf, "esms", "EHPAD Les Tilleuls", "92000031", category="medico_social")
    ej_other = make_org(
        ars_ara, "ej", "Clinique du Rhône", "69000001", category="private_forprofit"
    )
    eg_other = make_org(ej_other, "eg", "Clinique du Rhône — site", "69000011")
    return Tree(
        ans, ars_idf, ars_ara, ght, ej_a, ej_b, eg_a1, eg_a2, eg_b1, esms, ej_other, eg_other
    )


@pytest.fixture
def make_user(db):
    """Return a factory: make_user(role, organisation, subtree=True) → a user with that grant."""
    from django.contrib.auth import get_user_model

    from careops.tenancy.models import RoleAssignment

    counter = {"n": 0}

    def factory(role=None, organisation=None, subtree=True, username=None):
        counter["n"] += 1
        name = username or f"{role or 'user'}{counter['n']}"
        user = get_user_model().objects.create_user(
            name, email=f"{name}@example.test", password=PASSWORD
        )
        if role:
            RoleAssignment.objects.create(
                user=user, organisation=organisation, role=role, include_subtree=subtree
            )
        return user

    return factory


@pytest.fixture
def role_users(org_tree, make_user) -> dict:
    """One user per role, each granted where that role lives in real life."""
    t = org_tree
    return {
        "administrator": make_user("administrator", t.ans),
        "ans_instructor": make_user("ans_instructor", t.ans),
        "ars_instructor": make_user("ars_instructor", t.ars_ara),  # another region
        "ght_rssi": make_user("ght_rssi", t.ght),
        "es_rssi": make_user("es_rssi", t.ej_b),
        "contributor": make_user("contributor", t.ej_b),
        "reader": make_user("reader", t.eg_b1, subtree=False),
    }


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory):
    """A real Samba AD DC on loopback, provisioned once per test session (see
    tests/directory/samba_lab.py); the directory and remote-access tests share it."""
    import os

    from tests.directory import samba_lab

    reason = samba_lab.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"Samba AD DC indisponible en CI : {reason}")
        pytest.skip(f"!!! Samba AD DC indisponible, tests d'intégration AD sautés : {reason}")
    lab = samba_lab.provision(tmp_path_factory.mktemp("samba-ad") / "dc")
    yield lab
    lab.stop()
