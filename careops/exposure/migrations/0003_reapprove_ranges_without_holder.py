"""Ranges approved before the approval rule (issue 11.5) go back to "to approve": they may have
been approved by a peer of the organisation, and no approver recorded the holder they saw."""

from django.db import migrations

NOTE = (
    "approbation à renouveler : depuis la règle d'approbation par l'ARS de la région ou un "
    "administrateur, le titulaire constaté doit être saisi"
)


def forwards(apps, schema_editor):
    Asset = apps.get_model("exposure", "Asset")
    Asset.objects.filter(kind__in=["ipv4", "ipv6"], status="verified", holder="").update(
        status="attested", verification_note=NOTE
    )


class Migration(migrations.Migration):
    dependencies = [("exposure", "0002_asset_holder_and_resolved_addresses")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
