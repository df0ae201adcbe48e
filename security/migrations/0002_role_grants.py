"""Data sources' tokens upload scan reports; auditors read the findings and the reports applied."""
from django.db import migrations

from companyos.grants import grants_operation

GRANTS = {
    "Data sources": ["add_vulnerability", "add_secretfinding"],
    "Auditors": ["view_vulnerability", "view_secretfinding", "view_scanreport"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0001_scanner_findings"),
        ("kpis", "0005_nightly_chunks"),
    ]

    operations = [grants_operation("security", GRANTS)]
