"""The directory pages in Debian's Chromium, each checked with axe-core (WCAG 2.1 A and AA), and
a waiver added through the browser.

Audits are imports of synthetic collections (tests/directory/synthetic.py) run by the service
as the worker would: a clean domain (level 5), then the same domain with planted weaknesses at
levels 2 and 4 and a control path, an incomplete collection, one audit still running and one
failed by the sweeper after its worker went silent. The GHT's convergence trajectory has a
milestone in each state (done, late, upcoming), and one more is added through the browser."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from careops.directory import services
from careops.directory.engine import save_dump, sd
from careops.directory.models import Audit, AuditSource, AuditStatus, Domain
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD
from tests.directory.synthetic import BASE, DOMAIN_SID, NOW, clean, find, set_acl

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUOTA = "vuln_user_accounts_machineaccountquota-l4"
FORCE_CHANGE_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"


def _set(builder, dn_start: str, **values) -> None:
    obj = find(builder, dn_start)
    for key, value in values.items():
        obj["a"][key.lower().replace("_", "-")] = [str(value)]


def _import(user, domain, builder, tmp_path, name: str) -> Audit:
    path = tmp_path / name
    save_dump(builder.dump, path)
    run = services.start_audit(
        user, domain, AuditSource.DUMP, SimpleUploadedFile(name, path.read_bytes())
    )
    run.refresh_from_db()  # the immediate queue ran it on commit
    assert run.status == AuditStatus.DONE, run.message
    return run


@pytest.fixture
def scene(org_tree, make_user, transactional_db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    rssi = make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    hop = services.save_domain(
        rssi,
        Domain(
            organisation=org_tree.ej_a,
            name="hop.test",
            server_url="ldaps://dc1.hop.test",
            base_dn=BASE,
            bind_user="svc-careops@hop.test",
            dedicated_backup=True,
            target_forest="ght-val-de-seine.test",
            convergence_status="planned",
            convergence_due=dt.date(2027, 12, 31),
        ),
        password="S3cret-de-lecture!",
    )
    beta = services.save_domain(
        rssi,
        Domain(
            organisation=org_tree.ej_b,
            name="chb.local",
            target_forest="ght-val-de-seine.test",
            convergence_status="in_progress",
        ),
    )

    earlier = clean()
    earlier.dump.collected_at = (NOW - dt.timedelta(days=45)).isoformat()
    first = _import(rssi, hop, earlier, tmp_path, "collecte-1.json.gz")
    assert first.level == 5

    services.add_waiver(
        rssi,
        hop,
        QUOTA,
        "Quota conservé pour le poste d'intégration, retrait prévu au printemps",
        timezone.localdate() + dt.timedelta(days=120),
    )
    weak = clean()
    _set(weak, "CN=Guest", useraccountcontrol=512)  # level 2
    _set(weak, BASE, **{"ms-DS-MachineAccountQuota": 10})  # level 4 (waived)
    set_acl(  # Helpdesk may reset adm_alice's password: a control path
        weak,
        "CN=adm_alice",
        sd.Ace(True, 0, sd.DS_CONTROL_ACCESS, f"{DOMAIN_SID}-1103", FORCE_CHANGE_PASSWORD),
    )
    second = _import(rssi, hop, weak, tmp_path, "collecte-2.json.gz")
    assert second.level == 2 and second.result["paths"]
    assert second.result["waived"] == [QUOTA]

    partial = clean()
    find(partial, "CN=AdminSDHolder")["sd"] = None
    partial.dump.complete = False
    incomplete = _import(rssi, beta, partial, tmp_path, "collecte-3.json.gz")
    assert not incomplete.level_complete

    # A worker went silent two hours ago: the sweeper fails its audit.
    silent = Audit.objects.create(domain=beta, source=AuditSource.LDAP, requested_by=rssi)
    long_ago = timezone.now() - dt.timedelta(hours=2)
    Audit.objects.filter(pk=silent.pk).update(
        status=AuditStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago, progress=30
    )
    assert services.fail_stale_audits() == [silent.pk]
    # Another one is collecting right now.
    running = Audit.objects.create(
        domain=beta,
        source=AuditSource.LDAP,
        requested_by=rssi,
        status=AuditStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        progress=40,
        message="12000 objets collectés",
    )
    today = timezone.localdate()
    services.add_milestone(
        rssi,
        org_tree.ght,
        "Forêt cible ght-val-de-seine.test installée",
        today - dt.timedelta(days=60),
        done_on=today - dt.timedelta(days=62),
    )
    services.add_milestone(
        rssi,
        org_tree.ght,
        "Approbation entre hop.test et la forêt cible",
        today - dt.timedelta(days=10),
        domains=[hop],
        note="Attend la mise à niveau des contrôleurs",
    )
    services.add_milestone(
        rssi, org_tree.ght, "Migration des comptes de hop.test", today + dt.timedelta(days=200)
    )
    return {
        "ght": org_tree.ght,
        "hop": hop,
        "beta": beta,
        "first": first,
        "second": second,
        "incomplete": incomplete,
        "silent": silent,
        "running": running,
    }


def login(page, live_server, username):  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


PAGES = {
    "domaines": lambda s: "/annuaires/",
    "nouveau domaine": lambda s: "/annuaires/domaines/nouveau/",
    "modifier le domaine": lambda s: f"/annuaires/domaines/{s['hop'].pk}/modifier/",
    "domaine et tendance": lambda s: f"/annuaires/domaines/{s['hop'].pk}/",
    "domaine en convergence": lambda s: f"/annuaires/domaines/{s['beta'].pk}/",
    "audit niveau 5": lambda s: f"/annuaires/audits/{s['first'].pk}/",
    "audit et chemins": lambda s: f"/annuaires/audits/{s['second'].pk}/",
    "audit incomplet": lambda s: f"/annuaires/audits/{s['incomplete'].pk}/",
    "audit interrompu": lambda s: f"/annuaires/audits/{s['silent'].pk}/",
    "audit en cours": lambda s: f"/annuaires/audits/{s['running'].pk}/",
    "rapport": lambda s: f"/annuaires/audits/{s['second'].pk}/rapport/",
    "comparaison": lambda s: f"/annuaires/audits/{s['second'].pk}/comparer/{s['first'].pk}/",
    "convergence": lambda s: f"/annuaires/convergence/{s['ght'].pk}/",
}


def test_directory_pages_have_no_serious_accessibility_violation(page, live_server, scene):  # noqa: F811
    login(page, live_server, "rssi.ght")
    for name, path in PAGES.items():
        page.goto(live_server.url + path(scene))
        assert page.locator("h1").count() == 1, name
        if name != "rapport":  # the report is a standalone page, without the menu
            current = page.locator('nav a[aria-current="page"]').all_inner_texts()
            assert current == ["Active Directory"], (name, current)
        page.screenshot(path=f"/tmp/careops-directory-{name.replace(' ', '-')}.png", full_page=True)
        assert_accessible(page, name)

    # what the pages show
    page.goto(live_server.url + PAGES["domaine et tendance"](scene))
    assert page.get_by_role("img", name="Évolution du niveau ANSSI").is_visible()
    page.goto(live_server.url + PAGES["audit et chemins"](scene))
    assert page.get_by_role("heading", name="Niveau 2 : 2 points en échec").is_visible()
    assert page.get_by_role("heading", name="Niveau 4").count() == 0  # waived, shown apart
    waived = page.get_by_role("heading", name="Points en échec acceptés par dérogation")
    assert waived.is_visible()
    paths = page.get_by_role("img", name="Chemins de contrôle vers les comptes privilégiés")
    assert paths.is_visible()
    page.goto(live_server.url + PAGES["comparaison"](scene))
    assert page.get_by_role("heading", name="3 nouveaux points en échec").is_visible()
    page.goto(live_server.url + PAGES["audit interrompu"](scene))
    alert = page.get_by_role("alert")
    assert alert.inner_text() == (
        "L'audit a échoué : audit interrompu : le processus de collecte s'est arrêté "
        "(durée maximale dépassée)"
    )
    assert page.get_by_role("progressbar").count() == 0
    page.goto(live_server.url + PAGES["audit en cours"](scene))
    assert page.get_by_role("progressbar").get_attribute("aria-valuenow") == "40"
    page.goto(live_server.url + PAGES["convergence"](scene))
    table = page.get_by_role("table", name="Domaines des établissements du GHT")
    assert table.locator("tbody tr").count() == 2
    milestones = page.get_by_role("table", name="Jalons de la trajectoire de convergence")
    assert [
        [cell.strip().lower() for cell in row.split("\t")][1:3]  # badges are in capitals
        for row in milestones.locator("tbody tr").all_inner_texts()
    ] == [
        [f"{timezone.localdate() - dt.timedelta(days=60):%d/%m/%Y}", "atteint"],
        [f"{timezone.localdate() - dt.timedelta(days=10):%d/%m/%Y}", "en retard"],
        [f"{timezone.localdate() + dt.timedelta(days=200):%d/%m/%Y}", "à venir"],
    ]
    timeline = page.get_by_role("img", name=re.compile("^Frise des jalons de la trajectoire"))
    assert timeline.is_visible()

    # a milestone added through the browser, first refused without a title
    due = timezone.localdate() + dt.timedelta(days=90)
    page.get_by_label("échéance").fill(due.isoformat())
    page.get_by_role("button", name="Ajouter le jalon").click()
    page.get_by_text("Jalon refusé : corrigez les champs signalés.").wait_for()
    assert_accessible(page, "jalon refusé")
    page.get_by_label("intitulé du jalon").fill("Bascule de chb.local dans la forêt cible")
    page.get_by_label("échéance").fill(due.isoformat())
    page.get_by_label("chb.local (CH Bêta)").check()
    page.get_by_label("commentaire").fill("Après la migration des postes de travail")
    page.get_by_role("button", name="Ajouter le jalon").click()
    page.get_by_text(
        "Jalon « Bascule de chb.local dans la forêt cible » ajouté à la trajectoire."
    ).wait_for()
    row = milestones.locator("tbody tr").filter(has_text="Bascule de chb.local")
    assert row.get_by_role("cell").nth(1).inner_text() == f"{due:%d/%m/%Y}"
    assert row.get_by_role("cell").nth(3).inner_text() == "chb.local"
    assert milestones.locator("tbody tr").count() == 4
    # and marked done
    page.get_by_role(
        "button", name="Marquer atteint le jalon Bascule de chb.local dans la forêt cible"
    ).click()
    page.get_by_text("marqué atteint le").wait_for()
    assert row.get_by_role("cell").nth(2).inner_text().lower() == "atteint"
    page.screenshot(path="/tmp/careops-directory-jalons.png", full_page=True)
    assert_accessible(page, "jalons de la trajectoire")


def test_waiver_added_through_the_browser(page, live_server, scene):  # noqa: F811
    login(page, live_server, "rssi.ght")
    page.goto(live_server.url + f"/annuaires/domaines/{scene['hop'].pk}/")
    expires = timezone.localdate() + dt.timedelta(days=60)

    # an unknown point is refused, in French
    page.get_by_label("point de contrôle").fill("vuln_inconnu-l1")
    page.get_by_label("justification").fill("Essai")
    page.get_by_label("échéance").fill(expires.isoformat())
    page.get_by_role("button", name="Ajouter la dérogation").click()
    page.get_by_role("alert").filter(has_text="Point de contrôle inconnu.").wait_for()
    assert_accessible(page, "dérogation refusée")

    page.get_by_label("point de contrôle").fill("vuln_guest-l2")
    page.get_by_label("justification").fill("Borne d'accueil isolée, compte invité surveillé")
    page.get_by_label("échéance").fill(expires.isoformat())
    page.get_by_role("button", name="Ajouter la dérogation").click()
    page.get_by_text("Dérogation enregistrée ; elle s'applique aux audits suivants.").wait_for()
    waivers = page.locator("#derog-titre").locator("xpath=..").get_by_role("listitem")
    texts = waivers.all_inner_texts()
    assert any(
        re.fullmatch(
            rf"vuln_guest-l2 — Borne d'accueil isolée, compte invité surveillé "
            rf"\(jusqu'au {expires:%d/%m/%Y}\)",
            t,
        )
        for t in texts
    ), texts
    assert_accessible(page, "dérogation ajoutée")
    # the computed level is never changed by a waiver
    assert Audit.objects.get(pk=scene["second"].pk).level == 2
