"""The HospiConnect workspace: measurements from uploaded exports, evidence, review, MIE, isolation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from careops.catalogue import services as catalogue_services
from careops.catalogue.models import ReferentialVersion
from careops.compliance import services as compliance
from careops.compliance.models import Evidence, ItemStatus
from careops.hospiconnect import services
from careops.hospiconnect.models import (
    AccountReview,
    ColumnMapping,
    IdentificationMeans,
    IndicatorImport,
    RppsEntry,
)
from tests.conftest import PASSWORD
from tests.core.s3 import use_s3
from tests.hospiconnect.synthetic import rpps, write_rpps_extract
from tests.hospiconnect.test_engine import HEADER, ROWS

DMP = (
    "mois;compte;consultations TD3.1;consentements;file active\n"
    "2027-11;;0;3100;4000\n2027-11;d1;2;0;\n2027-11;n1;1;0;\n"
)


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def dpi_upload(rows=ROWS, header=HEADER, name="export-dpi.csv"):
    text = "\n".join(";".join(row) for row in [header, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), "text/csv")


@pytest.fixture
def hc_assessment(org_tree):
    catalogue_services.load_default()
    version = ReferentialVersion.objects.get(domain="HOSPICONNECT", is_current=True)
    return compliance.open_assessment(None, org_tree.ej_b, version)


def post_import(client, org, django_capture_on_commit_callbacks, **extra):
    data = {"as_of": "2026-11-30", "dpi": dpi_upload()} | extra
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("hospiconnect:import_new", args=[org.pk]), data)


@time_machine.travel(dt.datetime(2027, 12, 10, 9, 0, tzinfo=dt.UTC))
def test_rssi_measures_from_exports_and_the_evidence_moves_the_statuses(
    client, org_tree, role_users, hc_assessment, django_capture_on_commit_callbacks
):
    login(client, role_users["es_rssi"])
    dmp = SimpleUploadedFile("dmp.csv", DMP.encode("utf-8"), "text/csv")
    response = post_import(
        client, org_tree.ej_b, django_capture_on_commit_callbacks, dmp=dmp, as_of="2027-11-30"
    )
    run = IndicatorImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "hospiconnect:import", args=[run.pk]
    )
    assert run.status == "done", run.error
    page = client.get(reverse("hospiconnect:import", args=[run.pk])).content.decode()
    assert "Médecins et infirmiers équipés d&#x27;un MIE 2FA" in page
    assert "60\u00a0%" in page and "3 / 5" in page
    # the exports (personal data) are gone, their names kept
    assert run.files["dpi"] == {"name": "export-dpi.csv"}
    assert not any(services.pending_dir().iterdir())
    assert services.pending_objects() == []
    evidence = Evidence.objects.filter(pk__in=run.evidence_ids)
    assert {e.kind for e in evidence} >= {"mfa_coverage", "dmp_consent", "dmp_viewing"}
    statuses = dict(
        ItemStatus.objects.filter(assessment=hc_assessment).values_list("item_code", "status")
    )
    assert statuses["HC.2027.2.1"] == "met"  # 3 100 / 4 000 = 77,5 % ≥ 75 %
    assert statuses["HC.2027.1.3"] == "not_met"  # 3 / 5
    organisation_page = client.get(reverse("hospiconnect:organisation", args=[org_tree.ej_b.pk]))
    assert b"<svg" in organisation_page.content


def test_column_mapping_is_remembered_and_a_wrong_export_saves_nothing(
    client, org_tree, role_users, django_capture_on_commit_callbacks
):
    login(client, role_users["es_rssi"])
    header = ["Identifiant", "Nom", "Profession", "Numéro pro", "Actif", "Authentification"]
    post_import(
        client, org_tree.ej_b, django_capture_on_commit_callbacks, dpi=dpi_upload(header=header)
    )
    failed = IndicatorImport.objects.get()
    assert failed.status == "failed"
    assert "colonne(s) obligatoire(s) introuvable(s) : RPPS" in failed.error
    assert failed.evidence_ids == [] and not Evidence.objects.exists()
    post_import(
        client,
        org_tree.ej_b,
        django_capture_on_commit_callbacks,
        dpi=dpi_upload(header=header),
        map_dpi_rpps="Numéro pro",
    )
    assert IndicatorImport.objects.order_by("-pk").first().status == "done"
    assert ColumnMapping.objects.get(source="dpi").mapping == {"rpps": "Numéro pro"}
    form = client.get(reverse("hospiconnect:import_new", args=[org_tree.ej_b.pk])).content.decode()
    assert 'value="Numéro pro"' in form


def test_isolation_and_roles(
    client, org_tree, role_users, make_user, django_capture_on_commit_callbacks
):
    login(client, role_users["es_rssi"])
    post_import(client, org_tree.ej_b, django_capture_on_commit_callbacks)
    run = IndicatorImport.objects.get()
    urls = [
        reverse("hospiconnect:import", args=[run.pk]),
        reverse("hospiconnect:organisation", args=[org_tree.ej_b.pk]),
        reverse("hospiconnect:failing_csv", args=[run.pk, "mfa_all"]),
    ]
    client.logout()
    login(client, make_user("es_rssi", org_tree.ej_other))  # an RSSI of another region
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.logout()
    login(client, role_users["ght_rssi"])  # the GHT above sees it
    assert client.get(urls[0]).status_code == 200
    client.logout()
    login(client, role_users["reader"])  # a reader of a site of EJ B: no import
    response = client.get(reverse("hospiconnect:import_new", args=[org_tree.ej_b.pk]))
    assert response.status_code == 404
    index = client.get(reverse("hospiconnect:index")).content.decode()
    assert "CH Alpha" not in index


def test_failing_accounts_csv_neutralises_formulas(
    client, org_tree, role_users, django_capture_on_commit_callbacks
):
    login(client, role_users["es_rssi"])
    rows = [*ROWS, ['=HYPERLINK("http://x")', "+Nom", "Médecin", "", "oui", "SMS"]]
    post_import(
        client, org_tree.ej_b, django_capture_on_commit_callbacks, dpi=dpi_upload(rows=rows)
    )
    run = IndicatorImport.objects.get()
    body = client.get(reverse("hospiconnect:failing_csv", args=[run.pk, "rpps_all"])).content
    text = body.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+Nom" in text
    assert "\n=" not in text and ";+" not in text


@time_machine.travel(dt.datetime(2027, 12, 10, 9, 0, tzinfo=dt.UTC))
def test_account_review_from_an_export_becomes_evidence(
    client, org_tree, role_users, hc_assessment, django_capture_on_commit_callbacks
):
    login(client, role_users["es_rssi"])
    post_import(
        client,
        org_tree.ej_b,
        django_capture_on_commit_callbacks,
        create_review="on",
        review_automatic="on",
        as_of="2027-11-30",
    )
    review = AccountReview.objects.get()
    assert review.lines.count() == 9 and review.automatic
    url = reverse("hospiconnect:review", args=[review.pk])
    n3 = review.lines.get(account="n3")
    client.post(url, {"action": "decide", "lines": [n3.pk], "decision": "revoked"})
    n3.refresh_from_db()
    assert n3.decision == ""  # a revocation needs its reason
    client.post(
        url, {"action": "decide", "lines": [n3.pk], "decision": "revoked", "comment": "départ"}
    )
    client.post(url, {"action": "complete"})
    review.refresh_from_db()
    assert review.status == "open"  # 8 accounts still to review
    client.post(url, {"action": "confirm_all"})
    client.post(url, {"action": "complete"})
    review.refresh_from_db()
    assert review.status == "done"
    evidence = Evidence.objects.get(pk=review.evidence_id)
    revision = evidence.revisions.get()
    assert evidence.kind == "access_review"
    assert {k: revision.attributes[k] for k in ("automatic_review", "accounts", "revoked")} == {
        "automatic_review": True,
        "accounts": 9,
        "revoked": 1,
    }
    revoked = review.lines.get(account="n3")
    assert revoked.decided_by == role_users["es_rssi"] and revoked.comment == "départ"
    statuses = dict(
        ItemStatus.objects.filter(assessment=hc_assessment).values_list("item_code", "status")
    )
    assert statuses["HC.2027.1.2"] in {"partial", "missing_evidence", "not_met"}  # review alone


def test_identification_means_inventory(client, org_tree, role_users, make_user):
    login(client, role_users["es_rssi"])
    url = reverse("hospiconnect:means", args=[org_tree.ej_b.pk])
    client.post(
        url,
        {
            "kind": "e_cps",
            "holder_account": "d1",
            "holder_name": "Martin",
            "issued_on": "2026-02-01",
        },
    )
    means = IdentificationMeans.objects.get()
    assert means.get_kind_display() == "e-CPS" and means.issued_on == dt.date(2026, 2, 1)
    client.logout()
    login(client, role_users["contributor"])  # contributor of EJ B may change
    client.post(reverse("hospiconnect:means_revoke", args=[means.pk]))
    means.refresh_from_db()
    assert means.revoked_on is not None
    client.logout()
    login(client, make_user("es_rssi", org_tree.ej_other))
    assert client.post(reverse("hospiconnect:means_revoke", args=[means.pk])).status_code == 404


def test_rpps_directory_import_checks_the_exports_numbers(
    client, org_tree, role_users, tmp_path, django_capture_on_commit_callbacks
):
    extract = tmp_path / "PS_LibreAcces_Personne_activite.txt"
    write_rpps_extract(
        extract, 300, [(1, "10", "Médecin"), (2, "10", "Médecin"), (7, "21", "Pharmacien")]
    )
    call_command("hospiconnect", "rpps-import", str(extract))
    assert RppsEntry.objects.filter(rpps=rpps(1)).get().profession_code == "10"
    login(client, role_users["es_rssi"])
    post_import(client, org_tree.ej_b, django_capture_on_commit_callbacks)
    run = IndicatorImport.objects.get()
    failing = {
        f["account"]: f["reason"]
        for f in next(i for i in run.result["indicators"] if i["id"] == "rpps_all")["failing"]
    }
    assert failing["n1"] == f"RPPS {rpps(4)} absent de l'extraction RPPS fournie"
    assert "d1" not in failing


def test_a_truncated_rpps_extraction_does_not_replace_the_directory(db, tmp_path):
    full, truncated = tmp_path / "complete.txt", tmp_path / "tronquee.txt"
    write_rpps_extract(full, 300, [(1, "10", "Médecin")])
    write_rpps_extract(truncated, 100, [(1, "10", "Médecin")])
    call_command("hospiconnect", "rpps-import", str(full))
    before = RppsEntry.objects.count()
    assert before == 300
    with pytest.raises(CommandError, match="compte 100 professionnels contre 300") as refused:
        call_command("hospiconnect", "rpps-import", str(truncated))
    assert "L'annuaire n'a pas été modifié" in str(refused.value)
    assert RppsEntry.objects.count() == before  # nothing lost
    call_command("hospiconnect", "rpps-import", str(truncated), "--force")
    assert RppsEntry.objects.count() == 100


def test_uploads_other_than_csv_or_xlsx_are_refused(client, org_tree, role_users):
    login(client, role_users["es_rssi"])
    response = client.post(
        reverse("hospiconnect:import_new", args=[org_tree.ej_b.pk]),
        {
            "as_of": "2026-11-30",
            "dpi": SimpleUploadedFile("x.exe", b"MZ...", "application/octet-stream"),
        },
    )
    assert response.status_code == 200
    assert "export CSV ou XLSX attendu" in response.content.decode()
    assert not IndicatorImport.objects.exists()
    assert not any(Path(services.pending_dir()).iterdir())
    assert services.pending_objects() == []


def test_future_dates_impossible_counts_and_duplicate_means_are_refused(
    client, org_tree, role_users, django_capture_on_commit_callbacks
):
    login(client, role_users["es_rssi"])
    response = post_import(
        client, org_tree.ej_b, django_capture_on_commit_callbacks, as_of="2099-01-01"
    )
    assert "ne peut pas être postérieure à aujourd" in response.content.decode()
    assert not IndicatorImport.objects.exists()
    dmp = SimpleUploadedFile(
        "dmp.csv",
        b"mois;compte;consultations;consentements;file active\n2026-11;;0;99999999999999999999;5\n"
        b"2026-10;;0;40;5\n",
        "text/csv",
    )
    post_import(client, org_tree.ej_b, django_capture_on_commit_callbacks, dmp=dmp)
    run = IndicatorImport.objects.get()
    messages = [p["message"] for p in run.result["problems"]]
    assert any("hors limites" in m for m in messages)
    assert any("40 consentements pour une file active de 5" in m for m in messages)
    assert run.result["blocking"] and run.evidence_ids == []
    assert (
        run.result["problems"][0]["file"] == "dmp.csv"
    )  # the user's file name, not the stored one
    url = reverse("hospiconnect:means", args=[org_tree.ej_b.pk])
    client.post(
        url, {"kind": "fido2", "holder_account": "d1", "serial": "SN-1", "issued_on": "2099-01-01"}
    )
    assert not IdentificationMeans.objects.exists()
    client.post(url, {"kind": "fido2", "holder_account": "d1", "serial": "SN-1"})
    page = client.post(
        url, {"kind": "fido2", "holder_account": "n1", "serial": "SN-1"}
    ).content.decode()
    assert "déjà en service" in page and IdentificationMeans.objects.count() == 1
    means = IdentificationMeans.objects.get()
    client.post(reverse("hospiconnect:means_revoke", args=[means.pk]))
    again = client.post(reverse("hospiconnect:means_revoke", args=[means.pk]), follow=True)
    assert "déjà révoqué" in again.content.decode()


def _queue_import(client, organisation, monkeypatch, django_capture_on_commit_callbacks) -> int:
    """Upload a DPI export through the page with the queue held: the task runs later (on
    another machine); returns the id of the import it would compute."""
    from careops.hospiconnect import tasks

    queued = []
    monkeypatch.setattr(tasks, "run_import_task", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("hospiconnect:import_new", args=[organisation.pk]),
            {"as_of": "2026-11-30", "dpi": dpi_upload()},
        )
    (run_id,) = queued
    return run_id


def test_a_worker_on_another_machine_reads_the_export_from_the_shared_store(
    client,
    org_tree,
    role_users,
    settings,
    s3_bucket,
    tmp_path,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """Several web nodes and workers (docs/deployment.md): the export received by a web node
    waits in the S3 store, not on that node's disk, and the worker that computes it (another
    data folder, standing for another machine) finds it there; nothing is left afterwards."""
    s3, bucket = s3_bucket
    use_s3(settings)
    login(client, role_users["es_rssi"])
    settings.DATA_DIR = tmp_path / "web-node"
    run_id = _queue_import(client, org_tree.ej_b, monkeypatch, django_capture_on_commit_callbacks)
    waiting = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert len(waiting) == 1 and waiting[0].startswith("careops/transient/hospiconnect/")
    assert not (tmp_path / "web-node" / "hospiconnect").exists()  # nothing on the web node

    settings.DATA_DIR = tmp_path / "worker-node"
    run = services.run_import(run_id)
    assert run.status == "done", run.error
    assert run.files["dpi"] == {"name": "export-dpi.csv"}
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)  # the personal data is gone
    assert not any(services.pending_dir().iterdir())


def test_an_export_lost_before_the_task_ran_is_named_in_french(
    client, org_tree, role_users, monkeypatch, django_capture_on_commit_callbacks
):
    from careops.core import storage

    login(client, role_users["es_rssi"])
    run_id = _queue_import(client, org_tree.ej_b, monkeypatch, django_capture_on_commit_callbacks)
    (waiting,) = services.pending_objects()
    storage.current().delete(waiting)
    run = services.run_import(run_id)
    assert run.status == "failed"
    assert "export(s) introuvable(s) sur le serveur : export-dpi.csv" in run.error
