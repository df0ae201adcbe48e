"""Company, Domain and Service now live in tenancy (same tables): the foreign keys change in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0007_observation_indexes'),
        ('tenancy', '0001_companies_domains_services'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='observation',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='observations', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='observation',
                    name='domain',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.domain'),
                ),
                migrations.AlterField(
                    model_name='observation',
                    name='service',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.service'),
                ),
            ],
        ),
    ]
