"""Finding 11.13: login throttling per account and per address, by delays, in a shared cache.

The attacks: guess a password by the thousand, alternating username and e-mail address; spray
many accounts from one address. The refusals: past 5 failures each attempt waits a doubling
delay (capped), the correct password included; and nobody can lock the real user out for longer
than the ceiling.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"
THROTTLED = "Trop de tentatives de connexion"


def attempt(client, login, password, address="192.0.2.10"):
    return client.post(LOGIN, {"login": login, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def victim(make_user):
    return make_user(username="victime")


@pytest.fixture
def clock():
    with time_machine.travel("2026-03-02 09:00:00 +0000", tick=False) as traveller:
        yield traveller


def test_guessing_through_username_and_email_shares_one_bucket(client, victim, clock):
    free = settings.LOGIN_THROTTLE["account_free"]
    for n in range(free):
        login = victim.username if n % 2 else victim.email.upper()
        answer = attempt(client, login, f"mauvais-{n}")
        assert answer.status_code == 200 and THROTTLED not in answer.content.decode()
    # the next attempt, even with the right password and through the other identifier, waits
    answer = attempt(client, victim.email, PASSWORD)
    assert THROTTLED in answer.content.decode() and not logged_in(client)
    assert "réessayez dans 2 secondes" in answer.content.decode()
    clock.shift(3)
    answer = attempt(client, victim.username, PASSWORD)
    assert answer.status_code == 302 and logged_in(client)


def test_delays_double_up_to_a_ceiling_and_never_lock_the_account(client, victim, clock):
    conf = settings.LOGIN_THROTTLE
    waits = []
    for k in range(conf["account_free"] + 8):  # the attacker, from ever-new addresses
        waited = 0
        while (
            THROTTLED
            in attempt(
                client, victim.username, f"faux-{k}", address=f"198.51.{k}.{waited}"
            ).content.decode()
        ):
            clock.shift(1)
            waited += 1
        waits.append(waited)
    free = conf["account_free"]
    assert waits[:free] == [0] * free
    assert waits[free : free + 4] == [2, 4, 8, 16]
    assert max(waits) == conf["account_max_delay"]  # the ceiling, never more
    # the real user, right after the attacker's last failure, waits at most the ceiling
    answer = attempt(client, victim.username, PASSWORD, address="203.0.113.50")
    assert THROTTLED in answer.content.decode()
    clock.shift(conf["account_max_delay"])
    answer = attempt(client, victim.username, PASSWORD, address="203.0.113.50")
    assert answer.status_code == 302 and logged_in(client)


def test_refused_attempts_during_a_delay_are_not_counted(client, victim, clock):
    free = settings.LOGIN_THROTTLE["account_free"]
    for n in range(free):
        attempt(client, victim.username, f"mauvais-{n}")
    for _ in range(20):  # hammering during the delay does not lengthen it
        assert THROTTLED in attempt(client, victim.username, "x").content.decode()
    clock.shift(2)
    assert attempt(client, victim.username, PASSWORD).status_code == 302


def test_one_address_spraying_many_accounts_is_slowed(client, make_user, clock):
    conf = settings.LOGIN_THROTTLE
    users = [make_user(username=f"cible{n}") for n in range(conf["ip_free"] + 1)]
    for user in users[:-1]:
        answer = attempt(client, user.username, "Printemps2026!", address="192.0.2.66")
        assert THROTTLED not in answer.content.decode()
    # a fresh account, from the spraying address: delayed; from another address: served
    answer = attempt(client, users[-1].username, PASSWORD, address="192.0.2.66")
    assert THROTTLED in answer.content.decode() and not logged_in(client)
    answer = attempt(client, users[-1].username, PASSWORD, address="192.0.2.67")
    assert answer.status_code == 302 and logged_in(client)


def test_unknown_accounts_are_throttled_too(client, db, clock):
    for n in range(settings.LOGIN_THROTTLE["account_free"]):
        attempt(client, "personne", f"x{n}")
    assert THROTTLED in attempt(client, "personne", "x").content.decode()


def test_throttling_state_lives_in_the_shared_cache(client, victim, clock, settings):
    """With the default settings, the counters are in the database table every process reads."""
    from django.db import connection

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "careops_cache",
        }
    }
    call_command("createcachetable")  # what the core migration does with these settings
    for n in range(settings.LOGIN_THROTTLE["account_free"]):
        attempt(client, victim.username, f"mauvais-{n}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM careops_cache WHERE cache_key LIKE %s", ["%login%"])
        assert cursor.fetchone()[0] >= 2  # the account's bucket and the address's
    assert THROTTLED in attempt(client, victim.username, PASSWORD).content.decode()


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({}, "DatabaseCache"),
        ({"CAREOPS_QUEUE_URL": "redis://127.0.0.1:6379/3"}, "RedisCache"),
        ({"CAREOPS_CACHE_URL": "redis://127.0.0.1:6379/4"}, "RedisCache"),
    ],
)
def test_the_cache_is_shared_by_every_process(environment, backend, tmp_path):
    """Never the per-process memory cache: the database table, or Redis when configured."""
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {"CAREOPS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", **environment}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
            f"'careops.settings'; django.setup(); {code}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().endswith(backend)


def test_the_totp_step_keeps_its_own_limit(client, make_user, org_tree, clock):
    """Past the password, wrong TOTP codes are limited by allauth (per user) as before."""
    from tests.web.helpers import enable_totp

    user = enable_totp(make_user("administrator", org_tree.ans, username="admin.totp"))
    assert attempt(client, user.username, PASSWORD).status_code == 302
    stage = reverse("mfa_authenticate")
    answers = [client.post(stage, {"code": "000000"}) for _ in range(7)]
    assert not logged_in(client)
    assert any("Too many" in a.content.decode() or "Trop" in a.content.decode() for a in answers)


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, make_user, clock):
    """An attacker cannot dodge the address bucket by inventing X-Forwarded-For values."""
    conf = settings.LOGIN_THROTTLE
    users = [make_user(username=f"xff{n}") for n in range(conf["ip_free"] + 1)]
    for n, user in enumerate(users[:-1]):
        client.post(
            LOGIN,
            {"login": user.username, "password": "faux"},
            REMOTE_ADDR="192.0.2.70",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    answer = client.post(
        LOGIN,
        {"login": users[-1].username, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.70",
        HTTP_X_FORWARDED_FOR="203.0.113.200",
    )
    assert THROTTLED in answer.content.decode()


def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(client, make_user, clock, settings):
    """Behind one reverse proxy, the clients are told apart by the address it forwards."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    conf = settings.LOGIN_THROTTLE
    users = [make_user(username=f"proxy{n}") for n in range(conf["ip_free"] + 1)]
    for user in users[:-1]:
        client.post(
            LOGIN,
            {"login": user.username, "password": "faux"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    sprayer = client.post(
        LOGIN,
        {"login": users[-1].username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    assert THROTTLED in sprayer.content.decode()
    colleague = client.post(
        LOGIN,
        {"login": users[-1].username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.67",
    )
    assert colleague.status_code == 302 and logged_in(client)
