"""The directory app: domains, encrypted credentials, audits as tasks, evidence, views, API."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careops.compliance.models import Evidence
from careops.core.models import AuditEvent
from careops.directory import services
from careops.directory.engine import save_dump
from careops.directory.models import Audit, AuditSource, AuditStatus, Domain
from tests.conftest import PASSWORD
from tests.directory import samba_lab
from tests.directory.synthetic import NOW, clean, find

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def dump_upload(tmp_path, builder=None, name="collecte.json.gz"):
    path = tmp_path / name
    save_dump((builder or clean()).dump, path)
    return SimpleUploadedFile(name, path.read_bytes())


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.ej_a)


@pytest.fixture
def domain(org_tree, rssi):
    return services.save_domain(
        rssi,
        Domain(organisation=org_tree.ej_a, name="hop.test", dedicated_backup=True),
        password="S3cret-de-lecture!",
    )


def run_import(user, domain, upload, source=AuditSource.DUMP, capture=None):
    with capture(execute=True):
        run = services.start_audit(user, domain, source, upload)
    run.refresh_from_db()
    return run


def test_password_is_stored_encrypted_and_never_logged(domain):
    stored = Domain.objects.get(pk=domain.pk).bind_password_encrypted
    assert stored and "S3cret" not in stored
    assert not AuditEvent.objects.filter(summary__contains="S3cret").exists()
    from careops.core import crypto

    assert crypto.decrypt(stored) == "S3cret-de-lecture!"


def test_import_audit_runs_as_task_and_becomes_evidence(
    domain, rssi, tmp_path, django_capture_on_commit_callbacks
):
    run = run_import(
        rssi, domain, dump_upload(tmp_path), capture=django_capture_on_commit_callbacks
    )
    assert run.status == AuditStatus.DONE and run.progress == 100
    assert run.level == 5 and run.level_complete
    evidence = Evidence.objects.get(pk=run.evidence_id)
    assert evidence.kind == "ads_audit" and evidence.source == "directory"
    assert set(evidence.item_codes) == {"D1.O1.A", "D1.O1.B", "D2.O3.A"}
    revision = evidence.current
    assert revision.attributes["level"] == 5
    assert revision.effective_date == NOW.date()
    assert revision.files.count() == 1
    # Idempotent: running the task again changes nothing and duplicates nothing.
    assert services.execute_audit(run.pk) is None
    assert Evidence.objects.filter(kind="ads_audit").count() == 1


def test_incomplete_collection_gives_no_evidence(
    domain, rssi, tmp_path, django_capture_on_commit_callbacks
):
    b = clean()
    find(b, "CN=AdminSDHolder")["sd"] = None
    b.dump.complete = False
    run = run_import(
        rssi, domain, dump_upload(tmp_path, b), capture=django_capture_on_commit_callbacks
    )
    assert run.status == AuditStatus.DONE and not run.level_complete
    assert run.level == 1  # critical_objects
    assert run.evidence_id is None and "pas définitif" in run.message


def test_truncated_import_fails_with_a_french_message(
    domain, rssi, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("x.json.gz", b"\x1f\x8b\x08\x00garbage")
    run = run_import(rssi, domain, upload, capture=django_capture_on_commit_callbacks)
    assert run.status == AuditStatus.FAILED and "tronqué" in run.message
    assert run.level is None


def test_oradad_zip_import(domain, rssi, tmp_path, django_capture_on_commit_callbacks):
    from pathlib import Path

    fixture = Path(__file__).with_name("data") / "oradad"  # ORADAD's cleartext layout
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path in sorted(fixture.rglob("*")):
            z.write(path, Path("out") / path.relative_to(fixture))
    run = run_import(
        rssi,
        domain,
        SimpleUploadedFile("o.zip", buf.getvalue()),
        AuditSource.ORADAD,
        capture=django_capture_on_commit_callbacks,
    )
    assert run.status == AuditStatus.DONE and not run.level_complete


def test_waiver_is_kept_apart_and_compare(
    domain, rssi, tmp_path, django_capture_on_commit_callbacks, client
):
    first = run_import(
        rssi, domain, dump_upload(tmp_path), capture=django_capture_on_commit_callbacks
    )
    b = clean()
    find(b, "CN=Guest")["a"]["useraccountcontrol"] = ["512"]
    services.add_waiver(
        rssi,
        domain,
        "vuln_guest-l2",
        "Borne d'accueil surveillée",
        dt.date.today() + dt.timedelta(days=90),
    )
    second = run_import(
        rssi,
        domain,
        dump_upload(tmp_path, b, "b.json.gz"),
        capture=django_capture_on_commit_callbacks,
    )
    assert second.level == 2  # a waiver never hides the computed level
    assert second.result["waived"] == ["vuln_guest-l2"]
    diff = services.compare(first, second)
    assert [p["id"] for p in diff["new"]] == ["vuln_guest-l2"] and diff["level_delta"] == -3
    login(client, rssi)
    page = client.get(reverse("directory:compare", args=[second.pk, first.pk]))
    assert page.status_code == 200 and "vuln_guest-l2" in page.content.decode()
    page = client.get(reverse("directory:audit", args=[second.pk]))
    assert (
        "Borne d&#x27;accueil" in page.content.decode()
        or "Borne d'accueil" in page.content.decode()
    )
    expires = (dt.date.today() + dt.timedelta(days=90)).strftime("%d/%m/%Y")
    assert f"jusqu'au {expires}" in page.content.decode().replace("&#x27;", "'")
    report = client.get(reverse("directory:report", args=[second.pk]))
    assert f"({expires})" in report.content.decode()


def test_pages_render_and_tenancy(
    domain, rssi, tmp_path, client, org_tree, make_user, django_capture_on_commit_callbacks
):
    run = run_import(
        rssi, domain, dump_upload(tmp_path), capture=django_capture_on_commit_callbacks
    )
    login(client, rssi)
    for url in [
        reverse("directory:index"),
        reverse("directory:domain", args=[domain.pk]),
        reverse("directory:audit", args=[run.pk]),
        reverse("directory:report", args=[run.pk]),
        reverse("directory:domain_edit", args=[domain.pk]),
        reverse("directory:domain_new"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "niveau 5" in client.get(reverse("directory:index")).content.decode()
    trend = client.get(reverse("directory:domain", args=[domain.pk])).content.decode()
    assert "<svg" in trend and "Évolution du niveau ANSSI" in trend
    report = client.get(reverse("directory:report_fmt", args=[run.pk, "json"]))
    assert report.json()["level"] == 5
    api = client.get(f"/api/directory/audits/{run.pk}").json()
    assert api["level"] == 5 and api["result"]["domain"] == "hop.test"
    assert [d["name"] for d in client.get("/api/directory/domains").json()["items"]] == ["hop.test"]
    assert (
        client.get(f"/api/directory/domains/{domain.pk}/audits").json()["items"][0]["id"] == run.pk
    )
    outsider = make_user("es_rssi", org_tree.ej_other)
    client.logout()
    login(client, outsider)
    assert client.get(reverse("directory:domain", args=[domain.pk])).status_code == 404
    assert client.get(reverse("directory:audit", args=[run.pk])).status_code == 404
    assert "hop.test" not in client.get(reverse("directory:index")).content.decode()
    assert client.get("/api/directory/domains").json() == {"items": [], "count": 0}
    assert client.get(f"/api/directory/audits/{run.pk}").status_code == 404


def test_pdf_report(domain, rssi, tmp_path, client, django_capture_on_commit_callbacks):
    run = run_import(
        rssi, domain, dump_upload(tmp_path), capture=django_capture_on_commit_callbacks
    )
    login(client, rssi)
    response = client.get(reverse("directory:report_fmt", args=[run.pk, "pdf"]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_domain_form_and_reader_cannot_start(client, org_tree, rssi, make_user):
    login(client, rssi)
    response = client.post(
        reverse("directory:domain_new"),
        {
            "organisation": org_tree.ej_a.pk,
            "name": "chu.local",
            "server_url": "ldaps://dc.chu.local",
            "authentication": "simple",
            "bind_user": "lecture@chu.local",
            "password": "abc-Secret-1",
            "convergence_status": "planned",
            "target_forest": "ght.local",
        },
    )
    assert response.status_code == 302
    domain = Domain.objects.get(name="chu.local")
    assert domain.has_credentials
    reader = make_user("reader", org_tree.ej_a)
    client.logout()
    login(client, reader)
    assert client.post(reverse("directory:audit_start", args=[domain.pk])).status_code == 404
    assert client.post(f"/api/directory/domains/{domain.pk}/audits").status_code == 403


def test_ght_convergence_view_and_evidence(client, org_tree, make_user, rssi):
    ght_rssi = make_user("ght_rssi", org_tree.ght)
    for org, name, status in [
        (org_tree.ej_a, "alpha.local", "converged"),
        (org_tree.ej_b, "beta.local", "in_progress"),
    ]:
        services.save_domain(
            ght_rssi,
            Domain(
                organisation=org,
                name=name,
                target_forest="ght.local",
                convergence_status=status,
                convergence_due=dt.date(2027, 6, 30),
            ),
        )
    login(client, ght_rssi)
    page = client.get(reverse("directory:convergence", args=[org_tree.ght.pk])).content.decode()
    assert (
        "alpha.local" in page and "beta.local" in page and "1 domaine(s) convergé(s) sur 2" in page
    )
    response = client.post(reverse("directory:convergence_evidence", args=[org_tree.ght.pk]))
    assert response.status_code == 302
    kinds = set(Evidence.objects.filter(organisation=org_tree.ght).values_list("kind", flat=True))
    assert kinds == {"ad_convergence_progress", "ad_convergence_trajectory"}


@pytest.mark.parametrize(
    "bind_user, authentication",
    [("Administrator@care.test", "simple"), ("CARE\\Administrator", "ntlm")],
)
def test_ldap_audit_task_against_samba(
    samba_dc, org_tree, rssi, django_capture_on_commit_callbacks, bind_user, authentication
):
    # the lab DC listens on loopback: an administrator enables internal targets (egress policy)
    org_tree.ej_a.__class__.objects.filter(pk=org_tree.ej_a.pk).update(internal_targets=True)
    domain = services.save_domain(
        rssi,
        Domain(
            organisation=org_tree.ej_a,
            name="care.test",
            server_url=samba_dc.url,
            bind_user=bind_user,
            authentication=authentication,
            tls_name="DC1.care.test",
            ca_certificate=open(samba_dc.ca_file).read(),
        ),
        password=samba_lab.ADMIN_PASSWORD,
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_audit(rssi, domain)
    run.refresh_from_db()
    assert run.status == AuditStatus.DONE, run.message
    assert run.level == 1 and run.level_complete
    assert Evidence.objects.get(pk=run.evidence_id).current.attributes["level"] == 1
    fails = {p["id"] for p in run.result["points"] if p["status"] == "fail"}
    assert "vuln_spn_priv-l1" in fails
    assert Audit.objects.filter(domain=domain).count() == 1
