"""Whole numbers and object ids beyond what a database column holds, and ids that are not
numbers, posted to the pages: a French form error or a 404, never a 500.

Found from outside with the demo on SQLite: « 99999999999999999999 » in a remote-access path's
retention days or in an evidence revision's covered entities raised OverflowError, and
« candidate=x » on the candidacy form raised ValueError (three 500s)."""

from __future__ import annotations

import pytest
from django import forms
from django.test import Client

from careops.compliance import services as compliance
from careops.core import forms as base
from careops.remote_access.models import AccessPath
from careops.tenancy.models import Organisation

HUGE = "99999999999999999999"  # past 2**63


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Numbers(base.Form):
    count = forms.IntegerField()
    one = forms.ModelChoiceField(queryset=None)  # set in __init__, as many careops forms do
    many = forms.ModelMultipleChoiceField(queryset=Organisation.objects.all())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["one"].queryset = Organisation.objects.all()


def test_every_careops_form_refuses_numbers_no_column_holds(org_tree):
    form = Numbers({"count": HUGE, "one": HUGE, "many": [str(org_tree.ght.pk), HUGE]})
    assert not form.is_valid()
    assert set(form.errors) == {"count", "one", "many"}
    assert "inférieure ou égale à 9223372036854775807" in form.errors["count"][0]
    fine = Numbers({"count": "12", "one": org_tree.ght.pk, "many": [org_tree.ej_a.pk]})
    assert fine.is_valid(), fine.errors


def test_pages_answer_out_of_range_numbers_with_a_form_error(org_tree, make_user):
    rssi = make_user("ght_rssi", org_tree.ght)
    browser = Client()
    browser.force_login(rssi)

    path = AccessPath.objects.create(
        organisation=org_tree.ej_a, ref="RA-1", name="Télémaintenance", vendor="Imagerie SA"
    )
    page = f"/acces-distants/{path.pk}/modifier/"
    data = {"organisation": org_tree.ej_a.pk, "ref": path.ref, "name": path.name}
    answer = browser.post(page, {**data, "recording_retention_days": HUGE})
    assert answer.status_code == 200
    assert "inférieure ou égale à 9223372036854775807" in answer.content.decode()

    evidence = compliance.create_evidence(
        rssi,
        org_tree.ght,
        "pssi",
        "PSSI",
        compliance.RevisionInput(effective_date=compliance.today_in_paris()),
        item_codes=["D2.P1"],
    )
    answer = browser.post(
        f"/preuves/{evidence.pk}/",
        {"effective_date": "2026-11-01", "entities": [HUGE]},
    )
    assert answer.status_code == 422  # the page's answer to an invalid revision form
    assert "Sélectionnez un choix valide" in answer.content.decode()
    assert evidence.revisions.count() == 1  # nothing saved

    for candidate in ("x", HUGE, "2026-02-30"):
        answer = browser.post("/declarations/candidater/", {"candidate": candidate, "version": 1})
        assert answer.status_code == 404, candidate
