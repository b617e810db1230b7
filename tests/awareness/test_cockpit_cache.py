"""The awareness card of the cockpit is computed once and kept while nothing it counts changes;
a new sign-in line, a deleted campaign or a new headcount shows at once."""

from __future__ import annotations

import datetime as dt

import pytest

from careops.awareness import services
from careops.awareness.models import Attendance, StaffHeadcount, TrainingCampaign, TrainingSession
from careops.compliance.services import today_in_paris

pytestmark = pytest.mark.django_db


def _attend(session, structure, line):
    return Attendance.objects.create(
        session=session,
        structure=structure,
        line=line,
        last_name=f"Nom{line}",
        first_name="Prénom",
        email=f"p{line}@chu.test",
        profession="IDE",
        date=session.date,
    )


def _total(user):
    user._careops_grants = None
    return services.cockpit_figures(user)["training"]


def test_the_card_follows_imports_deletions_and_headcounts(org_tree, make_user):
    user = make_user("ght_rssi", org_tree.ght)
    other_ght_user = make_user("es_rssi", org_tree.ej_b)
    today = today_in_paris()
    campaign = TrainingCampaign.objects.create(
        organisation=org_tree.ght, title="Hygiène", starts_on=today, ends_on=today
    )
    session = TrainingSession.objects.create(campaign=campaign, date=today - dt.timedelta(days=2))
    StaffHeadcount.objects.create(organisation=org_tree.ej_a, profession="IDE", headcount=10)
    StaffHeadcount.objects.create(organisation=org_tree.ej_b, profession="IDE", headcount=10)
    for line in range(3):
        _attend(session, org_tree.ej_a, line)
    first = _total(user)
    assert (first.trained, first.headcount) == (3, 20)
    assert _total(user) == first  # from the cache
    _attend(session, org_tree.ej_b, 3)
    assert _total(user).trained == 4  # a new line shows at once
    assert _total(other_ght_user).trained == 1  # another scope, another figure
    StaffHeadcount.objects.filter(organisation=org_tree.ej_b).delete()
    StaffHeadcount.objects.create(organisation=org_tree.ej_b, profession="IDE", headcount=30)
    assert _total(user).headcount == 40
    campaign.delete()
    assert _total(user).trained == 0
