"""
The rules a definition's thresholds keep, whatever writes them (admin, API, catalogue, proposals): the critical
threshold beyond the target in the KPI's direction, numbers within bounds, the overrides by severity or persona
(`targets`) and the dated schedule (`target_schedule`).
"""
import datetime

from django.core.exceptions import ValidationError

from incidents.choices import Severity

from .choices import Direction, Persona
from .validators import THRESHOLD_RANGE, WithinBounds

TARGET_OVERRIDE_KEYS = {*Severity.values, *Persona.values}

# What a severity's or persona's override in `targets` may hold.
TARGET_OVERRIDE_FIELDS = ("target", "critical")
# What an entry of `target_schedule` holds ("critical" is optional), and how many entries a schedule may have.
SCHEDULE_ENTRY_FIELDS = ("from", "target", "critical")
SCHEDULE_MAX_ENTRIES = 50


def schedule_date(value):
    """The date of a schedule entry's "from" (a date or YYYY-MM-DD text), or None when it is not one."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def threshold_errors(direction, target, critical, where):
    """The message for a critical threshold on the wrong side of its target, or None."""
    if target is None or critical is None:
        return None
    if direction == Direction.HIGHER_IS_BETTER and not critical < target:
        return f"{where}: when higher is better the critical threshold ({critical}) must be below the target ({target})."
    if direction == Direction.LOWER_IS_BETTER and not critical > target:
        return f"{where}: when lower is better the critical threshold ({critical}) must be above the target ({target})."
    return None


def threshold_value_error(where, value):
    """Why `value` cannot be a threshold at `where` (not a number, or out of THRESHOLD_RANGE), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{where} must be a number."
    try:
        WithinBounds(where, *THRESHOLD_RANGE)(value)
    except ValidationError as refused:
        return refused.messages[0]
    return None


def targets_error(definition):
    """The first way `targets` breaks its schema (see the field's help text), or None."""
    if not isinstance(definition.targets, dict):
        return 'Targets must be an object such as {"P1": {"target": 120, "critical": 240}}.'
    for key, pair in definition.targets.items():
        if key not in TARGET_OVERRIDE_KEYS:
            allowed = ", ".join(sorted(TARGET_OVERRIDE_KEYS))
            return f"Unknown severity or persona '{key}' in targets; use one of {allowed}."
        if not isinstance(pair, dict) or "target" not in pair:
            return f'targets.{key} needs a numeric "target" (and optionally "critical").'
        unknown = sorted(set(pair) - set(TARGET_OVERRIDE_FIELDS))
        if unknown:
            return f"targets.{key} holds only target and critical, not {', '.join(unknown)}."
        for name, value in pair.items():
            message = threshold_value_error(f"targets.{key}.{name}", value)
            if message:
                return message
        critical = pair.get("critical", definition.critical_threshold)
        if critical is None:
            return f'targets.{key}.critical is needed while the definition has no critical threshold.'
        message = threshold_errors(definition.direction, pair["target"], critical, f"targets.{key}")
        if message:
            return message
    return None


def schedule_error(definition):
    """The first way `target_schedule` breaks its schema (see the field's help text), or None."""
    example = '[{"from": "2027-04-01", "target": 97, "critical": 90}]'
    if not isinstance(definition.target_schedule, list):
        return f"The target schedule must be a list of dated targets such as {example}."
    if len(definition.target_schedule) > SCHEDULE_MAX_ENTRIES:
        return f"A target schedule holds at most {SCHEDULE_MAX_ENTRIES} dated targets."
    previous = None
    for index, entry in enumerate(definition.target_schedule):
        where = f"target_schedule[{index}]"
        if not isinstance(entry, dict) or "from" not in entry or "target" not in entry:
            return f'{where} needs a "from" date and a numeric "target" (and optionally "critical"), as in {example}.'
        unknown = sorted(set(entry) - set(SCHEDULE_ENTRY_FIELDS))
        if unknown:
            return f"{where} holds only from, target and critical, not {', '.join(unknown)}."
        day = schedule_date(entry["from"])
        if day is None:
            return f'{where}.from must be a date written YYYY-MM-DD, not {entry["from"]!r}.'
        if previous is not None and day <= previous:
            return f"{where}.from ({day}) must come after the entry before it ({previous}): one target per date, in date order."
        previous = day
        for name in ("target", "critical"):
            message = name in entry and threshold_value_error(f"{where}.{name}", entry[name])
            if message:
                return message
        critical = entry.get("critical", definition.critical_threshold)
        if critical is None:
            return f"{where}.critical is needed while the definition has no critical threshold."
        message = threshold_errors(definition.direction, entry["target"], critical, where)
        if message:
            return message
    return None


def threshold_errors_of(definition):
    """{field: message} of each threshold field of `definition` that breaks its rule (empty when none does)."""
    messages = {
        "critical_threshold": threshold_errors(
            definition.direction, definition.target, definition.critical_threshold, "critical_threshold"
        ),
        "targets": targets_error(definition),
        "target_schedule": schedule_error(definition),
    }
    return {field: message for field, message in messages.items() if message}
