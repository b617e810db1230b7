"""Crisis exercises in Debian's Chromium: planned and run live, then the RETEX actions on the
cockpit (the journey is tests/exercises/journeys.py, reusable after other journeys)."""

from __future__ import annotations

import pytest

from careops.exercises.models import Exercise
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    browser,
    page,
)
from tests.conftest import PASSWORD
from tests.exercises.journeys import plan_run_and_retex

# the outermost elements that stick out of a 390 px viewport (for the failure message)
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_exercise_planned_and_run_then_retex_actions_on_the_cockpit(
    page,  # noqa: F811
    live_server,
    org_tree,
    make_user,
):
    # the shared machine (load ~10 on 2 cores today) can be slow to serve a page
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(90_000)
    make_user("es_rssi", org_tree.ej_a, username="rssi.alpha")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.alpha")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    pk = plan_run_and_retex(page, live_server.url, org_tree.ej_a.pk)
    exercise = Exercise.objects.get(pk=pk)
    assert exercise.status == "validated" and exercise.evidence_id is not None
    assert exercise.injects.filter(delivered_at__isnull=False).count() == 1
    page.set_viewport_size({"width": 390, "height": 800})
    for path in (f"/exercices/{pk}/", f"/exercices/{pk}/conduite/", f"/exercices/{pk}/retex/"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDEST)
        assert width <= 391, (path, width, wide)
