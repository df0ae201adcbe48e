"""Company, Domain and Service now live in tenancy (same tables): the foreign keys change in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connectors', '0002_role_grants'),
        ('tenancy', '0001_companies_domains_services'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='historicalintegration',
                    name='company',
                    field=models.ForeignKey(blank=True, db_constraint=False, help_text="The company whose data it sends. Required for webhooks; a Prometheus server without one serves several companies, told apart by each series' `company` label.", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='integration',
                    name='company',
                    field=models.ForeignKey(blank=True, help_text="The company whose data it sends. Required for webhooks; a Prometheus server without one serves several companies, told apart by each series' `company` label.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='integrations', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='servicelink',
                    name='service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links', to='tenancy.service'),
                ),
                migrations.AlterField(
                    model_name='sourceevent',
                    name='company',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='source_events', to='tenancy.company'),
                ),
            ],
        ),
    ]
