"""``careops demo`` seeds a usable organisation, idempotently."""

from django.contrib.auth import get_user_model
from django.core.management import call_command

from careops.catalogue import services as catalogue
from careops.compliance.models import Assessment, Evidence
from careops.tenancy.models import Organisation, RoleAssignment


def test_demo_is_complete_and_idempotent(db, capsys):
    catalogue.load_default()
    call_command("careops_demo")
    counts = (
        Organisation.objects.count(),
        get_user_model().objects.count(),
        RoleAssignment.objects.count(),
        Evidence.objects.count(),
    )
    call_command("careops_demo")
    assert counts == (
        Organisation.objects.count(),
        get_user_model().objects.count(),
        RoleAssignment.objects.count(),
        Evidence.objects.count(),
    )
    assert Organisation.objects.filter(kind="ars").count() == 18
    assessment = Assessment.objects.get(candidate__kind="ght", referential_version__domain="D2")
    pssi = assessment.statuses.get(item_code="D2.P1")
    assert pssi.status == "not_met"
    assert "10/07/2022" in pssi.reasons[0]
    output = capsys.readouterr().out
    assert "careops-demo-2026" in output and "rssi.ght" in output
    # every account of the issue 17 journeys is listed, the pooled RSSI included
    for name in ("rssi.ehpad", "rssi.mutualise", "ars.idf"):
        assert f"  {name}" in output, name


def test_readme_lists_every_demo_account_the_command_prints_and_each_logs_in(db, capsys, client):
    """The README's demo logins (French and English) are exactly the accounts `careops demo`
    prints, and each one signs in with the shared password."""
    import re
    from pathlib import Path

    catalogue.load_default()
    call_command("careops_demo")
    printed = re.findall(r"^  (\S+) ", capsys.readouterr().out.split("mot de passe :")[1], re.M)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    french = readme.split("Comptes de démonstration")[1].split("Les rôles instructeur")[0]
    english = readme.split("Demo logins")[1].split("Instructor and administrator")[0]
    names = set(printed)
    assert names == set(re.findall(r"`([a-z.]+)`", french)) - {"careops-demo-2026"}
    assert names == set(re.findall(r"`([a-z.]+)`", english)) - {"careops-demo-2026"}
    for username in names:
        assert client.login(username=username, password="careops-demo-2026"), username
