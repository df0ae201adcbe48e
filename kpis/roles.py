"""What each role may see of the KPI registry. The role groups themselves are named in tenancy.roles."""
from tenancy.roles import (  # noqa: F401 (the groups are used by their kpis.roles names too)
    AUDITORS,
    DATA_SOURCES,
    EXECUTIVES,
    KPI_APPROVERS,
    KPI_OWNERS,
    RESPONDERS,
    STAKEHOLDERS,
    group_names,
)

# Roles that work with the internal detail behind the headline numbers (approvers decide changes to it).
SEES_INTERNAL_KPIS = {KPI_OWNERS, KPI_APPROVERS, AUDITORS, RESPONDERS}

# Scorecard persona -> the group a caller must belong to for it.
PERSONA_GROUPS = {"exec": EXECUTIVES, "stakeholder": STAKEHOLDERS, "responder": RESPONDERS}


def sees_internal_kpis(user):
    """Superusers and the internal roles see internal KPIs; executives, stakeholders and anyone else do not."""
    return user.is_superuser or bool(group_names(user) & SEES_INTERNAL_KPIS)


def may_use_persona(user, persona):
    return user.is_superuser or PERSONA_GROUPS.get(persona) in group_names(user)
