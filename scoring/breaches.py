"""
Breaches: a KPI's value beyond its critical threshold (strictly: "> 6x", "< 99.5 %") in one scope for at least
the KPI's `breach_after` (the `for:` of the seed's alert rules). Counts are whole, so a count KPI's critical
threshold is its first critical count and reaching it is beyond: the catalogue's 1 for the seed's secret scan
violations "> 0" breaches on the first committed secret.

Observations are read in time order per (KPI, scope); SQL marks each one beyond or not and keeps only the
boundaries of the runs of beyond values (window functions), so Python walks only those few rows. A run whose
first and last beyond observations are at least `breach_after` apart opens a breach at started_at +
breach_after; the first observation back within the threshold closes it. A run that continues an open breach
from an earlier day keeps that breach. While a breach is open, each evaluation adds the run's observations to its
evidence, raises its worst value and moves its current value to the latest; a closed breach no longer changes.
Re-evaluating a day changes nothing more (breaches are unique by start).
"""
import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Max, Min, Q, Value, When, Window
from django.db.models.functions import Lag, Lead
from django.utils import timezone

from companyos import events
from incidents.choices import Severity
from kpis.choices import Direction, Units
from kpis.models import Observation

from .models import Breach
from .services import day_bounds
from .versions import definitions_in_force

SCOPE_FIELDS = ("kpi_id", "company_id", "domain_id", "service_id")

logger = logging.getLogger(__name__)


def _beyond(definition, critical):
    """Beyond `critical` in the KPI's direction: strictly, or from the threshold on for whole counts."""
    lookup = "gt" if definition.direction == Direction.LOWER_IS_BETTER else "lt"
    if definition.units == Units.COUNT:
        lookup += "e"
    return ExpressionWrapper(Q(**{f"value__{lookup}": critical}), output_field=BooleanField())


def _beyond_critical_expression(definitions):
    """A boolean SQL expression: is this observation beyond its KPI's critical threshold (per severity)?"""
    whens = []
    for definition in definitions:
        for severity in Severity.values:
            if severity in definition.targets:
                critical = definition.thresholds_for(severity)[1]
                whens.append(When(Q(kpi_id=definition.pk, incident__severity=severity), then=_beyond(definition, critical)))
        whens.append(When(kpi_id=definition.pk, then=_beyond(definition, definition.critical_threshold)))
    return Case(*whens, default=Value(False), output_field=BooleanField())


def _run_boundaries(company, start, end, definitions):
    """The observations that start or end a run beyond critical, or end one by recovering, in time order."""
    partition = [F(name) for name in SCOPE_FIELDS]
    order = [F("observed_at").asc(), F("id").asc()]
    rows = (
        Observation.objects.filter(
            company=company, observed_at__gte=start, observed_at__lt=end, kpi_id__in=[d.pk for d in definitions]
        )
        .annotate(beyond=_beyond_critical_expression(definitions))
        .annotate(
            before=Window(Lag("beyond"), partition_by=partition, order_by=order),
            after=Window(Lead("beyond"), partition_by=partition, order_by=order),
        )
        .filter(
            Q(beyond=True, before__isnull=True)
            | Q(beyond=True, before=False)
            | Q(beyond=True, after__isnull=True)
            | Q(beyond=True, after=False)
            | Q(beyond=False, before=True)
            | Q(beyond=False, before__isnull=True)
        )
        .values("id", *SCOPE_FIELDS, "observed_at", "value", "beyond", "before", "after")
        .order_by(*SCOPE_FIELDS, "observed_at", "id")
    )
    return rows


def _runs(boundaries):
    """Yield (scope key, first row, last beyond row, recovery row or None, first row of its partition?) per run."""
    by_scope = defaultdict(list)
    for row in boundaries:
        by_scope[tuple(row[name] for name in SCOPE_FIELDS)].append(row)
    for scope, rows in by_scope.items():
        first = None
        for index, row in enumerate(rows):
            if row["beyond"] and row["before"] is not True:
                first = row
            if row["beyond"] and row["after"] is not True:
                recovery = rows[index + 1] if row["after"] is False else None
                yield scope, first, row, recovery, first is rows[0] and first["before"] is None
            if not row["beyond"] and row["before"] is None:
                # The scope's first observation in the window is within the threshold: it closes an open breach.
                yield scope, None, None, row, True


