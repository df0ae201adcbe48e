"""
Change control shared by every change-controlled model (KPI definitions, correlation configs, dimension
weights): a change needs a reason, and leaves one django-simple-history row that carries who and why.
"""
from django.core.exceptions import ValidationError
from django.db import transaction


def require_reason(reason):
    if not reason or not str(reason).strip():
        raise ValidationError({"change_reason": "A reason for the change is required."})


def save_with_history(instance, *, actor, reason):
    """Validate `instance` and save it; its history row carries `actor` and `reason`. Returns it."""
    require_reason(reason)
    instance.full_clean()
    instance._change_reason = reason
    instance._history_user = actor
    instance.save()
    return instance


@transaction.atomic
def apply_changes(instance, fields, *, actor, reason):
    """
    Lock `instance`'s row, apply the `fields` whose values differ and save one history row with who and why.
    A call that changes nothing writes nothing. Returns the saved (or unchanged) row.
    """
    require_reason(reason)
    row = type(instance).objects.select_for_update().get(pk=instance.pk)
    changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
    if not changed:
        return row
    for name, value in changed.items():
        setattr(row, name, value)
    return save_with_history(row, actor=actor, reason=reason)
