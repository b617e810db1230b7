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
import io
import pkgutil
import re
from html.parser import HTMLParser

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict

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


def _sanitized(kind: str | None, value: str) -> str:
    """The value a browser keeps (HTML value sanitization): a date input drops anything but
    ISO "2025-10-20" (so "20/10/2025" is lost), a number input anything but a float ("12,5")."""
    if kind == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return ""
    if kind == "datetime-local" and not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", value
    ):
        return ""
    if kind == "number" and not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", value):
        return ""
    return value


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
                self.data.append((a["name"], _sanitized(a.get("type"), a.get("value") or "")))
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


# --- every model form: fill every field, save, render, re-submit unchanged, compare ----------

MODEL_FORMS = [f for f in FORMS if issubclass(f, forms.BaseModelForm) and f._meta.model]

#: values the generic filler cannot guess (checked formats)
OVERRIDES = {
    "DomainForm": {"server_url": "ldaps://dc.example.test:636", "base_dn": "DC=chu,DC=test"},
    "OrganisationForm": {"finess": "920000999", "kind": "ej"},
    "ActivityForm": {"code": "ZZ-1"},
    "ResourceForm": {"code": "ZZ-2"},
    "RepositoryForm": {"driver": "restic", "location": "/srv/restic"},
    "ProtectedSystemForm": {"manifest": ""},
    "BackupSystemForm": {"twofa_status": "implemented"},
    "AccessPathForm": {"target_networks": "10.20.0.0/24", "ref": "ACC-1"},
}


def _choices(field) -> list[str]:
    values = []
    for value, label in field.choices:
        if isinstance(label, list | tuple):
            values += [str(v) for v, _label in label]
        elif value not in ("", None):
            values.append(str(value))
    return values


def filled(form) -> dict[str, list[str]]:
    """A value for every field of the form, of the field's type."""
    data = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            continue
        if isinstance(field, forms.NullBooleanField):
            data[name] = ["true"]  # the select's « Oui »
        elif isinstance(field, forms.BooleanField):
            data[name] = ["on"]
        elif isinstance(field, forms.ModelMultipleChoiceField):
            data[name] = [str(o.pk) for o in field.queryset[:1]]
        elif isinstance(field, forms.ModelChoiceField):
            data[name] = [str(o.pk) for o in field.queryset[:1]]
        elif isinstance(field, forms.MultipleChoiceField):
            data[name] = _choices(field)[:1]
        elif isinstance(field, forms.ChoiceField):
            data[name] = _choices(field)[-1:]
        elif isinstance(field, forms.DateField):
            data[name] = ["2025-10-20"]
        elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            low = field.min_value if field.min_value is not None else 0
            data[name] = [str(max(low, 3))]
        elif isinstance(field, forms.EmailField):
            data[name] = ["rssi@example.test"]
        elif isinstance(field, forms.URLField):
            data[name] = ["https://intranet.example.test/plan-blanc"]
        elif isinstance(field.widget, forms.PasswordInput):
            data[name] = ["Mot-de-passe-2026"]
        else:
            text = f"{name} : valeur « é » 1"
            data[name] = [text[: field.max_length] if getattr(field, "max_length", None) else text]
    for name, value in OVERRIDES.get(type(form).__name__, {}).items():
        data[name] = [value]
    return data


@pytest.fixture
def form_world(org_tree, make_user):
    """Everything the model forms hang on: a user, a BIA campaign, backup objects."""
    from careops.backups.models import BackupSystem, Trajectory
    from careops.continuity import services as continuity
    from careops.continuity.engine.example import example_bia
    from careops.continuity.engine.workbook import workbook_bytes

    rssi = make_user("ght_rssi", org_tree.ght)
    campaign = continuity.create_campaign(rssi, org_tree.ej_a, "BIA du CH Alpha")
    outcome = continuity.import_workbook(
        rssi, campaign, io.BytesIO(workbook_bytes(example_bia(org_tree.ej_a.finess, "CH Alpha")))
    )
    assert outcome.imported, outcome.problems
    system = BackupSystem.objects.create(
        organisation=org_tree.ght,
        name="Sauvegarde",
        product="Veeam",
        auth_mode="local",
        twofa_status="not_supported",
    )
    campaign.exercises.create(held_on=CANDIDACY, kind="tabletop", perimeter="urgences")
    trajectory = Trajectory.objects.create(
        organisation=org_tree.ght, kind="isolation", title="Isolement", target_date=CANDIDACY
    )
    return {
        "tree": org_tree,
        "user": rssi,
        "campaign": campaign,
        "system": system,
        "trajectory": trajectory,
    }


