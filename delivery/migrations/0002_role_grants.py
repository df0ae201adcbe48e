"""Auditors read the changes, deployments and builds GitHub reported; webhooks write them, no role does."""
from django.db import migrations

from companyos.grants import grant_permissions, revoke_permissions

GRANTS = {
    "Auditors": ["view_change", "view_deployment", "view_buildrun"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, "delivery", GRANTS)


def revoke(apps, schema_editor):
    revoke_permissions(apps, "delivery", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0001_changes_deployments_builds"),
        ("kpis", "0005_nightly_chunks"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
