"""
The demo's people, one per role, so each persona can be tried at once: an executive of each demo company (a member
of it alone), a stakeholder and a data source of the first, a responder and a KPI approver of the MSP who belong to
every demo company, and a portal-wide auditor (the "All companies" group, no memberships); demo.owners adds a KPI
owner per owner role. Under development settings (DEBUG on) each gets the development password DEMO_PASSWORD and the
data source an API token, printed once by `load_demo`; with DEBUG off (production settings) nobody gets a password.
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from tenancy.models import Company, Membership
from tenancy.roles import ALL_COMPANIES, AUDITORS, DATA_SOURCES, EXECUTIVES, KPI_APPROVERS, RESPONDERS, STAKEHOLDERS

# Known, so that anyone trying the demo can log in as each persona; only ever set with DEBUG on.
DEMO_PASSWORD = "companyos-demo"


def demo_user(username, *groups, companies=()):
    """The demo user `username` (created without a password), in `groups` and a member of `companies`."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
    for company in companies:
        Membership.objects.get_or_create(user=user, company=company)
    return user


def seed_demo_users(company_slugs):
    """Create (or complete) the demo users and their memberships of the companies `company_slugs`; their usernames."""
    companies = list(Company.objects.filter(slug__in=company_slugs).order_by("slug"))
    short = {company: company.slug.removeprefix("comp-") for company in companies}
    users = [demo_user(f"{short[company]}-exec", EXECUTIVES, companies=[company]) for company in companies]
    first = next((company for company in companies if company.slug == company_slugs[0]), None) if company_slugs else None
    if first is not None:
        users.append(demo_user(f"{short[first]}-stakeholder", STAKEHOLDERS, companies=[first]))
        users.append(demo_user(f"{short[first]}-data-source", DATA_SOURCES, companies=[first]))
    users += [
        demo_user("msp-responder", RESPONDERS, companies=companies),
        demo_user("msp-approver", KPI_APPROVERS, companies=companies),
        demo_user("msp-auditor", AUDITORS, ALL_COMPANIES),
    ]
    return [user.username for user in users]


def give_development_logins(usernames):
    """
    DEMO_PASSWORD for each of `usernames` that has no usable password yet, and an API token for the data sources
    among them that have none. For development only (the caller checks DEBUG). Returns (username, role, token or "")
    of those given a password, so they are printed once.
    """
    given = []
    users = get_user_model().objects.filter(username__in=usernames).prefetch_related("groups").order_by("username")
    for user in users:
        if user.has_usable_password():
            continue
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        roles = sorted(group.name for group in user.groups.all())
        token = Token.objects.get_or_create(user=user)[0].key if DATA_SOURCES in roles else ""
        given.append((user.username, ", ".join(roles), token))
    return given
