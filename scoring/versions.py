"""
Which version of each KPI definition and of the dimension weights was in force at a moment, from their history.

A day is scored with the versions in force at its end, so a change made today does not rewrite last month's
scores, and with the target and critical threshold that version's dated schedule sets for the day. A KPI (or the weights) first recorded after that moment -- e.g. a catalogue loaded after the data it
is backfilled over -- is scored with its first recorded version.
"""
from dataclasses import dataclass

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from kpis.choices import Status
from kpis.models import KpiDefinition

from .models import DimensionWeights

DELETED = "-"


@dataclass(frozen=True)
class DefinitionVersion:
    """A KPI definition as it was in force, with the history row it was read from."""

    history_id: int
    definition: KpiDefinition


def _version_at(history_model, moment):
    """The history_id in force at `moment` for the row of the outer query, else the row's first version."""
    latest = (
        history_model.objects.filter(id=OuterRef("id"), history_date__lte=moment)
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    first = history_model.objects.filter(id=OuterRef("id")).order_by("history_date", "history_id").values("history_id")[:1]
    return Coalesce(Subquery(latest), Subquery(first))


def definitions_in_force(moment, *, on):
    """
    {kpi id: DefinitionVersion} of the active definitions in force at `moment`, in one query, each with the
    thresholds its target schedule sets for the day `on`.
    """
    history_model = KpiDefinition.history.model
    rows = (
        history_model.objects.alias(in_force=_version_at(history_model, moment))
        .filter(history_id=F("in_force"), status=Status.ACTIVE)
        .exclude(history_type=DELETED)
        .order_by("id")
    )
    return {row.id: DefinitionVersion(row.history_id, _recorded_definition(row).in_force_on(on)) for row in rows}


def _recorded_definition(row):
    """
    The definition as its history row records it. Not `row.instance`, which reads the live row's unversioned
    fields (review dates) with a query per definition; scoring never reads them.
    """
    recorded = {field.attname: getattr(row, field.attname) for field in KpiDefinition._meta.concrete_fields if hasattr(row, field.attname)}
    return KpiDefinition(**recorded)


def weights_in_force(moment):
    """(history id, {dimension: weight}) of the dimension weights in force at `moment`."""
    history = DimensionWeights.history
    row = history.filter(history_date__lte=moment).order_by("-history_date", "-history_id").first()
    row = row or history.order_by("history_date", "history_id").first()
    if row is None:
        raise DimensionWeights.DoesNotExist("No dimension weights are recorded; run the scoring migrations.")
    return row.history_id, row.instance.as_dict()
