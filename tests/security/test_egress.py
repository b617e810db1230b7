"""11.11 — egress policy: careops never connects on a user's behalf to loopback, private,
link-local or metadata addresses unless an administrator enabled internal targets.

Attacks: a backup repository ``rest:http://127.0.0.1:…`` (server-side request from the
worker), an S3 endpoint on loopback, a name that resolves to loopback, a name that resolves to
a public address for the check and to loopback for the connection (DNS rebinding).
"""

from __future__ import annotations

import socket
import urllib.request

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from careops import egress as egress_module
from careops.backups.models import Repository, VerificationRun
from careops.core import egress as org_egress
from careops.core.models import AuditEvent
from careops.egress import EgressPolicy, EgressRefused, egress_proxy
from careops.tenancy.models import Organisation
from tests.backups import conftest as backups_fixtures
from tests.backups.conftest import PASSWORD as REPO_PASSWORD
from tests.backups.test_app import login
from tests.security.fakes import fake_s3
from tests.web.helpers import enable_totp

# real restic/borg repositories of the backup tests
backup_world = backups_fixtures.backup_world
world = backups_fixtures.world


def _declare(client, org, location, **extra):
    data = {
        "organisation": org.pk,
        "name": "depot",
        "driver": "restic",
        "location": location,
        "password": REPO_PASSWORD,
        "data_cycle": 1,
        **extra,
    }
    response = client.post(reverse("backups:repository_new"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Repository.objects.get(name="depot")


def _verify(client, repo, capture) -> dict:
    with capture(execute=True):
        client.post(reverse("backups:repository_run", args=[repo.pk, "verify"]))
    run = VerificationRun.objects.order_by("-pk").first()
    return {c["name"]: c for c in run.result["repositories"][0]["checks"]}


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_a_rest_repository_on_loopback_receives_nothing(
    client, org_tree, make_user, django_capture_on_commit_callbacks, host
):
    login(client, make_user("es_rssi", org_tree.ej_b))
    with fake_s3() as (url, recorder):
        port = url.rsplit(":", 1)[1]
        repo = _declare(client, org_tree.ej_b, f"rest:http://{host}:{port}/depot/")
        checks = _verify(client, repo, django_capture_on_commit_callbacks)
    assert checks["access"]["status"] == "error"
    assert "refusée" in checks["access"]["message"]
    assert "administrateur" in checks["access"]["message"]
    assert recorder.requests == []


@pytest.mark.django_db
def test_an_s3_endpoint_on_loopback_receives_nothing_until_an_administrator_allows_it(
    client,
    org_tree,
    make_user,
    world,
    django_capture_on_commit_callbacks,
):
    login(client, make_user("es_rssi", org_tree.ej_b))
    with fake_s3() as (url, recorder):
        repo = _declare(
            client,
            org_tree.ej_b,
            str(world / "restic"),
            s3_bucket="seau",
            s3_endpoint=url,
            s3_access_key="AKIA",
            s3_secret_key="secret",
        )
        refused = _verify(client, repo, django_capture_on_commit_callbacks)["object_lock"]
        assert refused["status"] == "error" and "refusée" in refused["message"]
        assert recorder.requests == []
        admin = make_user("administrator", org_tree.ans)
        org_egress.set_internal_targets(admin, org_tree.ght, True, "DC et S3 sur le LAN du GHT")
        allowed = _verify(client, repo, django_capture_on_commit_callbacks)["object_lock"]
    assert "refusée" not in allowed["message"]
    assert recorder.requests  # reached through the checking proxy once allowed (subtree)


@pytest.mark.django_db
def test_only_a_platform_administrator_opens_internal_targets_and_it_is_journalled(
    client, org_tree, make_user
):
    rssi = make_user("ght_rssi", org_tree.ght)
    with pytest.raises(PermissionDenied):
        org_egress.set_internal_targets(rssi, org_tree.ght, True, "moi-même")
    login(client, rssi)
    assert client.get(reverse("core:internal_targets")).status_code == 404
    response = client.post(
        reverse("core:internal_targets"),
        {"organisation": org_tree.ght.pk, "enable": "1", "reason": "x"},
    )
    assert response.status_code == 404
    assert not Organisation.objects.get(pk=org_tree.ght.pk).internal_targets
    admin = enable_totp(make_user("administrator", org_tree.ans))
    client.logout()
    client.force_login(admin)
    assert client.get(reverse("core:internal_targets")).status_code == 200
    missing_reason = client.post(
        reverse("core:internal_targets"), {"organisation": org_tree.ght.pk, "enable": "1"}
    )
    assert missing_reason.status_code == 400
    client.post(
        reverse("core:internal_targets"),
        {"organisation": org_tree.ght.pk, "enable": "1", "reason": "serveurs internes"},
    )
    assert org_egress.internal_targets_allowed(org_tree.ej_a)  # subtree
    event = AuditEvent.objects.get(action="core.egress.internal_targets")
    assert event.actor == admin and event.changes == {"internal_targets": [False, True]}


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "224.0.0.1", "0.0.0.0"],  # noqa: S104
)
def test_metadata_multicast_and_unspecified_are_refused_even_when_internal_is_allowed(address):
    with pytest.raises(EgressRefused):
        EgressPolicy(allow_internal=True).check_address(address)


def test_every_resolved_address_is_checked(monkeypatch):
    answers = [("93.184.215.14", 443), ("127.0.0.1", 443)]
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", s) for s in answers],
    )
    with pytest.raises(EgressRefused) as caught:
        EgressPolicy().resolve("double.example.test", 443)
    assert "127.0.0.1" in str(caught.value)


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(monkeypatch):
    """DNS rebinding: the first answer is public, any later one is loopback."""
    lookups, connected = [], []

    def rebinding(host, port, *args, **kwargs):
        address = "93.184.215.14" if not lookups else "127.0.0.1"
        lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    class Stop(Exception):
        pass

    def create_connection(address, timeout=None):
        connected.append(address)
        raise Stop  # never leave the machine

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(egress_module.socket, "create_connection", create_connection)
    with pytest.raises(Stop):
        EgressPolicy().connect("rebind.example.test", 443)
    assert lookups == ["93.184.215.14"] and connected == [("93.184.215.14", 443)]


def test_the_checking_proxy_refuses_loopback_and_relays_when_allowed():
    with fake_s3() as (url, recorder):
        for allowed in (False, True):
            with egress_proxy(EgressPolicy(allow_internal=allowed)) as proxy:
                opener = urllib.request.build_opener(
                    urllib.request.ProxyHandler({"http": proxy.url})
                )
                with pytest.raises(urllib.error.HTTPError) as caught:
                    opener.open(url + "/seau?versioning", timeout=10)
                # refused by the proxy (403 with the reason) or AccessDenied from the server
                body = caught.value.read().decode()
                if allowed:
                    assert "AccessDenied" in body
                else:
                    assert "refusée" in body and proxy.refusals
                    assert recorder.requests == []
    assert len(recorder.requests) == 1
