"""Runbook execution ids are unique within a company, not across the portal: two companies may number their runs alike."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0005_tenants_moved_to_tenancy'),
        ('tenancy', '0004_all_companies_group_and_single_company_members'),
    ]

    operations = [
        migrations.AlterField(
            model_name='runbookexecution',
            name='execution_id',
            field=models.CharField(help_text="The runbook tool's id of the run, unique within the company.", max_length=200),
        ),
        migrations.AddConstraint(
            model_name='runbookexecution',
            constraint=models.UniqueConstraint(fields=('company', 'execution_id'), name='incidents_runbookexecution_unique_execution'),
        ),
    ]
