"""Auditors read the changes, deployments and builds GitHub reported; webhooks write them, no role does."""
from django.db import migrations

from companyos.grants import grants_operation

GRANTS = {
    "Auditors": ["view_change", "view_deployment", "view_buildrun"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0001_changes_deployments_builds"),
        ("kpis", "0005_nightly_chunks"),
    ]

    operations = [grants_operation("delivery", GRANTS)]
