"""Company, Domain and Service now live in tenancy (same tables): the foreign keys change in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('finance', '0002_role_grants'),
        ('tenancy', '0001_companies_domains_services'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='cloudcostlineitem',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='cloud_cost_line_items', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='revenuerecord',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revenue_records', to='tenancy.company'),
                ),
            ],
        ),
    ]
