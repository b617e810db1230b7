"""Eligibility from the shipped D1 bis referential: the GHT des Îles du Nord, structures of
FINESS category 146, mixed structures excluded, no catch-up; each refusal explained."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from careops.declarations import services
from tests.conftest import make_org

OPEN = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # D1 bis candidacy opened on 13/02/2026


@pytest.fixture
def d1bis(db):
    from careops.catalogue import services as catalogue
    from careops.catalogue.engine import loader
    from careops.catalogue.models import ReferentialVersion

    catalogue.load_paths([loader.default_directory() / "d1bis-v1.yaml"])
    return ReferentialVersion.objects.get(domain="D1BIS", is_current=True)


def refusal(candidate, version, user) -> str:
    with pytest.raises(ValidationError) as caught:
        services.apply(user, candidate, version, now=OPEN)
    return " ".join(caught.value.messages)


def test_the_ght_des_iles_du_nord_is_eligible(org_tree, d1bis, make_user):
    ght = make_org(org_tree.ars_idf, "ght", "GHT des Îles du Nord", category="ght")
    rssi = make_user("ght_rssi", ght)
    candidacy = services.apply(rssi, ght, d1bis, now=OPEN)
    assert any("GHT désigné" in c["text"] for c in candidacy.eligibility)


def test_another_ght_is_refused_with_the_reason(org_tree, d1bis, make_user):
    text = refusal(org_tree.ght, d1bis, make_user("ght_rssi", org_tree.ght))
    assert "n'est pas un GHT désigné pour le domaine D1BIS" in text
    assert "Îles du Nord" in text
    assert "Pas de rattrapage" in text


def test_a_dialysis_structure_of_category_146_is_eligible(org_tree, d1bis, make_user):
    ej = make_org(
        org_tree.ars_idf,
        "ej",
        "AURA Dialyse",
        "93000001",
        category="private_nonprofit",
        finess_category="146",
    )
    make_org(ej, "eg", "AURA Dialyse — unité 1", "93000011", finess_category="146")
    assert services.apply(make_user("es_rssi", ej), ej, d1bis, now=OPEN).domain == "D1BIS"


def test_a_mixed_structure_is_excluded(org_tree, d1bis, make_user):
    ej = make_org(
        org_tree.ars_idf,
        "ej",
        "Clinique mixte",
        "93000002",
        category="private_forprofit",
        finess_category="146",
    )
    make_org(ej, "eg", "Clinique mixte — dialyse", "93000021", finess_category="146")
    make_org(ej, "eg", "Clinique mixte — MCO", "93000022", finess_category="365")
    text = refusal(ej, d1bis, make_user("es_rssi", ej))
    assert "structure mixte" in text and "365" in text
    assert "déjà été intégrés aux travaux du domaine 1" in text


def test_an_ordinary_hospital_gets_no_catch_up(org_tree, d1bis, make_user):
    text = refusal(org_tree.ej_other, d1bis, make_user("es_rssi", org_tree.ej_other))
    assert "aucune structure de Clinique du Rhône n'est de catégorie FINESS 146" in text
    assert "Pas de rattrapage" in text and "n'ont pas candidaté au D1" in text


def test_an_esms_is_not_a_candidate_kind(org_tree, d1bis, make_user):
    text = refusal(org_tree.esms, d1bis, make_user("es_rssi", org_tree.esms))
    assert "n'est pas un type de candidat admis" in text
