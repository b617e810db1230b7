"""Audits left queued or running by a killed worker are failed by the periodic sweeper, with a
French reason and no level; the clock is moved with time-machine, nothing sleeps."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from careops import config
from careops.compliance.models import Evidence
from careops.core.models import AuditEvent
from careops.directory import services, tasks
from careops.directory.engine import analyze
from careops.directory.models import Audit, AuditSource, AuditStatus, Domain
from tests.conftest import PASSWORD
from tests.directory.synthetic import NOW, clean

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
REASON = "audit interrompu : le processus de collecte s'est arrêté (durée maximale dépassée)"


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.ej_a)


@pytest.fixture
def domain(org_tree, rssi):
    return services.save_domain(rssi, Domain(organisation=org_tree.ej_a, name="hop.test"))


@pytest.fixture(autouse=True)
def limit(settings):
    settings.DIRECTORY_AUDIT_TIMEOUT_MINUTES = 60
    return settings


def at(minutes: float):
    return time_machine.travel(T0 + dt.timedelta(minutes=minutes), tick=False)


def queued(domain, rssi) -> Audit:
    return Audit.objects.create(domain=domain, source=AuditSource.LDAP, requested_by=rssi)


def claim(run: Audit) -> None:
    """What a worker does when it takes the audit (``execute_audit``'s claim)."""
    from django.utils import timezone

    now = timezone.now()
    Audit.objects.filter(pk=run.pk).update(
        status=AuditStatus.RUNNING, started_at=now, heartbeat_at=now, progress=1
    )


def test_running_audit_of_a_dead_worker_is_failed_with_a_french_reason(domain, rssi):
    with at(0):
        run = queued(domain, rssi)
        claim(run)
    with at(10):
        services._progress(run.pk, 40, "12000 objets collectés")  # last sign of life
    with at(69):
        assert services.fail_stale_audits() == []  # 59 minutes of silence: still trusted
    with at(71):
        assert services.fail_stale_audits() == [run.pk]
    run.refresh_from_db()
    assert run.status == AuditStatus.FAILED and run.message == REASON
    assert run.level is None and not run.level_complete
    assert run.finished_at == T0 + dt.timedelta(minutes=71)
    event = AuditEvent.objects.get(action="directory.audit.fail")
    assert REASON in event.summary and "hop.test" in event.summary
    with at(80):
        assert services.fail_stale_audits() == []  # once only


def test_a_worker_that_comes_back_late_writes_nothing_over_the_failure(domain, rssi):
    with at(0):
        run = queued(domain, rssi)
        claim(run)
    with at(61):
        services.fail_stale_audits()
        services._progress(run.pk, 80, "analyse des points de contrôle")
        late = services._record(run, analyze(clean().dump, NOW))
    assert late.status == AuditStatus.FAILED and late.message == REASON
    assert late.level is None and late.progress == 1
    assert not Evidence.objects.filter(kind="ads_audit").exists()
    assert domain.latest_audit() is None  # partial data is never a level


def test_queued_audit_never_taken_is_failed_and_recent_ones_are_kept(domain, rssi):
    with at(0):
        lost = queued(domain, rssi)
    with at(30):
        recent = queued(domain, rssi)
        alive = queued(domain, rssi)
        claim(alive)
    with at(55):
        services._progress(alive.pk, 50, "30000 objets collectés")
    with at(61):
        assert services.fail_stale_audits() == [lost.pk]
    assert Audit.objects.get(pk=recent.pk).status == AuditStatus.QUEUED
    assert Audit.objects.get(pk=alive.pk).status == AuditStatus.RUNNING


def test_finished_audits_are_left_alone(domain, rssi):
    with at(0):
        done = queued(domain, rssi)
        Audit.objects.filter(pk=done.pk).update(status=AuditStatus.DONE, level=4)
        failed = queued(domain, rssi)
        Audit.objects.filter(pk=failed.pk).update(status=AuditStatus.FAILED, message="autre")
    with at(24 * 60):
        assert services.fail_stale_audits() == []
    assert Audit.objects.get(pk=done.pk).level == 4
    assert Audit.objects.get(pk=failed.pk).message == "autre"


def test_the_limit_is_a_setting(domain, rssi, limit):
    limit.DIRECTORY_AUDIT_TIMEOUT_MINUTES = 5
    with at(0):
        run = queued(domain, rssi)
        claim(run)
    with at(4):
        assert services.fail_stale_audits() == []
    with at(6):
        assert services.fail_stale_audits() == [run.pk]


def test_the_limit_is_read_by_the_configuration_loader():
    assert config.load({})["DIRECTORY_AUDIT_TIMEOUT_MINUTES"] == 60
    values = config.load({"CAREOPS_DIRECTORY_AUDIT_TIMEOUT_MINUTES": "90"})
    assert values["DIRECTORY_AUDIT_TIMEOUT_MINUTES"] == 90
    with pytest.raises(config.ConfigError):
        config.load({"CAREOPS_DIRECTORY_AUDIT_TIMEOUT_MINUTES": "une heure"})


def test_periodic_task_sweeps_then_the_domain_is_audited_again_and_pages_show_it(
    domain, rssi, client, tmp_path, settings, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from careops.directory.engine import save_dump

    settings.MEDIA_ROOT = tmp_path / "media"
    with at(0):
        stuck = queued(domain, rssi)
        claim(stuck)
        services._progress(stuck.pk, 35, "9000 objets collectés")
        # while it runs, a second audit of the same domain is refused (a double click, an API
        # call), in French, and nothing is queued
        with pytest.raises(ValidationError, match="déjà en cours"):
            services.start_audit(
                rssi, domain, AuditSource.DUMP, SimpleUploadedFile("d.json.gz", b"x")
            )
        assert Audit.objects.filter(domain=domain).count() == 1
    with at(90):
        tasks.fail_stale_audits_task.call_local()
    stuck.refresh_from_db()
    assert stuck.status == AuditStatus.FAILED

    assert client.login(username=rssi.username, password=PASSWORD)
    page = html.unescape(client.get(reverse("directory:audit", args=[stuck.pk])).content.decode())
    assert "L'audit a échoué : " + REASON in page
    assert "35 %" not in page  # no progress bar, no partial figure
    detail = html.unescape(
        client.get(reverse("directory:domain", args=[domain.pk])).content.decode()
    )
    assert REASON in detail

    # the domain is audited again: the new audit runs and gives the level
    path = tmp_path / "collecte.json.gz"
    save_dump(clean().dump, path)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.start_audit(
            rssi, domain, AuditSource.DUMP, SimpleUploadedFile("c.json.gz", path.read_bytes())
        )
    again.refresh_from_db()
    assert again.status == AuditStatus.DONE and again.level == 5
    assert domain.latest_audit() == again
    stuck.refresh_from_db()
    assert stuck.status == AuditStatus.FAILED and stuck.message == REASON
