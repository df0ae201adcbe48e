"""Data sources' tokens upload billing and cloud-cost files; auditors read what they produced."""
from django.db import migrations

from companyos.grants import grants_operation

GRANTS = {
    "Data sources": ["add_revenuerecord", "add_cloudcostlineitem"],
    "Auditors": ["view_revenuerecord", "view_cloudcostlineitem"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_revenue_and_cloud_cost"),
        ("kpis", "0003_persona_and_data_source_groups"),
    ]

    operations = [grants_operation("finance", GRANTS)]
