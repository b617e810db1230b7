"""An exposure audit that analysed no host is not passing evidence (issue 11.10, issue 12
item 11): no level, no ``minimum_level_met``, no evidence, a French message, and a non-zero exit
of ``careops exposure scan``; the CLI's refusal names ``--allow-private``; severities in French.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from careops.compliance.models import Evidence
from careops.core.models import AuditEvent
from careops.exposure import reports, services
from careops.exposure.engine import ScanOptions, scanner
from careops.exposure.models import RunStatus, ScanRun
from tests.test_cli import NO_DB, ROOT, careops

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_engine_gives_no_level_when_every_target_is_refused():
    # loopback without the internal option: refused before any packet is sent
    result = scanner.scan_sync(["127.0.0.1", "10.0.0.0/30"], ScanOptions(), now=NOW)
    assert result.hosts == []
    assert (result.exposure_level, result.minimum_level_met) == ("", False)
    assert all("refusée" in e for e in result.errors)


@pytest.mark.parametrize("entry", ["careops", "engine"])
def test_cli_refused_scan_exits_non_zero_without_a_level(entry):
    args = ["exposure", "scan", "127.0.0.1", "--ports", "1"]
    if entry == "careops":
        done = careops(*args, env_extra=NO_DB)
    else:
        done = subprocess.run(
            [sys.executable, "-m", "careops.exposure.engine", *args[1:]],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert "--allow-private" in done.stderr
    assert "audit interne » doit être activée" not in done.stderr  # not the web option
    assert "Aucun hôte analysé" in done.stdout
    assert "niveau minimal atteint" not in done.stdout and "Niveau d'exposition" not in done.stdout


def test_cli_json_of_a_refused_scan_has_no_level():
    done = careops("exposure", "scan", "127.0.0.1", "--ports", "1", "--json", env_extra=NO_DB)
    assert done.returncode == 2
    data = json.loads(done.stdout)
    assert data["hosts"] == [] and data["exposure_level"] == ""
    assert data["minimum_level_met"] is False
    assert "Aucun hôte analysé" in done.stderr


def test_app_refused_audit_is_neither_level_nor_evidence(
    client, org_tree, make_user, django_capture_on_commit_callbacks
):
    rssi = make_user("es_rssi", org_tree.ej_b)
    admin = make_user("administrator", org_tree.ans)
    asset = services.declare_asset(rssi, org_tree.ej_b, "127.0.0.1/32")
    services.attest_range(rssi, asset, "Plage de test en boucle locale, contrat n° 1 (test)")
    services.approve_range(admin, asset, holder="Boucle locale (test)")
    # no internal-audit option: every address is refused, nothing is scanned
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_run(rssi, org_tree.ej_b)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.result["hosts"] == []
    assert run.exposure_level == "" and run.minimum_level_met is None
    assert run.evidence_id is None
    assert not Evidence.objects.filter(kind="exposure_audit").exists()
    assert any("Aucun hôte analysé" in e for e in run.errors)
    services.record_evidence(run.pk)  # even asked again: nothing to prove
    assert not Evidence.objects.filter(kind="exposure_audit").exists()
    assert "sans aucun hôte analysé" in AuditEvent.objects.get(action="exposure.run.done").summary
    data = reports.report_data(run)
    assert data["exposure_level"] == "" and "Aucun hôte analysé" in data["management_summary"]
    assert "atteint" not in data["management_summary"].replace("non atteint", "")
    client.force_login(rssi)
    page = client.get(f"/exposition/audits/{run.pk}/").content.decode()
    assert "Aucun hôte analysé" in page and "Niveau A" not in page
    assert "niveau minimal atteint" not in page
    listing = client.get(f"/exposition/organisations/{org_tree.ej_b.pk}/").content.decode()
    assert "aucun hôte analysé" in listing
    api = client.get(f"/api/exposure/runs/{run.pk}").json()
    assert api["exposure_level"] == "" and api["minimum_level_met"] is None


def test_run_page_shows_severity_and_confidence_in_french(client, org_tree, make_user):
    rssi = make_user("es_rssi", org_tree.ej_b)
    finding = {
        "rule": "EXP-RDP-001",
        "severity": "high",
        "host": "192.0.2.10",
        "port": 3389,
        "title": "Bureau à distance exposé",
        "evidence": "RDP",
        "remediation": "Fermer",
        "cves": [],
        "kev": False,
        "confidence": "confirmed",
        "fingerprint": "EXP-RDP-001|192.0.2.10|3389|",
    }
    host = {
        "address": "192.0.2.10",
        "services": [{"port": 3389, "transport": "tcp", "service": "rdp", "confidence": "high"}],
    }
    run = ScanRun.objects.create(
        organisation=org_tree.ej_b,
        status=RunStatus.DONE,
        exposure_level="B",
        minimum_level_met=True,
        result={"hosts": [host], "findings": [finding]},
    )
    client.force_login(rssi)
    page = client.get(f"/exposition/audits/{run.pk}/").content.decode()
    assert "Élevée" in page and "élevée" in page  # severity, then the service's confidence
    assert ">high<" not in page and ">confirmed<" not in page
