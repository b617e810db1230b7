"""Every state-changing POST of the awareness, exercise and maturity pages (and the maturity API
through the browser session) is refused without the CSRF token: a page on another site cannot
make a signed-in RSSI or ARS instructor act."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careops.awareness.models import TrainingCampaign
from careops.exercises import services as exercises
from careops.maturity.models import PathwayAssignment
from tests.maturity.helpers import pool_with_members, validated
from tests.web.helpers import enable_totp


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_posts_without_the_csrf_token_are_refused(org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_a)
    esms_rssi = make_user("es_rssi", org_tree.esms)
    ars = enable_totp(make_user("ars_instructor", org_tree.ars_idf))
    exercise = exercises.plan(rssi, org_tree.ej_a, "fuite-donnees", timezone.now())
    validated(esms_rssi, org_tree.esms)
    pool, (membership,) = pool_with_members(ars, org_tree.ars_idf, [], [(org_tree.esms, esms_rssi)])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(rssi)
    attempts = [
        (
            reverse("awareness:index"),
            {
                "organisation": org_tree.ej_a.pk,
                "title": "Piège",
                "starts_on": "2026-01-01",
                "ends_on": "2026-02-01",
            },
        ),
        (reverse("exercises:clock", args=[exercise.pk]), {"move": "start"}),
        (reverse("exercises:log_add", args=[exercise.pk]), {"kind": "event", "text": "piège"}),
    ]
    for url, data in attempts:
        assert browser.post(url, data).status_code == 403, url
    assert not TrainingCampaign.objects.exists()
    exercise.refresh_from_db()
    assert exercise.is_planned and not exercise.log.exists()

    browser.force_login(esms_rssi)
    page = reverse("maturity:structure", args=[org_tree.esms.pk])
    response = browser.post(page, {"action": "leave", "membership": membership.pk})
    assert response.status_code == 403
    browser.force_login(ars)
    response = browser.post(
        f"/api/maturity/pathways/{org_tree.esms.pk}/confirm",
        {"pathway": "P1", "reason": "piège"},
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    response = browser.post(reverse("maturity:pool", args=[pool.pk]), {"action": "unstaff"})
    assert response.status_code == 403
    assert PathwayAssignment.objects.get(organisation=org_tree.esms).status == "proposed"
    membership.refresh_from_db()
    assert membership.status == "active"
