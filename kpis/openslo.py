"""
The definitions' SLOs as OpenSLO v1 (`apiVersion: openslo/v1`, `kind: SLO`), out and in.

| OpenSLO | definition |
| --- | --- |
| metadata.name | slug |
| metadata.displayName | name |
| spec.description | description |
| spec.service | the slug again (a definition's SLO applies to every service its SLI series label) |
| spec.indicator.spec.ratioMetric.good.metricSource.spec.query (type Prometheus) | sli_good_promql |
| spec.indicator.spec.ratioMetric.total.metricSource.spec.query | sli_total_promql |
| spec.objectives[0].target (0-1; or targetPercent, 0-100) | slo_objective (percent) |
| spec.timeWindow[0].duration (rolling: isRolling true) | slo_period_days |
| spec.budgetingMethod | Occurrences (the only one: good events over all events) |

An import goes through change control like any edit: a definition that exists changes by `propose_change` (its SLO
fields are a proposal awaiting a second person while it is active; name and description apply at once with a
history row), a new one is created as a draft owned by the importer. All or nothing: a document that is not valid
OpenSLO, or whose values the registry refuses, is refused naming its field (`spec.objectives[0].target`).
"""
import dataclasses
import math
import re

import yaml
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from . import services
from .choices import Direction, Status, Units
from .models import KpiDefinition

API_VERSION = "openslo/v1"
GOOD_QUERY = "spec.indicator.spec.ratioMetric.good.metricSource.spec.query"
TOTAL_QUERY = "spec.indicator.spec.ratioMetric.total.metricSource.spec.query"
# Where each imported field comes from, to name it when the registry refuses its value.
FIELD_PATHS = {
    "slug": "metadata.name",
    "name": "metadata.displayName",
    "description": "spec.description",
    "slo_objective": "spec.objectives[0].target",
    "slo_period_days": "spec.timeWindow[0].duration",
    "sli_good_promql": GOOD_QUERY,
    "sli_total_promql": TOTAL_QUERY,
}
# OpenSLO's duration units that make whole days.
DAYS_PER_UNIT = {"d": 1, "w": 7}
DURATION = re.compile(r"^([1-9][0-9]*)([a-zA-Z])$")
# What a definition made from an SLO holds besides it, until its owner completes it (it is a draft).
NEW_DEFINITION_DEFAULTS = {
    "formula": "Share of good events among all events over the SLO's rolling period (imported from OpenSLO).",
    "units": Units.PERCENT,
    "direction": Direction.HIGHER_IS_BETTER,
    "owner_role": "SLO owner",
    "status": Status.DRAFT,
}


class OpenSloError(ValidationError):
    """A document that is not OpenSLO this registry reads; `message_dict` is keyed by the field's path."""


# What an import did to one definition: created (a draft), changed at once, proposed (awaiting approval), unchanged.
IMPORT_ACTIONS = ("created", "changed", "proposed", "unchanged")


@dataclasses.dataclass(frozen=True)
class ImportOutcome:
    """What an import did to one definition (one of IMPORT_ACTIONS), and the proposal it made, if any."""

    slug: str
    action: str
    proposal_id: int | None = None


# --- export -----------------------------------------------------------------------------------------------


def _prometheus_query(text):
    return {"metricSource": {"type": "Prometheus", "spec": {"query": text}}}


