"""11.1 — secrets exfiltration through the backup S3 probe.

The attack: an establishment RSSI declares a repository whose S3 probe names environment
variables of the server (``s3_access_key_env=CAREOPS_SECRET_KEY``…) and points the endpoint at a
server they control; the worker used to read ``os.environ[name]`` and send it there, signed.
Now S3 keys are entered like the repository password, stored encrypted per repository, and a
web run never reads a variable or a file of the server.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from careops.backups.engine.config import parse_config
from careops.backups.engine.errors import ConfigError
from careops.backups.models import Repository, VerificationRun
from careops.tenancy.models import Organisation
from tests.backups import conftest as backups_fixtures
from tests.backups.conftest import PASSWORD as REPO_PASSWORD
from tests.backups.test_app import login
from tests.security.fakes import fake_s3

VICTIM_VALUE = "valeur-secrète-d-une-variable-du-serveur-4242"
ENTERED_ACCESS = "AKIACAREOPSSAISIE01"
ENTERED_SECRET = "clé-secrète-saisie-pour-ce-dépôt"

# real restic/borg repositories of the backup tests
backup_world = backups_fixtures.backup_world
world = backups_fixtures.world


def _declare(client, org, folder, endpoint, **extra):
    data = {
        "organisation": org.pk,
        "name": "restic-dpi",
        "driver": "restic",
        "location": str(folder / "restic"),
        "password": REPO_PASSWORD,
        "data_cycle": 1,
        "s3_bucket": "seau-de-l-attaquant",
        "s3_endpoint": endpoint,
        # what the attacker posts: names of the server's environment variables
        "s3_access_key_env": "CAREOPS_TEST_VICTIM",
        "s3_secret_key_env": "CAREOPS_SECRET_KEY",
        **extra,
    }
    return client.post(reverse("backups:repository_new"), data)


def _run(client, repo, capture):
    with capture(execute=True):
        response = client.post(reverse("backups:repository_run", args=[repo.pk, "verify"]))
    assert response.status_code == 302
    return VerificationRun.objects.order_by("-pk").first()


def _object_lock(run) -> dict:
    return next(c for c in run.result["repositories"][0]["checks"] if c["name"] == "object_lock")


@pytest.mark.django_db
def test_probe_never_sends_a_server_variable_only_the_keys_entered_for_the_repository(
    client,
    org_tree,
    make_user,
    world,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    monkeypatch.setenv("CAREOPS_TEST_VICTIM", VICTIM_VALUE)
    monkeypatch.setenv("CAREOPS_SECRET_KEY", settings.SECRET_KEY)
    Organisation.objects.filter(pk=org_tree.ej_b.pk).update(internal_targets=True)
    login(client, make_user("es_rssi", org_tree.ej_b))
    with fake_s3() as (endpoint, recorder):
        response = _declare(
            client,
            org_tree.ej_b,
            world,
            endpoint,
            s3_access_key=ENTERED_ACCESS,
            s3_secret_key=ENTERED_SECRET,
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        repo = Repository.objects.get()
        run = _run(client, repo, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    # the probe did reach the endpoint (the recorder works), signed with the entered key only
    assert recorder.requests, "la sonde n'a rien envoyé au point d'accès"
    authorizations = [r["headers"].get("Authorization", "") for r in recorder.requests]
    assert all(ENTERED_ACCESS in a for a in authorizations)
    sent = recorder.everything()
    for secret in (VICTIM_VALUE, settings.SECRET_KEY, ENTERED_SECRET, REPO_PASSWORD):
        assert secret.encode() not in sent
    # stored encrypted, no variable name kept, and the message names no variable
    assert set(repo.s3_lock) <= {"bucket", "endpoint", "min_retention_days"}
    row = Repository.objects.values().get(pk=repo.pk)
    assert ENTERED_SECRET not in str(row) and ENTERED_ACCESS not in str(row)
    check = _object_lock(run)
    assert check["status"] == "error" and "variable" not in check["message"]
    page = client.get(reverse("backups:repository_edit", args=[repo.pk])).content.decode()
    assert ENTERED_SECRET not in page and ENTERED_ACCESS not in page
    assert "s3_access_key_env" not in page


def test_a_web_configuration_refuses_any_server_variable_or_file():
    for field in ("access_key_env", "secret_key_file"):
        data = {
            "repositories": [
                {
                    "name": "r1",
                    "driver": "restic",
                    "location": "/srv/r",
                    "checks": {"object_lock": {"bucket": "b", field: "CAREOPS_SECRET_KEY"}},
                }
            ]
        }
        with pytest.raises(ConfigError) as caught:
            parse_config(data, require_passwords=False, server_secrets=False)
        assert "non accepté" in str(caught.value)
    for field, value in (("password_env", "HOME"), ("env_files", {"X": "/etc/shadow"})):
        data = {"repositories": [{"name": "r", "driver": "restic", "location": "/r", field: value}]}
        with pytest.raises(ConfigError):
            parse_config(data, require_passwords=False, server_secrets=False)


@pytest.mark.django_db
def test_changing_the_endpoint_clears_the_s3_keys_and_is_journalled(
    client,
    org_tree,
    make_user,
    world,
):
    from careops.core.models import AuditEvent

    login(client, make_user("es_rssi", org_tree.ej_b))
    _declare(
        client,
        org_tree.ej_b,
        world,
        "https://s3.hopital.test",
        s3_access_key=ENTERED_ACCESS,
        s3_secret_key=ENTERED_SECRET,
    )
    repo = Repository.objects.get()
    assert repo.s3_access_key_encrypted
    form = {
        "organisation": org_tree.ej_b.pk,
        "name": "restic-dpi",
        "driver": "restic",
        "location": repo.location,
        "data_cycle": 1,
        "s3_bucket": "seau",
        "s3_endpoint": "https://s3.attaquant.test",
    }
    refused = client.post(reverse("backups:repository_edit", args=[repo.pk]), form)
    assert refused.status_code == 200
    assert "saisissez de nouveau la clé" in refused.content.decode()
    repo.refresh_from_db()
    assert repo.s3_lock["endpoint"] == "https://s3.hopital.test"
    form.update(s3_access_key="AKIANOUVELLE", s3_secret_key="nouvelle")
    assert client.post(reverse("backups:repository_edit", args=[repo.pk]), form).status_code == 302
    event = AuditEvent.objects.filter(action="backups.repository_save").latest("pk")
    assert event.changes["s3_endpoint"] == ["https://s3.hopital.test", "https://s3.attaquant.test"]
    assert "nouvelle" not in str(event.changes) and "AKIANOUVELLE" not in event.summary


@pytest.mark.django_db
def test_changing_the_location_needs_the_rssi_and_the_password_again(
    client, org_tree, make_user, world
):
    from careops.core.models import AuditEvent

    rssi = make_user("es_rssi", org_tree.ej_b)
    login(client, rssi)
    _declare(client, org_tree.ej_b, world, "", s3_bucket="")
    repo = Repository.objects.get()
    stored = repo.password_encrypted
    form = {
        "organisation": org_tree.ej_b.pk,
        "name": "restic-dpi",
        "driver": "restic",
        "location": "rest:https://depot.attaquant.test/dpi/",
        "data_cycle": 1,
    }
    client.logout()
    login(client, make_user("contributor", org_tree.ej_b))
    url = reverse("backups:repository_edit", args=[repo.pk])
    assert client.post(url, form).status_code == 404
    client.logout()
    login(client, rssi)
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "saisissez de nouveau le mot de passe" in refused.content.decode()
    repo.refresh_from_db()
    assert repo.location == str(world / "restic") and repo.password_encrypted == stored
    form["password"] = "nouveau-mot-de-passe"
    assert client.post(url, form).status_code == 302
    event = AuditEvent.objects.filter(action="backups.repository_save").latest("pk")
    assert event.changes["location"] == [str(world / "restic"), form["location"]]
    assert "nouveau-mot-de-passe" not in str(event.changes) + event.summary
    for relative in ("depots/restic", "rclone:remote:x"):
        bad = client.post(url, {**form, "location": relative})
        assert bad.status_code == 200 and "location" in bad.context["form"].errors
