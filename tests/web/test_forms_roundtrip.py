"""Every form round-trips: what a page renders, submitted back unchanged, changes nothing.

Forms are discovered programmatically (every ``forms`` module of careops), so a new form is
covered the day it is written: it must derive from careops.core.forms, and each of its date
fields must render a value the browser's date picker shows (ISO) and read it back unchanged.
The typed facts and attributes (no JSON typed by users) are round-tripped through the pages.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import inspect
import pkgutil
import re
from html.parser import HTMLParser

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation

import careops
from careops.compliance import services
from careops.compliance.models import Evidence
from careops.core import forms as base
from tests.web.conftest import CANDIDACY
from tests.web.helpers import pdf_upload


def discovered_forms() -> list[type]:
    """Every form class defined in a ``forms`` module of careops."""
    found = []
    for info in pkgutil.walk_packages(careops.__path__, "careops."):
        if not info.name.endswith(".forms") or ".engine" in info.name:
            continue
        module = importlib.import_module(info.name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
                and value.__name__ not in {"Form", "ModelForm"}
            ):
                found.append(value)
    return found


FORMS = discovered_forms()


def test_forms_are_discovered():
    names = {f.__name__ for f in FORMS}
    assert {"AssessmentForm", "EvidenceForm", "ExerciseForm", "DomainForm"} <= names
    assert len(FORMS) >= 25


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_date_field_round_trips_in_french(form_class):
    assert issubclass(form_class, base.CareopsFormMixin), (
        f"{form_class.__name__} must derive from careops.core.forms.Form/ModelForm"
    )

    class Holder:
        fields = copy.deepcopy(form_class.base_fields)

    base.iso_widgets(Holder)
    day = dt.date(2025, 10, 20)
    with translation.override("fr"):
        for name, field in Holder.fields.items():
            if not isinstance(field, forms.DateField) or isinstance(field, forms.DateTimeField):
                continue
            html = field.widget.render(name, day)
            assert 'type="date"' in html, html
            value = re.search(r'value="([^"]*)"', html).group(1)
            assert value == "2025-10-20", f"{form_class.__name__}.{name} renders {value!r}"
            assert field.clean(field.widget.value_from_datadict({name: value}, {}, name)) == day


ENGLISH_LABELS = {
    "Repository",
    "System",
    "Activity",
    "Exercise",
    "Resource",
    "Campaign",
    "Supplier",
}


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_no_field_label_is_left_in_english(form_class):
    with translation.override("fr"):
        labels = {str(field.label) for field in form_class.base_fields.values()}
    assert not labels & ENGLISH_LABELS, f"{form_class.__name__}: {labels & ENGLISH_LABELS}"


class _FormReader(HTMLParser):
    """What a browser submits for the first POST form of a page with nothing touched."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.forms: list[list[tuple[str, str]]] = []
        self.data: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("method") == "post":
            self.inside = True
            self.data = []
            self.forms.append(self.data)
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.append((a["name"], a.get("value", "on")))
            else:
                self.data.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.select, self.select_first, self.select_chosen = a.get("name"), None, False
        elif tag == "option" and self.select:
            if self.select_first is None:
                self.select_first = a.get("value", "")
            if "selected" in a:
                self.data.append((self.select, a.get("value", "")))
                self.select_chosen = True
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self.select:
            if not self.select_chosen and self.select_first is not None:
                self.data.append((self.select, self.select_first))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.data.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def submitted(html: str, field: str = "effective_date") -> dict[str, list[str]]:
    """The data of the page's POST form that has ``field``, as the browser would send it."""
    reader = _FormReader()
    reader.feed(html)
    for data in reader.forms:
        result: dict[str, list[str]] = {}
        for name, value in data:
            result.setdefault(name, []).append(value)
        if field in result:
            return result
    raise AssertionError(f"no form with {field}")