def slo_document(kpi):
    """The OpenSLO v1 SLO of a definition with an SLO."""
    return {
        "apiVersion": API_VERSION,
        "kind": "SLO",
        "metadata": {"name": kpi.slug, "displayName": kpi.name},
        "spec": {
            "description": kpi.description,
            "service": kpi.slug,
            "indicator": {
                "metadata": {"name": f"{kpi.slug}-sli"},
                "spec": {
                    "ratioMetric": {
                        "counter": True,
                        "good": _prometheus_query(kpi.sli_good_promql),
                        "total": _prometheus_query(kpi.sli_total_promql),
                    }
                },
            },
            "timeWindow": [{"duration": f"{kpi.slo_period_days}d", "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": [{"displayName": f"{kpi.slo_objective:g} %", "target": round(kpi.slo_objective / 100, 12)}],
        },
    }


def export_slos(definitions):
    """The SLOs of `definitions` (those that have one, by slug) as one YAML stream of OpenSLO documents."""
    with_slo = definitions.filter(slo_objective__isnull=False).order_by("slug")
    return yaml.safe_dump_all([slo_document(kpi) for kpi in with_slo], sort_keys=False, width=120)


# --- import -----------------------------------------------------------------------------------------------


def _refuse(path, message):
    raise OpenSloError({path: message})


def _at(document, path):
    """The value at a dotted path with [n] indexes, refusing a missing or mistyped step naming the path so far."""
    value, walked = document, ""
    for step in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if step.startswith("["):
            index = int(step[1:-1])
            if not isinstance(value, list) or len(value) <= index:
                _refuse(walked, f"must be a list with an entry {index}.")
            value, walked = value[index], f"{walked}{step}"
        else:
            if not isinstance(value, dict):
                _refuse(walked or step, "must be a mapping.")
            walked = f"{walked}.{step}" if walked else step
            if step not in value or value[step] is None:
                _refuse(walked, "is required.")
            value = value[step]
    return value


def _text(document, path):
    value = _at(document, path)
    if not isinstance(value, str) or not value.strip():
        _refuse(path, "must be non-empty text.")
    return value.strip()


def _query(document, which):
    source = _at(document, f"spec.indicator.spec.ratioMetric.{which}.metricSource")
    kind = source.get("type") if isinstance(source, dict) else None
    if not isinstance(kind, str) or kind.lower() != "prometheus":
        _refuse(f"spec.indicator.spec.ratioMetric.{which}.metricSource.type", "must be Prometheus.")
    return _text(document, f"spec.indicator.spec.ratioMetric.{which}.metricSource.spec.query")


def _objective(document):
    objectives = _at(document, "spec.objectives")
    if not isinstance(objectives, list) or len(objectives) != 1:
        _refuse("spec.objectives", "must hold exactly one objective (a definition has one SLO objective).")
    objective = _at(document, "spec.objectives[0]")
    if not isinstance(objective, dict):
        _refuse("spec.objectives[0]", "must be a mapping.")
    if objective.get("target") is not None:
        path, share, scale = "spec.objectives[0].target", objective["target"], 100
    elif objective.get("targetPercent") is not None:
        path, share, scale = "spec.objectives[0].targetPercent", objective["targetPercent"], 1
    else:
        _refuse("spec.objectives[0].target", "is required (a share between 0 and 1, e.g. 0.999).")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share) or not 0 < share * scale < 100:
        bounds = "between 0 and 1, e.g. 0.999" if scale == 100 else "between 0 and 100, e.g. 99.9"
        _refuse(path, f"must be a number strictly {bounds}.")
    return round(share * scale, 10)


def _period_days(document):
    windows = _at(document, "spec.timeWindow")
    if not isinstance(windows, list) or len(windows) != 1:
        _refuse("spec.timeWindow", "must hold exactly one time window.")
    window = _at(document, "spec.timeWindow[0]")
    if not isinstance(window, dict):
        _refuse("spec.timeWindow[0]", "must be a mapping.")
    if window.get("isRolling") is not True:
        _refuse("spec.timeWindow[0].isRolling", "must be true: only rolling windows are supported, not calendar ones.")
    duration = _at(document, "spec.timeWindow[0].duration")
    match = DURATION.match(duration) if isinstance(duration, str) else None
    if match is None or match.group(2) not in DAYS_PER_UNIT:
        _refuse("spec.timeWindow[0].duration", f"must be whole days or weeks such as 30d or 4w, not {duration!r}.")
    return int(match.group(1)) * DAYS_PER_UNIT[match.group(2)]


def read_slo(document):
    """The definition fields an OpenSLO v1 SLO document sets; refuses (OpenSloError) naming the field at fault."""
    if not isinstance(document, dict):
        _refuse("document", "must be a mapping (an OpenSLO object).")
    if document.get("apiVersion") != API_VERSION:
        _refuse("apiVersion", f"must be {API_VERSION}.")
    if document.get("kind") != "SLO":
        _refuse("kind", "must be SLO (indicators are read inline, from spec.indicator).")
    spec = _at(document, "spec")
    if not isinstance(spec, dict):
        _refuse("spec", "must be a mapping.")
    if "indicatorRef" in spec:
        _refuse("spec.indicatorRef", "is not supported: put the indicator inline as spec.indicator.")
    method = spec.get("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        _refuse("spec.budgetingMethod", "must be Occurrences (good events among all events).")
    ratio = _at(document, "spec.indicator.spec.ratioMetric")
    if not isinstance(ratio, dict):
        _refuse("spec.indicator.spec.ratioMetric", "must be a mapping.")
    if ratio.get("counter", True) is not True:
        _refuse("spec.indicator.spec.ratioMetric.counter", "must be true: good and total are counters.")
    if "bad" in ratio:
        _refuse("spec.indicator.spec.ratioMetric.bad", "is not supported: give good and total.")
    fields = {
        "slug": _text(document, "metadata.name"),
        "slo_objective": _objective(document),
        "slo_period_days": _period_days(document),
        "sli_good_promql": _query(document, "good"),
        "sli_total_promql": _query(document, "total"),
    }
    metadata = document["metadata"]
    for name, source, path in (("name", metadata, "displayName"), ("description", spec, "description")):
        if source.get(path) is not None:
            fields[name] = _text(document, FIELD_PATHS[name])
    return fields


def read_documents(text):
    """The definition fields of each SLO in a YAML stream; refuses bad YAML and bad SLOs naming the field."""
    try:
        documents = [document for document in yaml.safe_load_all(text) if document is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise OpenSloError({"document": f"is not valid YAML{where}: {getattr(error, 'problem', None) or error}."}) from None
    except RecursionError:
        raise OpenSloError({"document": "is nested too deeply to be an OpenSLO document."}) from None
    except (ValueError, TypeError, AttributeError) as error:
        # PyYAML's constructors of tagged or date-like scalars (`!!int x`, `2001-13-01`) raise these, not YAMLError.
        raise OpenSloError({"document": f"is not valid YAML: a value cannot be read ({error})."}) from None
    if not documents:
        _refuse("document", "holds no OpenSLO SLO.")
    read, slugs = [], set()
    for number, document in enumerate(documents, start=1):
        try:
            fields = read_slo(document)
        except OpenSloError as error:
            raise _in_document(error, number, document) from None
        if fields["slug"] in slugs:
            raise _in_document(OpenSloError({"metadata.name": f"'{fields['slug']}' is in the file twice."}), number, document)
        slugs.add(fields["slug"])
        read.append(fields)
    return read


def _in_document(error, number, document):
    """The error with the SLO's name and place in the stream said, so a file of many SLOs shows which one."""
    name = document.get("metadata", {}).get("name") if isinstance(document, dict) and isinstance(document.get("metadata"), dict) else None
    which = f"SLO '{name}' (document {number})" if name else f"document {number}"
    return OpenSloError({path: [f"{message} [{which}]" for message in messages] for path, messages in error.message_dict.items()})


def _as_openslo_error(error, slug):
    """A registry refusal of a definition's field, named by the OpenSLO field it came from."""
    if not hasattr(error, "message_dict"):
        return OpenSloError({"document": [f"{message} [SLO '{slug}']" for message in error.messages]})
    return OpenSloError(
        {FIELD_PATHS.get(field, field): [f"{message} [SLO '{slug}']" for message in messages] for field, messages in error.message_dict.items()}
    )


@transaction.atomic
def import_slos(text, *, actor, reason, may_change=lambda kpi: True):
    """
    Bring the SLOs of an OpenSLO YAML stream into the registry through change control, all or nothing (see the
    module docstring). `may_change(kpi)` says whether `actor` may change an existing definition (PermissionDenied
    otherwise). Returns an ImportOutcome per SLO, in file order.
    """
    outcomes = []
    for fields in read_documents(text):
        slug = fields.pop("slug")
        kpi = KpiDefinition.objects.filter(slug=slug).first()
        try:
            outcomes.append(_import_one(kpi, slug, fields, actor=actor, reason=reason, may_change=may_change))
        except (OpenSloError, services.ProposalConflict):
            raise  # already named: a field of the document, or the open proposal in the way
        except ValidationError as error:
            raise _as_openslo_error(error, slug) from None
    return outcomes


def _import_one(kpi, slug, fields, *, actor, reason, may_change):
    if kpi is None:
        values = {"name": slug, "description": f"The SLO {slug}, imported from OpenSLO.", **NEW_DEFINITION_DEFAULTS, **fields}
        services.create_definition(actor=actor, reason=reason, slug=slug, owner=actor, **values)
        return ImportOutcome(slug, "created")
    changed = {name: value for name, value in fields.items() if getattr(kpi, name) != value}
    if not changed:
        return ImportOutcome(slug, "unchanged")
    if not may_change(kpi):
        raise PermissionDenied(f"Only the owner of '{slug}' or a superuser may change it.")
    outcome = services.propose_change(kpi, actor=actor, reason=reason, **changed)
    if outcome.proposal is not None:
        return ImportOutcome(slug, "proposed", outcome.proposal.pk)
    return ImportOutcome(slug, "changed")

