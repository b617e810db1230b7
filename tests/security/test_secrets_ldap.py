"""11.2 — AD password theft by re-pointing a domain (and the egress policy on LDAP).

The attack: a contributor changes a domain's server URL, CA and TLS name to an LDAPS server they
control and starts an audit; careops used to bind there with the stored password. Now changing
where the stored password is sent needs the RSSI role, clears the password (it must be entered
again) and is journalled with old → new values; the fake LDAPS server below records what it
receives and never sees the stored password.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from careops.core.models import AuditEvent
from careops.directory import services
from careops.directory.models import Audit, Domain
from careops.tenancy.models import Organisation
from tests.backups.test_app import login
from tests.security.fakes import fake_ldaps

STORED = "Mot-de-passe-AD-stocké-2026!"
RETYPED = "Mot-de-passe-ressaisi-par-le-RSSI"


@pytest.fixture
def rssi(org_tree, make_user):
    return make_user("es_rssi", org_tree.ej_a)


@pytest.fixture
def domain(org_tree, rssi):
    return services.save_domain(
        rssi,
        Domain(
            organisation=org_tree.ej_a,
            name="hopital.test",
            server_url="ldaps://dc1.hopital.test",
            bind_user="lecture@hopital.test",
        ),
        password=STORED,
    )


def _form(domain, **changes):
    data = {
        "organisation": domain.organisation_id,
        "name": domain.name,
        "server_url": domain.server_url,
        "base_dn": "",
        "bind_user": domain.bind_user,
        "authentication": "simple",
        "ca_certificate": domain.ca_certificate,
        "tls_name": domain.tls_name,
        "target_forest": "",
        "convergence_status": "planned",
    }
    data.update(changes)
    return data


def _audit(user, domain, capture) -> Audit:
    with capture(execute=True):
        run = services.start_audit(user, domain)
    run.refresh_from_db()
    return run


def test_contributor_cannot_repoint_a_domain_and_the_password_never_leaves(
    client, org_tree, make_user, domain, rssi, tmp_path, django_capture_on_commit_callbacks
):
    Organisation.objects.filter(pk=org_tree.ej_a.pk).update(internal_targets=True)
    contributor = make_user("contributor", org_tree.ej_a)
    login(client, contributor)
    with fake_ldaps(tmp_path) as (port, ca_pem, recorder):
        attack = _form(
            domain,
            server_url=f"ldaps://127.0.0.1:{port}",
            ca_certificate=ca_pem,
            tls_name="dc.attaquant.test",
        )
        response = client.post(reverse("directory:domain_edit", args=[domain.pk]), attack)
        assert response.status_code == 403
        assert "Seul un RSSI" in response.content.decode()
        domain.refresh_from_db()
        assert domain.server_url == "ldaps://dc1.hopital.test" and domain.has_credentials
        # a contributor still edits what does not move the secret
        ok = client.post(
            reverse("directory:domain_edit", args=[domain.pk]),
            _form(domain, convergence_status="in_progress"),
        )
        assert ok.status_code == 302

        # the RSSI re-points it: the stored password is cleared, the change journalled
        client.logout()
        login(client, rssi)
        response = client.post(reverse("directory:domain_edit", args=[domain.pk]), attack)
        assert response.status_code == 302
        domain.refresh_from_db()
        assert not domain.has_credentials
        event = AuditEvent.objects.filter(action="directory.domain.update").latest("pk")
        assert event.changes["server_url"] == [
            "ldaps://dc1.hopital.test",
            f"ldaps://127.0.0.1:{port}",
        ]
        assert event.changes["tls_name"] == ["", "dc.attaquant.test"]
        assert "mot de passe effacé" in event.summary
        with pytest.raises(ValidationError):
            services.start_audit(rssi, domain)

        # once a password is entered again, that one (only) is what the new server receives
        services.save_domain(rssi, domain, password=RETYPED)
        _audit(rssi, domain, django_capture_on_commit_callbacks)
    received = recorder.everything()
    assert RETYPED.encode() in received, "le faux serveur LDAPS n'a rien reçu"
    assert STORED.encode() not in received


def test_ldap_audit_to_loopback_is_refused_without_internal_targets(
    org_tree, domain, rssi, tmp_path, django_capture_on_commit_callbacks
):
    with fake_ldaps(tmp_path) as (port, ca_pem, recorder):
        domain.server_url = f"ldaps://127.0.0.1:{port}"
        domain.ca_certificate = ca_pem
        services.save_domain(rssi, domain, password=RETYPED)
        run = _audit(rssi, domain, django_capture_on_commit_callbacks)
    assert run.status == "failed"
    assert "bouclage" in run.message and "administrateur" in run.message
    assert recorder.everything() == b""
