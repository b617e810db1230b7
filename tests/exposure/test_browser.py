"""The exposure pages in Debian's Chromium, each checked with axe-core (WCAG 2.1 A and AA), and
the remediation form of a finding used through the browser.

Runs and findings are seeded without the network: finished blocks carry engine results, and the
service's ``finalize_run`` merges them, tracks the findings and computes the diff, as a worker
would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careops.exposure import services
from careops.exposure.engine.results import Finding as EngineFinding
from careops.exposure.engine.results import HostResult, ScanResult, Service, TlsInfo
from careops.exposure.models import (
    AssetStatus,
    Finding,
    FindingStatus,
    RunStatus,
    ScanRun,
    ScanShard,
)
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOST = "192.0.2.10"
PORTS = "443,2575,3389"


def _finished_run(org, user, findings: list[EngineFinding], services_: list[Service]) -> ScanRun:
    """A run whose only block is done with ``findings``: finalised as a worker would."""
    run = ScanRun.objects.create(
        organisation=org,
        requested_by=user,
        scope={
            "targets": ["chu-beta.fr"],
            "networks": [],
            "domains": ["chu-beta.fr"],
            "ports": PORTS,
            "allow_private": False,
        },
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        hosts_total=1,
    )
    host = HostResult(HOST, hostnames=["www.chu-beta.fr"], services=services_, answered=True)
    result = ScanResult(hosts=[host], findings=findings, catalogues={"kev": "2026-11-01"})
    ScanShard.objects.create(
        run=run,
        index=0,
        addresses={HOST: ["www.chu-beta.fr"]},
        status=RunStatus.DONE,
        hosts_done=1,
        result=result.to_json(),
    )
    services.finalize_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    return run


RDP = EngineFinding(
    "EXP-RDP-001",
    "high",
    HOST,
    3389,
    "Bureau à distance (RDP) exposé sur internet",
    "rdp répond sur le port 3389/tcp",
    "Fermer le port ou le placer derrière un VPN avec double authentification.",
    description="Le service RDP est une cible privilégiée des rançongiciels.",
    category="Administration à distance",
)
HL7 = EngineFinding(
    "EXP-HL7-001",
    "critical",
    HOST,
    2575,
    "Interface HL7 (MLLP) exposée sur internet",
    "hl7-mllp répond sur le port 2575/tcp",
    "Retirer l'interface d'internet.",
    category="Interfaces médicales",
)
TLS = EngineFinding(
    "EXP-TLS-002",
    "medium",
    HOST,
    443,
    "Protocole TLS 1.0 accepté",
    "TLSv1.0 négocié",
    "Désactiver TLS 1.0 et 1.1.",
    category="Chiffrement",
    cves=["CVE-2011-3389"],
)


@pytest.fixture
def scene(org_tree, make_user, transactional_db):
    ght_rssi = make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    es_rssi = make_user("es_rssi", org_tree.ej_b, username="rssi.chb")
    org = org_tree.ej_b
    domain = services.declare_asset(es_rssi, org, "chu-beta.fr")
    # Proven by its DNS TXT token (the DNS lookup itself is covered by test_app).
    domain.status, domain.verified_by, domain.verified_at = (
        AssetStatus.VERIFIED,
        es_rssi,
        timezone.now(),
    )
    domain.verification_note = f"enregistrement TXT trouvé sur {domain.txt_name}"
    domain.save()
    pending = services.declare_asset(es_rssi, org, "vpn.chu-beta.fr")
    network = services.declare_asset(es_rssi, org, "193.51.24.0/28")
    services.attest_range(es_rssi, network, "Bloc RIPE inetnum 193.51.24.0/28 au nom du CH Bêta")
    services.update_profile(es_rssi, org, PORTS, monthly=True)

    services_ = [
        Service(
            443,
            service="https",
            product="nginx",
            version="1.18.0",
            confidence="high",
            tls=TlsInfo(
                protocols=["TLSv1.0", "TLSv1.2", "TLSv1.3"],
                not_after="2027-03-01T00:00:00+00:00",
                self_signed=True,
                trusted=False,
            ),
        ),
        Service(2575, service="hl7-mllp", confidence="high"),
        Service(3389, service="rdp", confidence="medium"),
    ]
    first = _finished_run(org, es_rssi, [HL7, RDP], services_)
    # Between the two audits the HL7 interface is withdrawn and TLS 1.0 shows up.
    second = _finished_run(org, ght_rssi, [RDP, TLS], [services_[0], services_[2]])
    assert second.diff["fixed"] == [HL7.fingerprint] and second.diff["new"] == [TLS.fingerprint]

    # Another establishment's audit still running: its page shows the progress.
    other = services.declare_asset(ght_rssi, org_tree.ej_a, "ch-alpha.fr")
    other.status = AssetStatus.VERIFIED
    other.save()
    running = ScanRun.objects.create(
        organisation=org_tree.ej_a,
        requested_by=ght_rssi,
        scope=services.verified_scope(org_tree.ej_a),
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        hosts_total=4,
    )
    ScanShard.objects.create(
        run=running,
        index=0,
        addresses={"192.0.2.20": [], "192.0.2.21": [], "192.0.2.22": [], "192.0.2.23": []},
        status=RunStatus.RUNNING,
        hosts_done=1,
        lease_until=timezone.now() + dt.timedelta(minutes=30),
    )
    return {
        "org": org,
        "domain": domain,
        "pending": pending,
        "network": network,
        "first": first,
        "second": second,
        "running": running,
        "rdp": Finding.objects.get(organisation=org, rule="EXP-RDP-001"),
        "hl7": Finding.objects.get(organisation=org, rule="EXP-HL7-001"),
    }


def login(page, live_server, username):  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


PAGES = {
    "tableau de bord": lambda s: "/exposition/",
    "organisation": lambda s: f"/exposition/organisations/{s['org'].pk}/",
    "domaine vérifié": lambda s: f"/exposition/actifs/{s['domain'].pk}/",
    "nom à vérifier": lambda s: f"/exposition/actifs/{s['pending'].pk}/",
    "plage attestée": lambda s: f"/exposition/actifs/{s['network'].pk}/",
    "premier audit": lambda s: f"/exposition/audits/{s['first'].pk}/",
    "audit avec écarts": lambda s: f"/exposition/audits/{s['second'].pk}/",
    "audit en cours": lambda s: f"/exposition/audits/{s['running'].pk}/",
    "rapport": lambda s: f"/exposition/audits/{s['second'].pk}/rapport.html",
    "constat": lambda s: f"/exposition/constats/{s['rdp'].pk}/",
    "constat corrigé": lambda s: f"/exposition/constats/{s['hl7'].pk}/",
}


def test_exposure_pages_have_no_serious_accessibility_violation(page, live_server, scene):  # noqa: F811
    login(page, live_server, "rssi.ght")
    for name, path in PAGES.items():
        page.goto(live_server.url + path(scene))
        assert page.locator("h1").count() == 1, name
        if name != "rapport":  # the report is a standalone page, without the menu
            current = page.locator('nav a[aria-current="page"]').all_inner_texts()
            assert current == ["Exposition"], (name, current)
        page.screenshot(path=f"/tmp/careops-exposure-{name.replace(' ', '-')}.png", full_page=True)
        assert_accessible(page, name)

    # what the pages show: the pending attestation, the chart, the diff, the progress
    page.goto(live_server.url + "/exposition/")
    # the GHT RSSI never approves a range of its establishments (only the region's ARS does)
    assert page.get_by_role("heading", name="Attestations à approuver").count() == 0
    page.goto(live_server.url + PAGES["plage attestée"](scene))
    assert page.get_by_text("En attente d'approbation par un instructeur de l'ARS").is_visible()
    page.goto(live_server.url + PAGES["organisation"](scene))
    chart = page.get_by_role("table", name="Constats par criticité et par audit")
    assert chart.locator("tbody tr").count() == 2
    assert page.locator("svg rect").count() >= 2
    page.goto(live_server.url + PAGES["audit avec écarts"](scene))
    assert page.get_by_text("Depuis l'audit précédent : 1 nouveau(x), 1 persistant(s)").is_visible()
    fixed = page.get_by_role("heading", name="Corrigés depuis l'audit précédent")
    assert fixed.is_visible()
    assert page.get_by_role("link", name="Interface HL7 (MLLP) exposée sur internet").is_visible()
    services_table = page.get_by_role("table", name="Services exposés")
    assert services_table.get_by_text(
        "TLSv1.0, TLSv1.2, TLSv1.3 — certificat valable jusqu'au 01/03/2027 (auto-signé)"
    ).is_visible()
    page.goto(live_server.url + PAGES["audit en cours"](scene))
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "25"


def test_remediation_form_through_the_browser(page, live_server, scene):  # noqa: F811
    login(page, live_server, "rssi.chb")
    page.goto(live_server.url + f"/exposition/constats/{scene['rdp'].pk}/")
    # an accepted risk without justification nor end date is refused, in French
    page.get_by_label("Statut").select_option(FindingStatus.ACCEPTED)
    page.get_by_role("button", name="Enregistrer").click()
    assert page.get_by_text("Un risque accepté doit être justifié.").is_visible()
    assert page.get_by_text("Un risque accepté doit avoir une date de fin.").is_visible()
    assert_accessible(page, "formulaire de remédiation en erreur")

    due = timezone.localdate() + dt.timedelta(days=30)
    page.get_by_label("Statut").select_option(FindingStatus.IN_PROGRESS)
    page.get_by_label("Responsable").fill("Équipe réseau")
    page.get_by_label("Échéance").fill(due.isoformat())
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_text("Constat mis à jour.").wait_for()
    status = page.locator("dt", has_text="Statut").locator("xpath=following-sibling::dd[1]")
    assert status.inner_text() == "En cours de correction"
    assert_accessible(page, "constat mis à jour")

    # the organisation's remediation table shows the owner and the due date
    page.goto(live_server.url + f"/exposition/organisations/{scene['org'].pk}/")
    row = page.get_by_role("row").filter(has_text="Bureau à distance (RDP)")
    assert "En cours de correction" in row.inner_text()
    assert "Équipe réseau" in row.inner_text() and f"{due:%d/%m/%Y}" in row.inner_text()
    rdp = Finding.objects.get(pk=scene["rdp"].pk)
    assert (rdp.status, rdp.owner, rdp.due_date) == (
        FindingStatus.IN_PROGRESS,
        "Équipe réseau",
        due,
    )


def test_regional_instructor_approves_a_range_with_its_holder(page, live_server, scene, make_user):  # noqa: F811
    import re

    from tests.web.helpers import enable_totp, totp_code

    secret = "JBSWY3DPEHPK3PXPCCCCCCCCCCCCCCCC"
    enable_totp(make_user("ars_instructor", scene["org"].parent.parent, username="ars.idf"), secret)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("ars.idf")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label(re.compile("code", re.I)).fill(totp_code(secret))
    page.get_by_role(
        "button", name=re.compile("Se connecter|Connexion|Authentifier|Valider", re.I)
    ).click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(live_server.url + "/exposition/")
    assert page.get_by_role("heading", name="Attestations à approuver").is_visible()
    page.get_by_role("link", name="193.51.24.0/28").first.click()
    assert_accessible(page, "approbation d'une plage")
    page.get_by_role("button", name="Approuver l'attestation").click()  # no holder: refused
    assert page.get_by_text("Indiquez le titulaire de la plage").is_visible()
    page.get_by_label("Titulaire constaté").fill("RIPE inetnum 193.51.24.0/28 : CH Bêta")
    page.get_by_role("button", name="Approuver l'attestation").click()
    page.get_by_text("Décision enregistrée.").wait_for()
    assert page.get_by_text("RIPE inetnum 193.51.24.0/28 : CH Bêta").is_visible()
    assert_accessible(page, "plage approuvée")
    network = scene["network"]
    network.refresh_from_db()
    assert network.status == AssetStatus.VERIFIED
    assert network.holder == "RIPE inetnum 193.51.24.0/28 : CH Bêta"
