"""The reminder log, and the role groups with their model permissions."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# Group name -> the codenames of the kpis permissions it holds. Names are frozen here, as migrations must be.
ROLE_PERMISSIONS = {
    "KPI owners": ["view_kpidefinition", "change_kpidefinition", "view_kpireview", "add_kpireview"],
    "Auditors": ["view_kpidefinition", "view_historicalkpidefinition", "view_kpireview"],
}


def create_role_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    kpis_config = apps.get_app_config("kpis")
    kpis_config.models_module = True
    create_permissions(kpis_config, apps=apps, verbosity=0)
    kpis_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="kpis", codename__in=codenames))


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReviewReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sent_on', models.DateField()),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('definitions', models.TextField(help_text='The slugs of the overdue definitions the reminder listed, one per line.')),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='kpi_review_reminders', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-sent_on'],
                'constraints': [models.UniqueConstraint(fields=('recipient', 'sent_on'), name='kpis_reviewreminder_one_per_recipient_and_day', violation_error_message='This owner was already reminded today.')],
            },
        ),
        migrations.RunPython(create_role_groups, remove_role_groups),
    ]
