"""
The demo's people, one per way of seeing the companies: an executive of each demo company (a member of it
alone), a responder of the MSP who belongs to every demo company, and a portal-wide auditor (the "All companies"
group, no memberships). They have no password: set one in the admin, or capture their view with
`screenshot_cockpit --username acme-exec`.
"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tenancy.models import Company, Membership
from tenancy.roles import ALL_COMPANIES, AUDITORS, EXECUTIVES, RESPONDERS


def _user(username, *groups):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
    return user


def seed_demo_users(company_slugs):
    """Create (or complete) the demo users and their memberships of the companies `company_slugs`; their usernames."""
    companies = list(Company.objects.filter(slug__in=company_slugs))
    users = []
    for company in companies:
        executive = _user(f"{company.slug.removeprefix('comp-')}-exec", EXECUTIVES)
        Membership.objects.get_or_create(user=executive, company=company)
        users.append(executive)
    responder = _user("msp-responder", RESPONDERS)
    for company in companies:
        Membership.objects.get_or_create(user=responder, company=company)
    users += [responder, _user("msp-auditor", AUDITORS, ALL_COMPANIES)]
    return [user.username for user in users]
