"""One account per e-mail address, case-insensitive (empty addresses excepted).

An invitation or a password-reset link is mailed to an address: if two accounts shared it, the
holder of the address would receive a link for an account that is not theirs.
"""

from django.conf import settings
from django.db import migrations

INDEX = "careops_user_email_ci_unique"


def refuse_duplicates(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    seen: dict[str, list[str]] = {}
    for username, email in User.objects.exclude(email="").values_list("username", "email"):
        seen.setdefault(email.strip().lower(), []).append(username)
    shared = {email: names for email, names in seen.items() if len(names) > 1}
    if shared:
        detail = "; ".join(f"{email} : {', '.join(names)}" for email, names in shared.items())
        raise RuntimeError(
            "Plusieurs comptes partagent une adresse électronique ; donnez à chacun la sienne "
            f"avant de migrer ({detail})."
        )


def create_index(apps, schema_editor):
    table = apps.get_model(*settings.AUTH_USER_MODEL.split("."))._meta.db_table
    schema_editor.execute(
        f"CREATE UNIQUE INDEX {INDEX} ON {schema_editor.quote_name(table)} (LOWER(email)) "
        "WHERE email <> ''"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0003_vendor_role"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
