"""Verification and restore-test runs as tasks on real restic repositories, alerts and e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from careops.backups import services
from careops.backups.models import Alert, ProtectedSystem, Repository, VerificationRun
from careops.compliance.models import Evidence
from tests.backups.conftest import PASSWORD as REPO_PASSWORD
from tests.backups.test_app import login


@pytest.fixture
def setup(client, world, org_tree, make_user, django_capture_on_commit_callbacks):
    rssi = make_user("es_rssi", org_tree.ej_b)
    rssi.email = "rssi.beta@example.test"
    rssi.save()
    login(client, rssi)
    client.post(
        reverse("backups:repository_new"),
        {
            "organisation": org_tree.ej_b.pk,
            "name": "restic-dpi",
            "driver": "restic",
            "location": str(world / "restic"),
            "password": REPO_PASSWORD,
            "data_cycle": 3,
        },
    )
    repo = Repository.objects.get()
    manifest = (world / "manifest.sha256").read_text()
    dpi = ProtectedSystem.objects.create(
        organisation=org_tree.ej_b,
        name="DPI",
        rpo_hours=24,
        rto_hours=4,
        repository=repo,
        match_host="app01",
        manifest=manifest,
    )
    rh = ProtectedSystem.objects.create(
        organisation=org_tree.ej_b, name="RH", rpo_hours=24, repository=repo, match_host="old01"
    )
    return {"client": client, "repo": repo, "dpi": dpi, "rh": rh, "rssi": rssi, "tree": org_tree}


def _run(setup, capture, kind="verify", data=None):
    with capture(execute=True):
        response = setup["client"].post(
            reverse("backups:repository_run", args=[setup["repo"].pk, kind]), data or {}
        )
    assert response.status_code == 302
    return VerificationRun.objects.order_by("-pk").first()


def test_password_is_stored_encrypted_only(setup):
    repo = setup["repo"]
    assert REPO_PASSWORD not in repo.password_encrypted
    page = setup["client"].get(reverse("backups:repository_edit", args=[repo.pk])).content.decode()
    assert REPO_PASSWORD not in page


def test_verification_run_updates_freshness_raises_alert_and_mails(
    setup, django_capture_on_commit_callbacks
):
    run = _run(setup, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == "done"
    assert run.outcome == "failed"  # RH is stale
    assert run.progress_done == run.progress_total > 1
    assert setup["repo"].__class__.objects.get().integrity_history == [1]
    setup["dpi"].refresh_from_db()
    setup["rh"].refresh_from_db()
    assert setup["dpi"].freshness_status == "ok"
    assert setup["rh"].freshness_status == "failed"
    alert = Alert.objects.get()
    assert alert.kind == "stale" and "RH" in alert.subject
    assert "PDMA" in alert.message and alert.procedure
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rssi.beta@example.test"]
    assert "Procédure" in mail.outbox[0].body
    page = setup["client"].get(reverse("backups:run", args=[run.pk])).content.decode()
    assert "sous-ensemble 1/3" in page
    index = setup["client"].get(reverse("backups:index")).content.decode()
    assert "<svg" in index and "PDMA" in index

    # a second run keeps the same alert open (no second mail) and rotates the subset
    _run(setup, django_capture_on_commit_callbacks)
    assert Alert.objects.count() == 1 and len(mail.outbox) == 1
    assert setup["repo"].__class__.objects.get().integrity_history == [1, 2]

    # acknowledgement needs a comment
    client = setup["client"]
    client.post(reverse("backups:alert_ack", args=[alert.pk]), {"comment": ""})
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    client.post(
        reverse("backups:alert_ack", args=[alert.pk]), {"comment": "Serveur RH arrêté, relancé"}
    )
    alert.refresh_from_db()
    assert alert.acknowledged_by == setup["rssi"] and alert.ack_comment.startswith("Serveur RH")


def test_restore_test_with_business_referent_becomes_d2_o4_evidence(
    setup, django_capture_on_commit_callbacks
):
    run = _run(
        setup,
        django_capture_on_commit_callbacks,
        "restore",
        {"protected_system": setup["dpi"].pk, "business_referent": "cadre de santé des urgences"},
    )
    run.refresh_from_db()
    assert run.outcome == "ok", run.result
    assert run.restore_seconds > 0
    evidence = Evidence.objects.get(kind="restore_test")
    assert evidence.item_codes == ["D2.O4"]
    assert evidence.source == "backups"
    assert evidence.current.attributes["business_referent"] == "cadre de santé des urgences"
    assert "SHA-256" in evidence.current.attributes["checksums"]
    run.refresh_from_db()
    assert run.evidence_id == evidence.pk
    index = setup["client"].get(reverse("backups:index")).content.decode()
    assert "Durée des tests de restauration (secondes)" in index
    # running the task again changes nothing
    assert services.execute_run(run.pk) is None
    (dpi,) = [r for r in services.achieved_capabilities(setup["tree"].ej_b) if r["name"] == "DPI"]
    assert 0 < dpi["restore_hours"] < 1 and dpi["rto_hours"] == 4


def test_wrong_password_records_nothing_as_verified(setup, django_capture_on_commit_callbacks):
    repo = setup["repo"]
    services.set_repository_password(repo, "mauvais")
    repo.save()
    run = _run(setup, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.outcome == "error"
    setup["dpi"].refresh_from_db()
    assert setup["dpi"].freshness_status == "error"
    assert setup["dpi"].last_backup_at is None
    alert = Alert.objects.get(kind="access")
    assert "mot de passe du dépôt refusé" in alert.message


def test_other_establishment_cannot_reach_runs_or_alerts(
    setup, client, make_user, django_capture_on_commit_callbacks
):
    run = _run(setup, django_capture_on_commit_callbacks)
    alert = Alert.objects.get()
    client.logout()
    login(client, make_user("es_rssi", setup["tree"].ej_a))
    assert client.get(reverse("backups:run", args=[run.pk])).status_code == 404
    assert client.get(reverse("backups:repository", args=[setup["repo"].pk])).status_code == 404
    assert (
        client.post(
            reverse("backups:repository_run", args=[setup["repo"].pk, "verify"])
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("backups:alert_ack", args=[alert.pk]), {"comment": "x"}).status_code
        == 404
    )
    assert (
        "RH : sauvegarde trop ancienne"
        not in client.get(reverse("backups:alerts")).content.decode()
    )
    # the GHT RSSI sees the member's alert centrally and may acknowledge it
    client.logout()
    login(client, make_user("ght_rssi", setup["tree"].ght))
    assert "RH : sauvegarde trop ancienne" in client.get(reverse("backups:alerts")).content.decode()
    client.post(reverse("backups:alert_ack", args=[alert.pk]), {"comment": "vu par le GHT"})
    alert.refresh_from_db()
    assert alert.ack_comment == "vu par le GHT"


def test_a_crashing_run_is_retried_then_marked_interrupted(setup, monkeypatch):
    from careops.backups import choices

    run = VerificationRun.objects.create(
        organisation=setup["repo"].organisation, repository=setup["repo"], kind="verify"
    )

    def boom(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "run_verification", boom)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            services.execute_run(run.pk)
        run.refresh_from_db()
        assert run.attempts == attempt
    assert run.status == choices.RunStatus.CRASHED and run.outcome == "error"
    assert services.execute_run(run.pk) is None  # never run again once given up
