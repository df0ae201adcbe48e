"""
The "All companies" group (portal-wide readers: add an auditor to it), and the memberships a deployment of one
company already meant: with a single company every existing user belongs to it, so upgrading locks no one out.
With several companies nobody is granted anything: an administrator grants each user their companies.
"""
from django.db import migrations
from django.utils import timezone

from companyos.grants import grants_operation

GRANTS = {"All companies": ["view_all_companies"]}


def members_of_the_only_company(apps, schema_editor):
    Company = apps.get_model("tenancy", "Company")
    Membership = apps.get_model("tenancy", "Membership")
    User = apps.get_model("auth", "User")
    companies = list(Company.objects.all()[:2])
    if len(companies) != 1:
        return
    HistoricalMembership = apps.get_model("tenancy", "HistoricalMembership")
    now = timezone.now()
    for user_id in User.objects.values_list("pk", flat=True):
        membership = Membership.objects.create(user_id=user_id, company=companies[0])
        # Model signals do not run in migrations: the grant's history row is written here.
        HistoricalMembership.objects.create(
            id=membership.pk, user_id=user_id, company=companies[0], granted_at=membership.granted_at,
            history_date=now, history_type="+", history_change_reason="Upgrade: the deployment's only company",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0003_memberships"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        grants_operation("tenancy", GRANTS),
        migrations.RunPython(members_of_the_only_company, migrations.RunPython.noop),
    ]
