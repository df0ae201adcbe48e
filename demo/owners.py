"""
The demo's KPI owners: one person per owner role of the catalogue (e.g. `ciso-owner` for "CISO"), a KPI owner in
the group named as their role and a member of the demo companies, who owns the definitions of that role that have
no owner yet. Breaches are e-mailed to a definition's owner, so the demo's reach someone. No password, as the
other demo users.
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.text import slugify

from kpis.models import KpiDefinition
from kpis.services import change_definition
from tenancy.models import Company, Membership
from tenancy.roles import KPI_OWNERS

REASON = "Demo: owned by the demo KPI owner of its owner role"


def _owner(role, companies):
    username = f"{slugify(role)}-owner"
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in (KPI_OWNERS, role)))
    for company in companies:
        Membership.objects.get_or_create(user=user, company=company)
    return user


def assign_demo_owners(company_slugs):
    """Give every definition without an owner the demo owner of its role; the owners' usernames."""
    companies = list(Company.objects.filter(slug__in=company_slugs))
    roles = KpiDefinition.objects.order_by("owner_role").values_list("owner_role", flat=True).distinct()
    owners = {role: _owner(role, companies) for role in roles if role}
    for definition in KpiDefinition.objects.filter(owner__isnull=True).exclude(owner_role="").order_by("slug"):
        change_definition(definition, actor=None, reason=REASON, owner=owners[definition.owner_role])
    return [owner.username for owner in owners.values()]
