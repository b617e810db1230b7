"""Issue 17's whole journey in Debian's Chromium, as its users live it: a medico-social
structure's RSSI validates a self-assessment → the pathway it proposes is confirmed by the ARS
instructor of the region → the pooled RSSI sees it on the pool dashboard → the structure plans
and runs a crisis exercise → the RETEX actions show on its cockpit and the exercise is D1.O3
evidence. axe-core checks every page on the way (inside both journeys)."""

from __future__ import annotations

import pytest

from careops.compliance.models import Evidence
from careops.exercises.models import Exercise
from careops.maturity.models import PathwayAssignment
from tests.browser.conftest import browser, page  # noqa: F401 - fixtures (one Chromium per module)
from tests.exercises.journeys import plan_run_and_retex
from tests.maturity.journeys import login, pathway_journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _urls_loaded():
    """Import every view before the first page (the live server's first request would)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loads the URLconf and the views


def test_self_assessment_pathway_pool_exercise_and_retex_on_the_cockpit(
    page,  # noqa: F811
    live_server,
    org_tree,
    make_user,
):
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(90_000)
    journey = pathway_journey(page, live_server, org_tree, make_user)
    assignment = PathwayAssignment.objects.get(organisation=org_tree.esms)
    assert assignment.pk == journey.assignment.pk and assignment.confirmed_by == journey.ars

    login(page, live_server, "rssi.ehpad")
    exercise_pk = plan_run_and_retex(page, live_server.url, org_tree.esms.pk)
    exercise = Exercise.objects.get(pk=exercise_pk)
    assert exercise.organisation == org_tree.esms and exercise.status == "validated"
    evidence = Evidence.objects.get(pk=exercise.evidence_id)
    assert evidence.organisation == org_tree.esms and "D1.O3" in evidence.item_codes

    # the pooled RSSI, acting on the member, sees the structure's exercise too
    login(page, live_server, "rssi.mutualise")
    page.goto(f"{live_server.url}/exercices/{exercise_pk}/")
    assert page.get_by_role("heading", level=1).count() == 1
    assert "introuvable" not in page.content().lower()
