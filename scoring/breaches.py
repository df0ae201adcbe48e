"""
Breaches: a KPI's value beyond its critical threshold (strictly: "> 6x", "< 99.5 %") in one scope for at least
the KPI's `breach_after` (the `for:` of the seed's alert rules).

Observations are read in time order per (KPI, scope); SQL marks each one beyond or not and keeps only the
boundaries of the runs of beyond values (window functions), so Python walks only those few rows. A run whose
first and last beyond observations are at least `breach_after` apart opens a breach at started_at +
breach_after; the first observation back within the threshold closes it. A run that continues an open breach
from an earlier day keeps that breach. Re-evaluating a day changes nothing (breaches are unique by start).
"""
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Max, Min, Q, Value, When, Window
from django.db.models.functions import Lag, Lead
from django.utils import timezone

from incidents.choices import Severity
from kpis.choices import Direction
from kpis.models import Observation

from .models import Breach
from .services import day_bounds
from .versions import definitions_in_force

SCOPE_FIELDS = ("kpi_id", "company_id", "domain_id", "service_id")


def _beyond(direction, critical):
    condition = Q(value__gt=critical) if direction == Direction.LOWER_IS_BETTER else Q(value__lt=critical)
    return ExpressionWrapper(condition, output_field=BooleanField())


def _beyond_critical_expression(definitions):
    """A boolean SQL expression: is this observation beyond its KPI's critical threshold (per severity)?"""
    whens = []
    for definition in definitions:
        for severity in Severity.values:
            if severity in definition.targets:
                critical = definition.thresholds_for(severity)[1]
                whens.append(When(Q(kpi_id=definition.pk, incident__severity=severity), then=_beyond(definition.direction, critical)))
        whens.append(When(kpi_id=definition.pk, then=_beyond(definition.direction, definition.critical_threshold)))
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
        .values("id", *SCOPE_FIELDS, "observed_at", "beyond", "before", "after")
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
    versions = definitions_in_force(end)
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
            breach = _open(definition, scope, first, last)
        if breach is not None and recovery is not None and breach.closed_at is None:
            breach.closed_at = recovery["observed_at"]
            breach.save(update_fields=["closed_at"])
        if breach is not None:
            touched.append(breach)
    return touched


def _open(definition, scope, first, last):
    kpi_id, company_id, domain_id, service_id = scope
    evidence = Observation.objects.filter(
        kpi_id=kpi_id,
        company_id=company_id,
        domain_id=domain_id,
        service_id=service_id,
        observed_at__gte=first["observed_at"],
        observed_at__lte=last["observed_at"],
    )

    def worst_value():
        extremes = evidence.aggregate(highest=Max("value"), lowest=Min("value"))
        return extremes["highest"] if definition.direction == Direction.LOWER_IS_BETTER else extremes["lowest"]

    # Callable defaults are evaluated only when the breach is new: re-evaluating a day reads no evidence.
    breach, created = Breach.objects.get_or_create(
        kpi_id=kpi_id,
        company_id=company_id,
        domain_id=domain_id,
        service_id=service_id,
        started_at=first["observed_at"],
        defaults={
            "opened_at": first["observed_at"] + definition.breach_after,
            "critical_threshold": definition.critical_threshold,
            "worst_value": worst_value,
        },
    )
    if created:
        breach.observations.set(evidence)
        transaction.on_commit(lambda: notify_owner(breach.pk))
    return breach


def notify_owner(breach_id):
    """E-mail the KPI's owner about a breach, once: notified_at is claimed before the mail is sent."""
    breach = Breach.objects.select_related("kpi__owner").get(pk=breach_id)
    owner = breach.kpi.owner
    if owner is None or not owner.email:
        return False
    claimed = Breach.objects.filter(pk=breach_id, notified_at__isnull=True).update(notified_at=timezone.now())
    if not claimed:
        return False
    send_mail(
        subject=f"KPI breach: {breach.kpi.name} beyond its critical threshold",
        message=(
            f"{breach.kpi.name} ({breach.kpi.slug}) in {breach.service or breach.domain or breach.company} has been "
            f"beyond its critical threshold {breach.critical_threshold} since {breach.started_at:%Y-%m-%d %H:%M} UTC "
            f"(worst value {breach.worst_value}). Breach opened {breach.opened_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[owner.email],
    )
    return True
