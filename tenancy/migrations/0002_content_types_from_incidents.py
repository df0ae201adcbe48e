"""The content types of Company, Domain and Service follow the models from incidents to tenancy."""
from django.db import migrations

from companyos.model_moves import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0005_tenants_moved_to_tenancy"),
        ("tenancy", "0001_companies_domains_services"),
    ]

    operations = [move_content_types(["company", "domain", "service"], from_label="incidents", to_label="tenancy")]
