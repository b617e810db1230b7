"""Hand-made POSTs on the exercise pages (ids that are not numbers) get a French message and a
redirect, never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from careops.exercises import services


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.ej_a)


@pytest.mark.parametrize(
    "data",
    [
        {"what": "record", "r-campaign": "abc"},
        {"what": "record", "r-campaign": "1 OR 1=1"},
        {"l-pca_exercise": "abc"},
    ],
)
def test_link_to_continuity_with_a_malformed_id_is_a_french_message(client, org_tree, rssi, data):
    exercise = services.plan(rssi, org_tree.ej_a, "fuite-donnees", timezone.now())
    exercise = services.move_clock(rssi, exercise, "start")
    exercise = services.move_clock(rssi, exercise, "end")
    client.force_login(rssi)
    client.raise_request_exception = False
    response = client.post(reverse("exercises:link", args=[exercise.pk]), data, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "introuvable" in text or "Lien avec Continuité enregistré" in text
    exercise.refresh_from_db()
    assert exercise.continuity_exercise_id is None
