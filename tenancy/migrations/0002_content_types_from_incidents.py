"""
The content types of Company, Domain and Service follow the models from incidents to tenancy, so their
permissions, group grants and admin log entries keep pointing at them.
"""
from django.db import migrations

MODELS = ["company", "domain", "service"]


def move_content_types(apps, from_label, to_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        # A content type made for the new label before this ran holds nothing yet: the old one takes its place.
        if ContentType.objects.filter(app_label=from_label, model=model).exists():
            ContentType.objects.filter(app_label=to_label, model=model).delete()
            ContentType.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


def forwards(apps, schema_editor):
    move_content_types(apps, "incidents", "tenancy")


def backwards(apps, schema_editor):
    move_content_types(apps, "tenancy", "incidents")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0005_tenants_moved_to_tenancy"),
        ("tenancy", "0001_companies_domains_services"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