def _setup(form_class, world):
    """(constructor kwargs, a new unsaved instance with the links the view sets)."""
    model = form_class._meta.model
    name = form_class.__name__
    if form_class.__module__ == "careops.continuity.forms":
        if name == "CampaignPcraForm":
            return {}, world["campaign"]
        instance = model()
        if any(f.name == "campaign" for f in model._meta.fields):
            instance.campaign = world["campaign"]
        return {"campaign": world["campaign"]}, instance
    if name == "OrganisationForm":
        return {"parent": world["tree"].ght}, model()
    instance = model()
    if name == "BackupCopyForm":
        instance.system = world["system"]
    if name == "MilestoneForm":
        instance.trajectory = world["trajectory"]
    if form_class.__module__ == "careops.exercises.forms":
        from careops.exercises import services as exercises

        now = dt.datetime.now(dt.UTC)
        instance.exercise = exercises.plan(world["user"], world["tree"].ej_a, "fuite-donnees", now)
        return {}, instance
    if form_class.__module__ in {"careops.hospiconnect.forms", "careops.maturity.forms"}:
        instance.organisation = world["tree"].ej_a  # the view files it under the page's node
        return {}, instance
    return {"user": world["user"]}, instance


def _stored(obj, names) -> dict:
    from django.forms.models import model_to_dict

    obj.refresh_from_db()
    values = model_to_dict(obj, fields=names)
    return {k: sorted(v) if isinstance(v, list) else v for k, v in values.items()}


@pytest.mark.parametrize("form_class", MODEL_FORMS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_model_form_round_trips_with_every_field_filled(form_class, form_world):
    kwargs, instance = _setup(form_class, form_world)
    first = form_class(instance=instance, **kwargs)
    data = filled(first)
    form = form_class(MultiValueDict(data), instance=instance, **kwargs)
    assert form.is_valid(), (form_class.__name__, form.errors.get_json_data())
    obj = form.save(commit=False)
    for key, value in form.cleaned_data.items():  # what views copy by hand (s3_lock…)
        if key not in form.fields and hasattr(obj, key):
            setattr(obj, key, value)
    obj.save()
    form.save_m2m()
    names = [n for n in form.fields if n in {f.name for f in obj._meta.get_fields()}]
    before = _stored(obj, names)
    empty = [n for n in names if before[n] in (None, "", []) and data.get(n) not in ([], [""])]
    assert not empty, f"{form_class.__name__}: fields lost on the first save: {empty}"

    with translation.override("fr"):
        page = f'<form method="post">{form_class(instance=obj, **kwargs)}</form>'
    resubmitted = MultiValueDict(submitted(page, next(iter(data))))
    again = form_class(resubmitted, instance=obj, **kwargs)
    assert again.is_valid(), (form_class.__name__, again.errors.get_json_data())
    saved = again.save(commit=False)
    for key, value in again.cleaned_data.items():
        if key not in again.fields and hasattr(saved, key):
            setattr(saved, key, value)
    saved.save()
    again.save_m2m()
    assert _stored(saved, names) == before


def test_an_empty_backup_plan_is_not_evidence(rssi_client, org_tree, d2):
    response = rssi_client.post(
        reverse("backups:org_evidence", args=["plan"]),
        {"organisation": org_tree.ght.pk},
        follow=True,
    )
    assert "Preuve vide" in response.content.decode()
    assert not Evidence.objects.filter(kind="backup_plan").exists()


def test_criteria_rows_speak_french_and_show_nested_criteria(rssi_client, org_tree, d2):
    assessment = services.open_assessment(
        None, org_tree.ght, d2, CANDIDACY, facts={"dedicated_backup_ad": True}
    )
    page = rssi_client.get(reverse("compliance:item", args=[assessment.pk, "D2.O3.A"]))
    html = page.content.decode()
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>", html)
    assert rows, html[:500]
    assert not {"document", "trajectory", "conditional", "audit_level"} & {r.strip() for r in rows}
    assert any(r.startswith("↳") for r in rows)
    assert "sans objet : </li>" not in html
