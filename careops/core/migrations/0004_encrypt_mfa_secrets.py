"""Encrypt the second-factor secrets enrolled before careops encrypted them (TOTP keys and
recovery-code seeds, which allauth keeps in clear by default; careops.core.adapters.MFAAdapter
now writes them encrypted). Runs once at upgrade, so no clear secret waits for `careops
secrets rotate`. Reversal leaves them encrypted: the adapter reads both forms."""

from django.db import migrations


def encrypt_clear_secrets(apps, schema_editor):
    from careops.core import crypto

    authenticator = apps.get_model("mfa", "Authenticator")
    for item in authenticator.objects.all().iterator():
        data, changed = dict(item.data or {}), False
        for key in crypto.MFA_SECRET_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value and not crypto.is_encrypted(value):
                data[key] = crypto.encrypt(value)
                changed = True
        if changed:
            authenticator.objects.filter(pk=item.pk).update(data=data)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_task_records_and_ping_runs"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_clear_secrets, migrations.RunPython.noop)]
