"""Auditors read every received payload and the integrations' history; data sources' tokens upload files."""
from django.db import migrations

from companyos.grants import grant_permissions, revoke_permissions

GRANTS = {
    "Auditors": ["view_sourceevent", "view_integration", "view_historicalintegration", "view_servicelink"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, "connectors", GRANTS)


def revoke(apps, schema_editor):
    revoke_permissions(apps, "connectors", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
        ("kpis", "0005_nightly_chunks"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
