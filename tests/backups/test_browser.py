"""The backups pages in Debian's Chromium: each checked with axe-core (WCAG 2.1 A and AA)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careops.backups.models import (
    Alert,
    BackupCopy,
    BackupSystem,
    Milestone,
    ProtectedSystem,
    Repository,
    Trajectory,
    VerificationRun,
)
from careops.backups.services import set_repository_password
from tests.browser.conftest import (  # noqa: F401 - fixtures (one Chromium per module)
    assert_accessible,
    browser,
    page,
)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scene(org_tree, make_user, transactional_db):
    make_user("ght_rssi", org_tree.ght, username="rssi.ght")
    now = timezone.now()
    system = BackupSystem.objects.create(
        organisation=org_tree.ej_a,
        name="Sauvegarde DPI",
        product="Veeam",
        version="12.1",
        auth_mode="local_accounts",
        twofa_status="implemented",
        twofa_proof="TOTP pour les opérateurs",
        isolation_capable=True,
    )
    for label, media, offsite in (("Baie", "disk", False), ("Bande", "tape", True)):
        BackupCopy.objects.create(
            system=system, label=label, media=media, location="Site A", offsite=offsite
        )
    repo = Repository(
        organisation=org_tree.ej_a, name="restic-dpi", driver="restic", location="/srv/r"
    )
    set_repository_password(repo, "x")
    repo.save()
    dpi = ProtectedSystem.objects.create(
        organisation=org_tree.ej_a,
        name="DPI",
        rpo_hours=24,
        repository=repo,
        last_backup_at=now - dt.timedelta(hours=5),
        freshness_status="ok",
    )
    ProtectedSystem.objects.create(
        organisation=org_tree.ej_b,
        name="PACS",
        rpo_hours=24,
        job_name="PACS",
        last_backup_at=now - dt.timedelta(hours=40),
        freshness_status="failed",
    )
    run = VerificationRun.objects.create(
        organisation=org_tree.ej_a,
        repository=repo,
        protected_system=dpi,
        kind="restore",
        status="done",
        outcome="ok",
        restore_seconds=12.5,
        business_referent="cadre de santé",
        result={
            "repositories": [
                {
                    "name": "restic-dpi",
                    "checks": [
                        {
                            "name": "restore",
                            "status": "ok",
                            "message": "restauré",
                            "duration_s": 12.5,
                        }
                    ],
                }
            ],
            "systems": [],
        },
    )
    Alert.objects.create(
        organisation=org_tree.ej_b,
        key="system:x:freshness",
        kind="stale",
        severity="critical",
        subject="PACS : sauvegarde trop ancienne",
        message="dernière sauvegarde âgée de 1,7 j",
        procedure="1. Vérifier la tâche.",
    )
    trajectory = Trajectory.objects.create(
        organisation=org_tree.ej_a,
        kind="rule_321",
        title="Vers le 3-2-1",
        target_date=dt.date(2028, 6, 30),
    )
    Milestone.objects.create(
        trajectory=trajectory, label="Copie hors site", due_date=dt.date(2027, 1, 31)
    )
    return {"system": system, "repo": repo, "run": run, "trajectory": trajectory}


PAGES = {
    "tableau de bord": lambda s: "/sauvegardes/",
    "système": lambda s: f"/sauvegardes/systemes/{s['system'].pk}/",
    "formulaire système": lambda s: "/sauvegardes/systemes/nouveau/",
    "dépôt": lambda s: f"/sauvegardes/depots/{s['repo'].pk}/",
    "vérification": lambda s: f"/sauvegardes/verifications/{s['run'].pk}/",
    "alertes": lambda s: "/sauvegardes/alertes/",
    "trajectoire": lambda s: f"/sauvegardes/trajectoires/{s['trajectory'].pk}/",
}


def test_backups_pages_have_no_serious_accessibility_violation(page, live_server, scene):  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Identifiant ou adresse électronique").fill("rssi.ght")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    for name, path in PAGES.items():
        page.goto(live_server.url + path(scene))
        assert page.locator("h1").count() == 1, name
        page.screenshot(path=f"/tmp/careops-backups-{name.replace(' ', '-')}.png", full_page=True)
        assert_accessible(page, name)
    page.goto(live_server.url + "/sauvegardes/")
    assert page.locator("svg.chart").count() == 2
