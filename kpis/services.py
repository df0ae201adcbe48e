"""Every write to a KPI definition goes through these functions, so every path leaves one audited history row."""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import history
from .choices import ReviewOutcome
from .models import KpiDefinition, KpiReview, ReviewReminder, next_review_after


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


@transaction.atomic
def revert_definition(kpi, history_id, *, actor, reason):
    """
    Make `kpi` again what it was at version `history_id`, recorded as a new change whose reason names the version.

    Refuses a version of another definition, a missing reason, or a version the definition already matches.
    """
    _require_reason(reason)
    version = kpi.history.filter(history_id=history_id).first()
    if version is None:
        raise ValidationError({"history_id": f"{history_id} is not a version of the KPI '{kpi.slug}'."})
    current = KpiDefinition.objects.select_for_update().get(pk=kpi.pk)
    restored = {name: getattr(version, name) for name in history.tracked_field_names() if name not in ("slug", "owner")}
    # The owner may have been deleted since; the definition then has none, as the foreign key would say.
    restored["owner"] = get_user_model().objects.filter(pk=version.owner_id).first() if version.owner_id else None
    changed = {name: value for name, value in restored.items() if getattr(current, name) != value}
    number = history.version_of(version)
    if not changed:
        raise ValidationError({"history_id": f"The KPI '{kpi.slug}' already matches version {number}; there is nothing to revert."})
    return change_definition(current, actor=actor, reason=f"Reverted to version {number}: {str(reason).strip()}", **changed)


@transaction.atomic
def record_review(kpi, *, reviewer, outcome, notes=""):
    """
    Record that `reviewer` re-validated `kpi` now, and move its next review on by its cadence.

    The review is its own audit row; the definition's review dates are written without a history row.
    """
    if outcome not in ReviewOutcome.values:
        raise ValidationError({"outcome": f"Unknown review outcome '{outcome}'; use one of {', '.join(ReviewOutcome.values)}."})
    review = KpiReview.objects.create(kpi=kpi, reviewer=reviewer, outcome=outcome, notes=(notes or "").strip())
    next_due = next_review_after(timezone.localdate(review.reviewed_at), kpi.review_cadence)
    KpiDefinition.objects.filter(pk=kpi.pk).update(last_reviewed_at=review.reviewed_at, next_review_due=next_due)
    kpi.last_reviewed_at, kpi.next_review_due = review.reviewed_at, next_due
    return review


def owners_with_overdue_reviews(today):
    """The ids of the users who own at least one definition due for review on `today`."""
    return list(
        KpiDefinition.objects.due_for_review(today)
        .filter(owner__isnull=False)
        .order_by("owner_id")
        .values_list("owner_id", flat=True)
        .distinct()
    )


@transaction.atomic
def send_overdue_review_reminder(owner, today):
    """
    E-mail `owner` the definitions they own that are due for review, at most once per day.

    Returns the recorded ReviewReminder, or None when there is nothing to send or it was sent already today.
    If sending fails, the record is rolled back so that a retry can send it.
    """
    overdue = list(KpiDefinition.objects.due_for_review(today).filter(owner=owner).order_by("next_review_due", "slug"))
    if not overdue or not owner.email:
        return None
    try:
        with transaction.atomic():
            reminder = ReviewReminder.objects.create(
                recipient=owner, sent_on=today, definitions="\n".join(kpi.slug for kpi in overdue)
            )
    except IntegrityError:
        return None
    lines = [f"- {kpi.slug} ({kpi.name}): review was due on {kpi.next_review_due:%Y-%m-%d}" for kpi in overdue]
    send_mail(
        subject=f"{len(overdue)} KPI definition{'s' if len(overdue) != 1 else ''} due for review",
        message="\n".join(
            [
                f"Hello {owner.get_username()},",
                "",
                "These KPI definitions you own are due for review:",
                *lines,
                "",
                'Re-validate each one and record it with the "Mark reviewed" action in the KPI registry.',
            ]
        ),
        from_email=None,
        recipient_list=[owner.email],
    )
    return reminder
