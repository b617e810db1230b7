"""The objective page of an assessment, as an RSSI uses it: status, evidence upload (normal POST
and htmx), refusals of bad files, new revisions of a document, and the referential load page."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from careops.catalogue.models import ReferentialVersion
from careops.compliance import services
from careops.compliance.models import Evidence, EvidenceFile, EvidenceRevision, ItemStatus
from careops.core.models import AuditEvent
from tests.web.conftest import CANDIDACY
from tests.web.helpers import enable_totp, pdf_bytes, pdf_upload

OLD_REASON = "non atteint : la PSSI a été revue le 10/07/2022, avant le 16/07/2022"
NEW_REASON = "atteint : la PSSI a été revue le 01/03/2024"


@pytest.fixture
def media(settings, tmp_path):
    """A media folder of the test's own, to see every file that gets written."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def case(org_tree, d2, make_user, media):
    """A GHT assessed on D2, whose only PSSI was reviewed too early (D2.P1 not met)."""
    rssi = make_user("ght_rssi", org_tree.ght)
    old = services.create_evidence(
        None,
        org_tree.ght,
        "pssi",
        "PSSI 2022",
        services.RevisionInput(
            effective_date=dt.date(2022, 7, 10),
            validated_by="legal_representative",
            files=[pdf_upload("pssi-2022.pdf", marker="2022")],
        ),
        item_codes=["D2.P1"],
    )
    assessment = services.open_assessment(None, org_tree.ght, d2, CANDIDACY)
    return {"rssi": rssi, "assessment": assessment, "old": old, "ght": org_tree.ght}


def item_url(case):
    return reverse("compliance:item", args=[case["assessment"].pk, "D2.P1"])


def upload_url(case):
    return reverse("compliance:evidence_upload", args=[case["assessment"].pk, "D2.P1"])


def new_pssi(**changes):
    data = {
        "kind": "pssi",
        "title": "PSSI révisée 2024",
        "effective_date": "2024-03-01",
        "validated_by": "legal_representative",
        "comment": "revue annuelle",
        "files": pdf_upload("pssi-2024.pdf", marker="2024"),
    }
    data.update(changes)
    return data


def status_section(html: str) -> str:
    """The live status card of the objective page."""
    found = re.search(r'<section[^>]*id="statut".*?</section>', html, re.S)
    assert found, "no status section"
    return found.group(0)


def d2p1(case) -> ItemStatus:
    return case["assessment"].statuses.get(item_code="D2.P1")


