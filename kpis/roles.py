"""The groups that stand for people's roles, and what each role may see."""

KPI_OWNERS = "KPI owners"
AUDITORS = "Auditors"
KPI_APPROVERS = "KPI approvers"
EXECUTIVES = "Executives"
STAKEHOLDERS = "Stakeholders"
RESPONDERS = "Responders"
DATA_SOURCES = "Data sources"

# Roles that work with the internal detail behind the headline numbers (approvers decide changes to it).
SEES_INTERNAL_KPIS = {KPI_OWNERS, KPI_APPROVERS, AUDITORS, RESPONDERS}

# Scorecard persona -> the group a caller must belong to for it.
PERSONA_GROUPS = {"exec": EXECUTIVES, "stakeholder": STAKEHOLDERS, "responder": RESPONDERS}


def group_names(user):
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_group_names = cached
    return cached


def sees_internal_kpis(user):
    """Superusers and the internal roles see internal KPIs; executives, stakeholders and anyone else do not."""
    return user.is_superuser or bool(group_names(user) & SEES_INTERNAL_KPIS)


def may_use_persona(user, persona):
    return user.is_superuser or PERSONA_GROUPS.get(persona) in group_names(user)
