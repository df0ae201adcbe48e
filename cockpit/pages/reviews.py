"""The review list (/cockpit/reviews/): a KPI owner's definitions with their review dates, overdue first."""
from django.urls import reverse

from kpis.choices import Status
from kpis.models import KpiDefinition


def reviews(user, today):
    """The definitions `user` owns (every one, for a superuser) with their review dates, overdue first."""
    definitions = KpiDefinition.objects.exclude(status=Status.RETIRED).select_related("owner")
    if not user.is_superuser:
        definitions = definitions.filter(owner=user)
    rows = []
    for definition in definitions.order_by("next_review_due", "slug"):
        due = definition.next_review_due
        rows.append({
            "definition": definition,
            "due": due,
            "overdue_days": (today - due).days if due and due <= today else None,
            "admin_url": reverse("admin:kpis_kpidefinition_change", args=[definition.pk]),
        })
    # Overdue first (most overdue at the top), then the rest by due date; undated last.
    rows.sort(key=lambda row: (row["overdue_days"] is None, row["due"] is None, row["due"] or today))
    return {"rows": rows, "today": today, "overdue": sum(1 for row in rows if row["overdue_days"] is not None)}
