"""Data sources' tokens upload billing and cloud-cost files; auditors read what they produced."""
from django.db import migrations

from companyos.grants import grant_permissions, revoke_permissions

GRANTS = {
    "Data sources": ["add_revenuerecord", "add_cloudcostlineitem"],
    "Auditors": ["view_revenuerecord", "view_cloudcostlineitem"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, "finance", GRANTS)


def revoke(apps, schema_editor):
    revoke_permissions(apps, "finance", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_revenue_and_cloud_cost"),
        ("kpis", "0003_persona_and_data_source_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
