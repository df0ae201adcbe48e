"""Company, Domain and Service now live in tenancy (same tables): the foreign keys change in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('product', '0002_role_grants'),
        ('tenancy', '0001_companies_domains_services'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='activeuser',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='active_users', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='featureflagevaluation',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='feature_flag_evaluations', to='tenancy.company'),
                ),
            ],
        ),
    ]
