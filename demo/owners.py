"""
The demo's KPI owners: one person per owner role of the catalogue (e.g. `ciso-owner` for "CISO"), a KPI owner in
the group named as their role and a member of the demo companies, who owns the definitions of that role that have
no owner yet. Breaches are e-mailed to a definition's owner, so the demo's reach someone. A password only in
development, as the other demo users (demo.users).
"""
from django.utils.text import slugify

from kpis.models import KpiDefinition
from kpis.services import change_definition
from tenancy.models import Company
from tenancy.roles import KPI_OWNERS

from .users import demo_user

REASON = "Demo: owned by the demo KPI owner of its owner role"


def assign_demo_owners(company_slugs):
    """Give every definition without an owner the demo owner of its role; the owners' usernames."""
    companies = list(Company.objects.filter(slug__in=company_slugs))
    roles = KpiDefinition.objects.order_by("owner_role").values_list("owner_role", flat=True).distinct()
    owners = {role: demo_user(f"{slugify(role)}-owner", KPI_OWNERS, role, companies=companies) for role in roles if role}
    for definition in KpiDefinition.objects.filter(owner__isnull=True).exclude(owner_role="").order_by("slug"):
        change_definition(definition, actor=None, reason=REASON, owner=owners[definition.owner_role])
    return [owner.username for owner in owners.values()]
