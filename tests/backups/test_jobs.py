"""Job reports of other products: import, duplicates, stale and failed-job alerts."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from careops.backups import services
from careops.backups.models import Alert, JobRecord, ProtectedSystem
from tests.backups.test_app import login


def _csv(now):
    old = now - dt.timedelta(days=2)
    return (
        "Système;Tâche;Statut;Début;Fin;Message\n"
        f"PACS;PACS-nuit;Réussi;{old:%Y-%m-%d %H:%M:%S}+00:00;{old:%Y-%m-%d %H:%M:%S}+00:00;\n"
        f"PACS;PACS-nuit;Échec;{now:%Y-%m-%d %H:%M:%S}+00:00;{now:%Y-%m-%d %H:%M:%S}+00:00;bande pleine\n"
        f"LABO;LABO-nuit;Success;{now:%Y-%m-%d %H:%M:%S}+00:00;{now:%Y-%m-%d %H:%M:%S}+00:00;\n"
    ).encode()


def test_import_raises_stale_and_failed_job_alerts_once(
    client, org_tree, make_user, django_capture_on_commit_callbacks
):
    rssi = make_user("es_rssi", org_tree.ej_a)
    rssi.email = "rssi.alpha@example.test"
    rssi.save()
    pacs = ProtectedSystem.objects.create(
        organisation=org_tree.ej_a, name="PACS", rpo_hours=24, job_name="PACS"
    )
    labo = ProtectedSystem.objects.create(
        organisation=org_tree.ej_a, name="Laboratoire", rpo_hours=24, job_name="LABO"
    )
    login(client, rssi)
    content = _csv(timezone.now().replace(microsecond=0))
    with_file = {
        "organisation": org_tree.ej_a.pk,
        "format": "auto",
        "file": SimpleUploadedFile("veeam.csv", content, "text/csv"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backups:jobs_import"), with_file)
    assert response.status_code == 302
    assert JobRecord.objects.count() == 3
    pacs.refresh_from_db()
    labo.refresh_from_db()
    assert (pacs.freshness_status, labo.freshness_status) == ("failed", "ok")
    kinds = sorted(Alert.objects.values_list("kind", flat=True))
    assert kinds == ["job_failed", "stale"]
    assert len(mail.outbox) == 2
    # importing the same report again adds nothing and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        created, total = services.import_job_report(rssi, org_tree.ej_a, content, "veeam.csv")
    assert (created, total) == (0, 3)
    assert Alert.objects.count() == 2 and len(mail.outbox) == 2


def test_unreadable_report_is_refused_in_french(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a)
    login(client, rssi)
    response = client.post(
        reverse("backups:jobs_import"),
        {
            "organisation": org_tree.ej_a.pk,
            "format": "json",
            "file": SimpleUploadedFile("r.json", b"{pas du json", "application/json"),
        },
    )
    assert response.status_code == 200
    assert "JSON illisible" in response.content.decode()
    assert not JobRecord.objects.exists()


def test_monitoring_and_plan_evidence(client, org_tree, make_user):
    from careops.compliance.models import Evidence

    rssi = make_user("ght_rssi", org_tree.ght)
    login(client, rssi)
    ProtectedSystem.objects.create(
        organisation=org_tree.ej_a, name="PACS", rpo_hours=24, job_name="P"
    )
    client.post(
        reverse("backups:org_evidence", args=["supervision"]), {"organisation": org_tree.ght.pk}
    )
    client.post(reverse("backups:org_evidence", args=["plan"]), {"organisation": org_tree.ght.pk})
    report = Evidence.objects.get(kind="backup_monitoring_report")
    assert report.item_codes == ["D2.O3.D"] and report.current.attributes["systems"] == 1
    plan = Evidence.objects.get(kind="backup_plan")
    assert plan.item_codes == ["D2.O2.B"]
    assert plan.current.attributes["systems"][0]["name"] == "PACS"


def test_a_report_in_another_encoding_or_with_a_nul_is_refused_and_keeps_the_jobs(
    client, org_tree, make_user, caplog
):
    """A byte that is not UTF-8 was a 500; a NUL reached PostgreSQL (a 500 there); the jobs
    already imported stay."""
    rssi = make_user("es_rssi", org_tree.ej_a)
    login(client, rssi)
    services.import_job_report(rssi, org_tree.ej_a, _csv(timezone.now()), "veeam.csv")
    for content, said in (
        (
            _csv(timezone.now()).decode().encode("cp1252"),
            "veeam.csv : caractère illisible en UTF-8",
        ),
        (_csv(timezone.now()).replace(b"PACS-nuit", b"PACS\x00"), "ligne 2 : caractère nul"),
    ):
        response = client.post(
            reverse("backups:jobs_import"),
            {
                "organisation": org_tree.ej_a.pk,
                "format": "auto",
                "file": SimpleUploadedFile("veeam.csv", content, "text/csv"),
            },
        )
        assert response.status_code == 200
        assert said in response.content.decode() and said in caplog.text  # page and logs
        assert JobRecord.objects.count() == 3
