"""NightlyChunk moved to pipeline (same table): it leaves kpis' state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0008_tenants_from_tenancy'),
        ('pipeline', '0001_nightly_chunks_from_kpis'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='NightlyChunk',
                ),
            ],
        ),
    ]