@transaction.atomic
def evaluate_breaches(day, *, company):
    """Open and close the breaches of `company` from the observations of `day` (and the lookback before it)."""
    start, end = day_bounds(day)
    versions = definitions_in_force(end, on=day)
    definitions = {v.definition.pk: v.definition for v in versions.values() if v.definition.critical_threshold is not None}
    if not definitions:
        return []
    lookback = max(definition.breach_after for definition in definitions.values())
    open_breaches = {
        (b.kpi_id, b.company_id, b.domain_id, b.service_id): b
        for b in Breach.objects.select_for_update().filter(company=company, closed_at__isnull=True, started_at__lt=start - lookback)
    }
    touched = []
    for scope, first, last, recovery, continues in _runs(_run_boundaries(company, start - lookback, end, list(definitions.values()))):
        definition = definitions[scope[0]]
        breach = open_breaches.get(scope) if continues else None
        if breach is None and first is not None:
            if last["observed_at"] - first["observed_at"] < definition.breach_after:
                continue
            breach = _open(definition, scope, first)
        if breach is None:
            continue
        if breach.closed_at is None:
            if first is not None:
                _follow(breach, definition, scope, first, last)
            if recovery is not None:
                breach.closed_at = breach.current_at = recovery["observed_at"]
                breach.current_value = recovery["value"]
                events.announce(events.breach_closed, sender=Breach, breach=breach)
            breach.save(update_fields=["worst_value", "current_value", "current_at", "closed_at"])
        touched.append(breach)
    return touched


def _open(definition, scope, first):
    """The breach of `scope` starting at `first` (found again when a day is re-evaluated); a new one is notified."""
    kpi_id, company_id, domain_id, service_id = scope
    breach, created = Breach.objects.get_or_create(
        kpi_id=kpi_id,
        company_id=company_id,
        domain_id=domain_id,
        service_id=service_id,
        started_at=first["observed_at"],
        defaults={
            "opened_at": first["observed_at"] + definition.breach_after,
            "critical_threshold": definition.critical_threshold,
            "worst_value": first["value"],
        },
    )
    if created:
        transaction.on_commit(lambda: notify_owner(breach.pk))
        events.announce(events.breach_opened, sender=Breach, breach=breach)
    return breach


def _follow(breach, definition, scope, first, last):
    """Add the run first..last (every observation beyond critical) to the open `breach`: evidence, worst and current value."""
    kpi_id, company_id, domain_id, service_id = scope
    run = Observation.objects.filter(
        kpi_id=kpi_id,
        company_id=company_id,
        domain_id=domain_id,
        service_id=service_id,
        observed_at__gte=first["observed_at"],
        observed_at__lte=last["observed_at"],
    )
    breach.observations.add(*run.values_list("pk", flat=True))
    if definition.direction == Direction.LOWER_IS_BETTER:
        breach.worst_value = max(breach.worst_value, run.aggregate(worst=Max("value"))["worst"])
    else:
        breach.worst_value = min(breach.worst_value, run.aggregate(worst=Min("value"))["worst"])
    if breach.current_at is None or last["observed_at"] >= breach.current_at:
        breach.current_value, breach.current_at = last["value"], last["observed_at"]


def breach_recipients(kpi):
    """
    Who is told of a breach of `kpi`: its owner; without one (or without an address), the members of the group
    named as its owner role (e.g. "CISO"); without any, BREACH_NOTIFY_EMAIL. [] when there is nobody.
    """
    if kpi.owner is not None and kpi.owner.email:
        return [kpi.owner.email]
    role_members = (
        get_user_model()
        .objects.filter(groups__name=kpi.owner_role, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )
    if role_members:
        return list(role_members)
    return [settings.BREACH_NOTIFY_EMAIL] if settings.BREACH_NOTIFY_EMAIL else []


def notify_owner(breach_id):
    """E-mail a breach to its KPI's owner (breach_recipients), once: notified_at is claimed before the mail is sent."""
    breach = Breach.objects.select_related("kpi__owner").get(pk=breach_id)
    recipients = breach_recipients(breach.kpi)
    if not recipients:
        logger.warning("Breach %s of %s: no owner, no member of the group %r and no BREACH_NOTIFY_EMAIL to notify.",
                       breach.pk, breach.kpi.slug, breach.kpi.owner_role)
        return False
    claimed = Breach.objects.filter(pk=breach_id, notified_at__isnull=True).update(notified_at=timezone.now())
    if not claimed:
        return False
    send_mail(
        subject=f"KPI breach: {breach.kpi.name} beyond its critical threshold",
        message=(
            f"{breach.kpi.name} ({breach.kpi.slug}) in {breach.service or breach.domain or breach.company} has been "
            f"beyond its critical threshold {breach.critical_threshold} since {breach.started_at:%Y-%m-%d %H:%M} UTC "
            f"(worst value {breach.worst_value}, now {breach.current_value}). Breach opened "
            f"{breach.opened_at:%Y-%m-%d %H:%M} UTC. You receive this as the KPI's owner ({breach.kpi.owner_role})."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    return True
