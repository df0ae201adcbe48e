"""Company, Domain and Service moved to tenancy (same tables): incidents' foreign keys follow and the models leave its state, after every app's foreign keys point at tenancy."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0004_drop_redundant_company_indexes'),
        ('tenancy', '0001_companies_domains_services'),
        ('connectors', '0003_tenants_from_tenancy'),
        ('delivery', '0003_tenants_from_tenancy'),
        ('finance', '0003_tenants_from_tenancy'),
        ('kpis', '0008_tenants_from_tenancy'),
        ('product', '0003_tenants_from_tenancy'),
        ('scoring', '0003_tenants_from_tenancy'),
        ('security', '0003_tenants_from_tenancy'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='incident',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='incidents', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='historicalcorrelationconfig',
                    name='company',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='alert',
                    name='company',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='runbookexecution',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='runbook_executions', to='tenancy.company'),
                ),
                migrations.AlterField(
                    model_name='correlationconfig',
                    name='company',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='correlation_config', to='tenancy.company'),
                ),
                migrations.RemoveField(
                    model_name='domain',
                    name='company',
                ),
                migrations.AlterField(
                    model_name='patchcompliancesnapshot',
                    name='company',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='patch_snapshots', to='tenancy.company'),
                ),
                migrations.RemoveField(
                    model_name='service',
                    name='domain',
                ),
                migrations.AlterField(
                    model_name='alert',
                    name='service',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to='tenancy.service'),
                ),
                migrations.AlterField(
                    model_name='incident',
                    name='service',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='incidents', to='tenancy.service'),
                ),
                migrations.DeleteModel(
                    name='Company',
                ),
                migrations.DeleteModel(
                    name='Domain',
                ),
                migrations.DeleteModel(
                    name='Service',
                ),
            ],
        ),
    ]
