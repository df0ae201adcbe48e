"""Data sources' tokens upload active-user and feature-flag files; auditors read what they produced."""
from django.db import migrations

from companyos.grants import grants_operation

GRANTS = {
    "Data sources": ["add_activeuser", "add_featureflagevaluation"],
    "Auditors": ["view_activeuser", "view_featureflagevaluation"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("product", "0001_active_users_and_flag_evaluations"),
        ("kpis", "0003_persona_and_data_source_groups"),
    ]

    operations = [grants_operation("product", GRANTS)]
