"""Company, Domain and Service now live in tenancy (same tables): the foreign keys change in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0002_seed_dimension_weights'),
        ('tenancy', '0001_companies_domains_services'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='breach',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='breaches', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='breach',
                    name='domain',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.domain'),
                ),
                migrations.AlterField(
                    model_name='breach',
                    name='service',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.service'),
                ),
                migrations.AlterField(
                    model_name='observationrollup',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='observationrollup',
                    name='domain',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.domain'),
                ),
                migrations.AlterField(
                    model_name='observationrollup',
                    name='service',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.service'),
                ),
                migrations.AlterField(
                    model_name='scoresnapshot',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='score_snapshots', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='scoresnapshot',
                    name='domain',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.domain'),
                ),
                migrations.AlterField(
                    model_name='scoresnapshot',
                    name='service',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.service'),
                ),
            ],
        ),
    ]
