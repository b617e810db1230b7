"""Issue 12 item 9: 404, 403, 500 and CSRF refusals in the site's layout, in French, with a way
back — never Django's bare English pages."""

import pytest
from django.test import Client
from django.urls import reverse


@pytest.fixture
def rssi(client, org_tree, make_user):
    client.force_login(make_user("es_rssi", org_tree.ej_b))
    return client


def assert_site_page(answer, status, title):
    html = answer.content.decode()
    assert answer.status_code == status
    assert f"<h1>{title}</h1>" in html
    assert 'class="header__name">careops' in html and 'lang="fr"' in html
    assert 'href="/"' in html  # a way back
    assert "Not Found" not in html and "Forbidden" not in html and "Server Error" not in html


def test_404_in_the_layout(rssi):
    answer = rssi.get("/cette-page-n-existe-pas/")
    assert_site_page(answer, 404, "Page introuvable")
    assert "Retour au tableau de bord" in answer.content.decode()


def test_403_in_the_layout(client, org_tree, make_user):
    reader = make_user("reader", org_tree.ej_b)
    client.force_login(reader)
    answer = client.post(reverse("tenancy:role_grant", args=[org_tree.ej_b.pk]), {})
    assert_site_page(answer, 403, "Accès refusé")


def test_csrf_failure_in_the_layout(org_tree, make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("es_rssi", org_tree.ej_b))
    answer = client.post(reverse("core:tokens"), {"name": "x", "days": 90})
    assert_site_page(answer, 403, "Formulaire expiré")
    assert "Rien n'a été enregistré" in answer.content.decode()


def test_500_in_the_layout(client, db, settings):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # as Django's server_error view does: no context
    assert "<h1>Erreur du serveur</h1>" in html and 'class="header__name">careops' in html
    assert 'href="/"' in html


def test_anonymous_404_offers_to_sign_in(client, db):
    html = client.get("/nulle-part/").content.decode()
    assert "Se connecter" in html
