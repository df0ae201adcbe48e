"""Auditors read every received payload and the integrations' history; data sources' tokens upload files."""
from django.db import migrations

from companyos.grants import grants_operation

GRANTS = {
    "Auditors": ["view_sourceevent", "view_integration", "view_historicalintegration", "view_servicelink"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
        ("kpis", "0005_nightly_chunks"),
    ]

    operations = [grants_operation("connectors", GRANTS)]
