"""
Admin access follows the roles (tenancy.admin_access): members of KPI owners, Auditors and KPI approvers get the staff
status that was ticked by hand before. Nobody loses it here; from now on leaving the last admin role removes it.
"""
from django.db import migrations

ADMIN_ROLES = ["KPI owners", "Auditors", "KPI approvers"]


def staff_status_of_admin_roles(apps, schema_editor):
    User = apps.get_model("auth", "User")
    members = User.objects.filter(groups__name__in=ADMIN_ROLES).values("pk")
    User.objects.filter(pk__in=members, is_staff=False).update(is_staff=True)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0004_all_companies_group_and_single_company_members"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(staff_status_of_admin_roles, migrations.RunPython.noop)]
