"""Data sources' tokens upload scan reports; auditors read the findings and the reports applied."""
from django.db import migrations

from companyos.grants import grant_permissions, revoke_permissions

GRANTS = {
    "Data sources": ["add_vulnerability", "add_secretfinding"],
    "Auditors": ["view_vulnerability", "view_secretfinding", "view_scanreport"],
}


def grant(apps, schema_editor):
    grant_permissions(apps, "security", GRANTS)


def revoke(apps, schema_editor):
    revoke_permissions(apps, "security", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0001_scanner_findings"),
        ("kpis", "0005_nightly_chunks"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