def files_on_disk(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def test_item_page_shows_the_status_and_why(client, case):
    client.force_login(case["rssi"])
    response = client.get(item_url(case))
    assert response.status_code == 200
    section = status_section(response.content.decode())
    assert "badge--not_met" in section
    assert "Non atteint" in section
    assert OLD_REASON in section


def test_upload_by_normal_post_makes_the_objective_met(client, case):
    client.force_login(case["rssi"])
    progress_before = case["assessment"].progress
    response = client.post(upload_url(case), new_pssi())
    assert response.status_code == 302
    assert response["Location"] == item_url(case)
    html = client.get(response["Location"]).content.decode()
    section = status_section(html)
    assert "badge--met" in section and "Atteint" in section
    assert NEW_REASON in section
    assert "Preuve enregistrée ; le statut a été recalculé." in html
    assert "PSSI révisée 2024" in html
    # the history says what changed and why
    assert re.search(r"Non atteint</td><td>Atteint</td><td>preuve « PSSI révisée 2024 »", html)
    assert d2p1(case).status == "met"
    case["assessment"].refresh_from_db()
    assert case["assessment"].progress > progress_before
    revision = Evidence.objects.get(title="PSSI révisée 2024").revisions.get()
    assert revision.effective_date == dt.date(2024, 3, 1)
    assert revision.author == case["rssi"]
    assert revision.comment == "revue annuelle"


def test_upload_with_htmx_returns_the_live_fragment_with_the_new_status(client, case):
    client.force_login(case["rssi"])
    response = client.post(upload_url(case), new_pssi(), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    # a fragment for #item-live, not a page
    assert "<html" not in html and "<main" not in html and 'class="nav"' not in html
    section = status_section(html)
    assert "badge--met" in section and NEW_REASON in section
    assert "badge--not_met" not in section
    # the evidence list and a fresh, empty form come with it
    assert "PSSI révisée 2024" in html
    assert 'name="files"' in html and 'value="PSSI révisée 2024"' not in html
    # the status history comes with it too, so that the page stays consistent
    assert re.search(r"Non atteint</td><td>Atteint</td><td>preuve « PSSI révisée 2024 »", html)
    # the evidence kind is shown by its label, not its code
    assert "<td>PSSI</td>" in html
    # the success message is shown in the fragment, not left over for the next page
    assert "Preuve enregistrée" in html
    assert "Preuve enregistrée" not in client.get(item_url(case)).content.decode()
    assert d2p1(case).status == "met"


def test_an_invalid_form_keeps_what_was_typed(client, case):
    client.force_login(case["rssi"])
    response = client.post(
        upload_url(case), new_pssi(effective_date=""), headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Ce champ est obligatoire." in html
    assert 'value="PSSI révisée 2024"' in html
    assert 'aria-invalid="true"' in html
    assert not Evidence.objects.filter(title="PSSI révisée 2024").exists()


BAD_FILES = {
    "exe": (
        lambda: SimpleUploadedFile("pssi.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/pdf"),
        "« pssi.exe » : type de fichier non accepté. Types acceptés : ",
        None,
    ),
    "pdf-with-other-content": (
        lambda: SimpleUploadedFile("pssi.pdf", b"<html>pas un PDF</html>", "application/pdf"),
        "« pssi.pdf » : le contenu ne correspond pas à un fichier .pdf.",
        None,
    ),
    "oversized": (
        lambda: SimpleUploadedFile("pssi.pdf", pdf_bytes("x" * 4000), "application/pdf"),
        "« pssi.pdf » dépasse la taille maximale",
        1024,
    ),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["post", "htmx"])
@pytest.mark.parametrize("bad", BAD_FILES)
def test_bad_upload_is_refused_with_422_and_saves_nothing(bad, htmx, client, case, settings, media):
    make_file, message, limit = BAD_FILES[bad]
    if limit:
        settings.UPLOAD_MAX_BYTES = limit
    client.force_login(case["rssi"])
    before = {
        "evidence": Evidence.objects.count(),
        "revisions": EvidenceRevision.objects.count(),
        "files": EvidenceFile.objects.count(),
        "events": AuditEvent.objects.count(),
        "disk": files_on_disk(media),
    }
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(upload_url(case), new_pssi(files=make_file()), headers=headers)
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert 'id="id_files_error"' in html
    assert ("<html" in html) is not htmx
    after = {
        "evidence": Evidence.objects.count(),
        "revisions": EvidenceRevision.objects.count(),
        "files": EvidenceFile.objects.count(),
        "events": AuditEvent.objects.count(),
        "disk": files_on_disk(media),
    }
    assert after == before
    assert d2p1(case).status == "not_met"


def test_good_and_bad_files_together_save_nothing(client, case, media):
    client.force_login(case["rssi"])
    disk = files_on_disk(media)
    response = client.post(
        upload_url(case),
        new_pssi(files=[pdf_upload("ok.pdf", "ok"), SimpleUploadedFile("x.exe", b"MZ")]),
    )
    assert response.status_code == 422
    assert not Evidence.objects.filter(title="PSSI révisée 2024").exists()
    assert files_on_disk(media) == disk


# --- revisions ---------------------------------------------------------------------------


def test_new_revision_keeps_the_older_ones_and_their_sha256(client, case):
    client.force_login(case["rssi"])
    old = case["old"]
    first = old.revisions.get().files.get()
    first_bytes = pdf_bytes("2022")
    assert first.sha256 == hashlib.sha256(first_bytes).hexdigest()
    second_bytes = pdf_bytes("2024-rev")
    url = reverse("compliance:evidence", args=[old.pk])
    response = client.post(
        url,
        {
            "effective_date": "2024-03-01",
            "validated_by": "legal_representative",
            "files": SimpleUploadedFile("pssi-2024.pdf", second_bytes, "application/pdf"),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url
    html = client.get(url).content.decode()
    assert "Nouvelle révision enregistrée." in html
    second_sha = hashlib.sha256(second_bytes).hexdigest()
    assert first.sha256 in html and second_sha in html
    assert "10/07/2022" in html and "01/03/2024" in html
    assert html.index(second_sha) < html.index(first.sha256)  # newest first
    # revision 1 is untouched, and its file still downloads as it was
    revisions = list(old.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].effective_date == dt.date(2022, 7, 10)
    assert revisions[0].files.get().sha256 == first.sha256
    download = client.get(reverse("compliance:file", args=[first.pk]))
    assert b"".join(download.streaming_content) == first_bytes
    assert download["X-Content-Type-Options"] == "nosniff"
    # and the newest revision is the one the status is computed from
    assert d2p1(case).status == "met"


def test_bad_revision_file_adds_no_revision(client, case, media):
    client.force_login(case["rssi"])
    old = case["old"]
    disk = files_on_disk(media)
    response = client.post(
        reverse("compliance:evidence", args=[old.pk]),
        {"effective_date": "2024-03-01", "files": SimpleUploadedFile("x.exe", b"MZ")},
    )
    assert "type de fichier non accepté" in response.content.decode()
    assert old.revisions.count() == 1
    assert files_on_disk(media) == disk


def test_bad_revision_file_answers_422(client, case):
    client.force_login(case["rssi"])
    response = client.post(
        reverse("compliance:evidence", args=[case["old"].pk]),
        {"effective_date": "2024-03-01", "files": SimpleUploadedFile("x.exe", b"MZ")},
    )
    assert response.status_code == 422


# --- loading the referential -------------------------------------------------------------

MALFORMED = b"domain: D9\nversion: '1'\nitems:\n  - id: [unclosed\n    kind: x\n"
WRONG_CRITERION = (
    b"domain: D2\n"
    b"version: '99'\n"
    b"status: published\n"
    b"title: Essai\n"
    b"items:\n"
    b"  - id: D2.P1\n"
    b"    kind: prerequisite\n"
    b"    title: x\n"
    b"    criteria:\n"
    b"      - type: type_inconnu\n"
)


@pytest.fixture
def admin_client(client, make_user, org_tree):
    admin = enable_totp(make_user("administrator", org_tree.ans))
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    ("content", "where", "what"),
    [
        (MALFORMED, "bad.yaml:5", "YAML illisible"),
        (WRONG_CRITERION, "bad.yaml:10", "type de critère inconnu"),
    ],
    ids=["unreadable-yaml", "unknown-criterion"],
)
def test_referential_load_refuses_a_bad_file_with_file_and_line(
    admin_client, d2, content, where, what
):
    before = list(ReferentialVersion.objects.values_list("pk", "sha256"))
    response = admin_client.post(
        reverse("catalogue:load"),
        {"file": SimpleUploadedFile("bad.yaml", content, "application/yaml")},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Chargement refusé" in html
    problems = re.findall(r"<li><code>(.*?)</code></li>", html)
    assert any(where in p and what in p for p in problems), problems
    assert list(ReferentialVersion.objects.values_list("pk", "sha256")) == before


def test_referential_load_messages_do_not_show_server_paths(admin_client, d2):
    response = admin_client.post(
        reverse("catalogue:load"),
        {"file": SimpleUploadedFile("bad.yaml", MALFORMED, "application/yaml")},
    )
    assert "/tmp" not in response.content.decode()


def test_referential_load_refuses_a_non_yaml_file(admin_client, d2):
    response = admin_client.post(
        reverse("catalogue:load"),
        {"file": SimpleUploadedFile("d2.exe", b"MZ", "application/octet-stream")},
    )
    assert response.status_code == 422
    assert "Le fichier doit être un .yaml de moins de 2 Mo." in response.content.decode()


@pytest.mark.parametrize("role", ["ght_rssi", "es_rssi", "reader"])
def test_referential_load_page_is_for_administrators_only(role, client, users, d2):
    client.force_login(users[role])
    assert client.get(reverse("catalogue:load")).status_code == 403
    response = client.post(
        reverse("catalogue:load"),
        {"file": SimpleUploadedFile("bad.yaml", MALFORMED, "application/yaml")},
    )
    assert response.status_code == 403
