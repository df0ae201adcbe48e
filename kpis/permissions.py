"""Who may change what in the registry: the one rule the admin and the API both enforce."""
from .roles import AUDITORS, KPI_APPROVERS, KPI_OWNERS, group_names


def may_change_definition(user, kpi):
    """Superusers, and members of KPI owners for the definitions they own."""
    if user.is_superuser:
        return True
    return KPI_OWNERS in group_names(user) and kpi.owner_id == user.pk


def may_read_history(user):
    """The change history is for superusers, KPI owners, approvers and auditors."""
    return user.is_superuser or bool(group_names(user) & {KPI_OWNERS, KPI_APPROVERS, AUDITORS})


def may_decide_proposals(user):
    """Members of KPI approvers, and superusers, approve or reject proposals (never their own, but in an emergency)."""
    return user.is_superuser or KPI_APPROVERS in group_names(user)
