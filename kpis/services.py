"""Every write to a KPI definition goes through these functions, so every path leaves one audited history row."""
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import KpiDefinition


def _require_reason(reason):
    if not reason or not str(reason).strip():
        raise ValidationError({"change_reason": "A reason for the change is required."})


@transaction.atomic
def create_definition(*, actor, reason, **fields):
    """Create a definition; its first history row carries `actor` and `reason`."""
    _require_reason(reason)
    kpi = KpiDefinition(**fields)
    kpi.full_clean()
    kpi._change_reason = reason
    kpi._history_user = actor
    kpi.save()
    return kpi


@transaction.atomic
def change_definition(kpi, *, actor, reason, **fields):
    """
    Apply `fields` to `kpi` and record one history row with who and why.

    Refuses a missing reason, an unknown field or an invalid result; nothing is written then.
    Returns the definition; a call that changes nothing writes no history.
    """
    _require_reason(reason)
    editable = {field.name for field in KpiDefinition._meta.get_fields() if getattr(field, "editable", False)}
    unknown = set(fields) - editable
    if unknown:
        raise ValidationError({name: f"'{name}' is not an editable field of a KPI definition." for name in sorted(unknown)})
    if "slug" in fields and fields["slug"] != kpi.slug:
        raise ValidationError({"slug": f"The slug '{kpi.slug}' cannot change once created."})
    kpi = KpiDefinition.objects.select_for_update().get(pk=kpi.pk)
    changed = {name: value for name, value in fields.items() if getattr(kpi, name) != value}
    if not changed:
        return kpi
    for name, value in changed.items():
        setattr(kpi, name, value)
    kpi.full_clean()
    kpi._change_reason = reason
    kpi._history_user = actor
    kpi.save()
    return kpi
