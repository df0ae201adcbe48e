"""
The KPI catalogue (catalogue.yaml) and its loader.

Loading is idempotent: definitions missing from the registry are created through the audited service;
a definition that exists is left exactly as it is, whether or not its owner has edited it since.
"""
import dataclasses
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_duration

from . import services
from .models import KpiDefinition

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
LOAD_REASON = "Loaded from the KPI catalogue"
# The model fields a catalogue entry may set (lists are joined into text, durations parsed). Not `prometheus`:
# which server to query is per deployment, so a catalogue expression is not collected until one is chosen.
CATALOGUE_FIELDS = {
    "slug", "name", "description", "formula", "units", "direction", "target", "critical_threshold", "targets",
    "target_schedule", "data_sources", "visibility", "owner_role", "review_cadence", "dimension", "weight", "status", "breach_after",
    "retention_class", "promql",
}


@dataclasses.dataclass
class LoadResult:
    """The slugs a load created and the ones it found already in the registry."""

    created: list
    existing: list


def read_catalogue(path=CATALOGUE_PATH):
    """The catalogue's definitions as model field values, defaults applied, in file order."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    defaults = document.get("defaults", {})
    return [_definition_fields({**defaults, **entry}) for entry in document["definitions"]]


def load_catalogue(*, actor=None, path=CATALOGUE_PATH):
    """
    Create every catalogue definition whose slug the registry does not have yet; touch no other.

    All or nothing: an invalid entry raises a ValidationError naming its slug and nothing is loaded.
    """
    entries = read_catalogue(path)
    existing = set(KpiDefinition.objects.filter(slug__in=[entry["slug"] for entry in entries]).values_list("slug", flat=True))
    result = LoadResult(created=[], existing=sorted(existing))
    with transaction.atomic():
        for fields in entries:
            if fields["slug"] in existing:
                continue
            try:
                services.create_definition(actor=actor, reason=LOAD_REASON, **fields)
            except ValidationError as error:
                raise ValidationError(f"Catalogue entry '{fields['slug']}': {_describe(error)}") from error
            result.created.append(fields["slug"])
    return result


def _definition_fields(entry):
    slug = entry.get("slug") or "(no slug)"
    unknown = set(entry) - CATALOGUE_FIELDS
    if unknown:
        raise ValidationError(f"Catalogue entry '{slug}': unknown field(s) {', '.join(sorted(unknown))}.")
    fields = dict(entry)
    if isinstance(fields.get("data_sources"), list):
        fields["data_sources"] = "\n".join(fields["data_sources"])
    if "breach_after" in fields:
        duration = parse_duration(str(fields["breach_after"]))
        if duration is None:
            raise ValidationError(f"Catalogue entry '{slug}': breach_after '{fields['breach_after']}' is not a duration such as PT5M.")
        fields["breach_after"] = duration
    return fields


def _describe(error):
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)
