"""Role grants for data migrations: each app's migration gives the role groups its models' permissions."""
from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_permissions(apps, label, grants):
    """Give each group of `grants` ({group name: [codename, ...]}) those permissions of app `label`."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally created after all migrations; the groups need them now.
    config = apps.get_app_config(label)
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    for name, codenames in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label=label, codename__in=codenames))


def revoke_permissions(apps, label, grants):
    """Undo grant_permissions (the groups stay: other apps grant to them too)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in grants.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*Permission.objects.filter(content_type__app_label=label, codename__in=codenames))


def grants_operation(label, grants):
    """A migration operation giving the role groups `grants` of app `label` (and taking them back on reverse)."""

    def grant(apps, schema_editor):
        grant_permissions(apps, label, grants)

    def revoke(apps, schema_editor):
        revoke_permissions(apps, label, grants)

    return migrations.RunPython(grant, revoke)
