from django.core.management import call_command
from django.db import migrations, models


def create_cache_table(apps, schema_editor):
    # The database cache shared by every process (login throttling) when no Redis is
    # configured; does nothing for other cache back-ends.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='apitoken',
            name='read_only',
            field=models.BooleanField(default=False, verbose_name='lecture seule'),
        ),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
