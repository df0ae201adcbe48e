"""The persona groups the scorecards are for, and the group of API tokens that feed data in."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERSONA_GROUPS = ["Executives", "Stakeholders", "Responders"]
# Ingestion endpoints check these add permissions; a data source's token user joins "Data sources".
DATA_SOURCE_PERMISSIONS = {
    "incidents": ["add_alert", "add_incident", "add_phasetransition", "add_milestone", "add_surveyresponse",
                  "add_runbookexecution"],
    "kpis": ["add_observation"],
}


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for label in DATA_SOURCE_PERMISSIONS:
        # Permissions are normally created after all migrations; the group needs them now.
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    for name in PERSONA_GROUPS:
        Group.objects.get_or_create(name=name)
    data_sources, _ = Group.objects.get_or_create(name="Data sources")
    for label, codenames in DATA_SOURCE_PERMISSIONS.items():
        data_sources.permissions.add(*Permission.objects.filter(content_type__app_label=label, codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[*PERSONA_GROUPS, "Data sources"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("kpis", "0002_review_reminders_and_role_groups"),
        ("incidents", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
