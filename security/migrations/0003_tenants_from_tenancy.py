"""Company, Domain and Service now live in tenancy (same tables): the foreign keys change in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('security', '0002_role_grants'),
        ('tenancy', '0001_companies_domains_services'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='scanreport',
                    name='service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='scan_reports', to='tenancy.service'),
                ),
                migrations.AlterField(
                    model_name='secretfinding',
                    name='service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='secret_findings', to='tenancy.service'),
                ),
                migrations.AlterField(
                    model_name='vulnerability',
                    name='service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='vulnerabilities', to='tenancy.service'),
                ),
            ],
        ),
    ]
