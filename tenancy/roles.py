"""
The role groups: what a person may do, the same in every company they belong to (tenancy.Membership says which
companies). kpis.roles adds what each role sees of the KPI registry.
"""
KPI_OWNERS = "KPI owners"
AUDITORS = "Auditors"
KPI_APPROVERS = "KPI approvers"
EXECUTIVES = "Executives"
STAKEHOLDERS = "Stakeholders"
RESPONDERS = "Responders"
DATA_SOURCES = "Data sources"
# Not a role: holds tenancy.view_all_companies, so its members (portal-wide auditors) read every company.
ALL_COMPANIES = "All companies"

# The roles that read company data (scores, incidents, evidence). A data source's token writes, and reads back only
# what a view offers it to confirm its writes; a user in no group reads nothing.
READING_ROLES = frozenset({KPI_OWNERS, AUDITORS, KPI_APPROVERS, EXECUTIVES, STAKEHOLDERS, RESPONDERS})
# The roles whose work is in the admin (definitions, reviews, history, proposals): membership gives admin access
# (staff status, tenancy.admin_access). Executives, stakeholders and responders read the cockpit; data sources post.
ADMIN_ROLES = frozenset({KPI_OWNERS, AUDITORS, KPI_APPROVERS})


def group_names(user):
    """The names of `user`'s groups, read once per user object (a request's user)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_group_names = cached
    return cached


def reads_company_data(user):
    """Superusers and members of a reading role."""
    return user.is_superuser or bool(group_names(user) & READING_ROLES)


def is_data_source(user):
    return DATA_SOURCES in group_names(user)