@pytest.fixture
def rssi_client(client, org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    client.force_login(rssi)
    return client


def test_assessment_edit_round_trips_dates_and_facts(rssi_client, org_tree, d2):
    assessment = services.open_assessment(
        None, org_tree.ght, d2, CANDIDACY, facts={"dedicated_backup_ad": False}
    )
    assessment.filing_date = dt.date(2026, 1, 15)
    assessment.save()
    url = reverse("compliance:assessment_edit", args=[assessment.pk])
    page = rssi_client.get(url).content.decode()
    assert "JSON" not in page
    assert f'value="{CANDIDACY.isoformat()}"' in page and 'value="2026-01-15"' in page
    data = submitted(page, "candidacy_date")
    assert data["fact_dedicated_backup_ad"] == ["false"]
    response = rssi_client.post(url, data)
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.candidacy_date == CANDIDACY
    assert assessment.filing_date == dt.date(2026, 1, 15)
    assert assessment.facts == {"dedicated_backup_ad": False}


def test_assessment_fact_is_a_real_field_and_can_be_left_unanswered(rssi_client, org_tree, d2):
    assessment = services.open_assessment(
        None, org_tree.ght, d2, CANDIDACY, facts={"dedicated_backup_ad": True}
    )
    url = reverse("compliance:assessment_edit", args=[assessment.pk])
    page = rssi_client.get(url).content.decode()
    assert "AD dédié à l&#x27;administration de la sauvegarde" in page
    data = submitted(page, "candidacy_date") | {"fact_dedicated_backup_ad": [""]}
    assert rssi_client.post(url, data).status_code == 302
    assessment.refresh_from_db()
    assert assessment.facts == {}
    assert assessment.candidacy_date == CANDIDACY


def test_evidence_attributes_are_typed_fields_and_a_revision_round_trips(
    rssi_client, org_tree, d2, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    assessment = services.open_assessment(None, org_tree.ght, d2, CANDIDACY)
    item = reverse("compliance:item", args=[assessment.pk, "D2.O3.A"])
    page = rssi_client.get(item).content.decode()
    assert "JSON" not in page
    # the 2FA declaration: its option is a choice, its product a text field
    assert 'name="attr_status"' in page and "2FA mise en œuvre" in page
    upload = reverse("compliance:evidence_upload", args=[assessment.pk, "D2.O3.A"])
    response = rssi_client.post(
        upload,
        {
            "kind": "backup_2fa",
            "title": "Déclaration 2FA",
            "effective_date": "2025-11-03",
            "attr_status": "implemented",
            "attr_proof": "capture de la console",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    evidence = Evidence.objects.get(kind="backup_2fa")
    revision = evidence.revisions.get()
    assert revision.attributes == {"status": "implemented", "proof": "capture de la console"}
    detail = reverse("compliance:evidence", args=[evidence.pk])
    shown = rssi_client.get(detail).content.decode()
    table = shown.split("<tbody>")[1].split("</tbody>")[0]
    assert "<dt>Option retenue</dt><dd>2FA mise en œuvre</dd>" in table
    assert "{" not in table  # no raw JSON
    data = submitted(shown)
    assert data["effective_date"] == [""]  # a new revision gets its own date
    data["effective_date"] = ["2025-12-01"]
    assert rssi_client.post(detail, data).status_code == 302
    latest = evidence.revisions.order_by("-number").first()
    assert latest.number == 2
    assert latest.attributes == revision.attributes


def test_a_document_without_file_is_refused_in_french(rssi_client, org_tree, d2):
    assessment = services.open_assessment(None, org_tree.ght, d2, CANDIDACY)
    upload = reverse("compliance:evidence_upload", args=[assessment.pk, "D2.P1"])
    response = rssi_client.post(
        upload, {"kind": "pssi", "title": "PSSI", "effective_date": "2025-11-03"}
    )
    assert response.status_code == 422
    assert "Joignez au moins un fichier" in response.content.decode()
    assert not Evidence.objects.filter(kind="pssi").exists()


def test_a_rejected_file_then_no_file_saves_nothing(rssi_client, org_tree, d2, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path / "media"
    assessment = services.open_assessment(None, org_tree.ght, d2, CANDIDACY)
    upload = reverse("compliance:evidence_upload", args=[assessment.pk, "D2.P1"])
    fields = {"kind": "pssi", "title": "PSSI", "effective_date": "2025-11-03"}
    bad = SimpleUploadedFile("pssi.pdf", b"not a pdf", "application/pdf")
    first = rssi_client.post(upload, {**fields, "files": bad})
    assert first.status_code == 422
    again = rssi_client.post(upload, submitted(first.content.decode()))
    assert again.status_code == 422
    assert not Evidence.objects.filter(kind="pssi").exists()
    ok = rssi_client.post(upload, {**fields, "files": pdf_upload()})
    assert ok.status_code == 302
    assert Evidence.objects.filter(kind="pssi").count() == 1


def test_an_empty_supervision_report_is_not_evidence(rssi_client, org_tree, d2):
    response = rssi_client.post(
        reverse("backups:org_evidence", args=["supervision"]),
        {"organisation": org_tree.ght.pk},
        follow=True,
    )
    assert "Rien à rapporter" in response.content.decode()
    assert not Evidence.objects.filter(kind="backup_monitoring_report").exists()
