"""
Importing a CSV export (billing revenue, AWS CUR, active users, feature-flag evaluations): one machinery
for every kind, each kind declaring its row schema, its model and what one file restates.

An upload is read as UTF-8 (an optional BOM), with a header row; columns the schema does not name are
ignored (a CUR file has hundreds). Every row is validated against the kind's schema, and ALL bad cells
are reported as `line <n>: <column>: <message>`, numbered as a spreadsheet shows them (the header is
line 1). One bad row refuses the whole file: nothing is applied.

A good file is applied through `connectors.services.receive`: the file is kept verbatim as a SourceEvent
(its delivery ID is the SHA-256 of its bytes, company and kind), so the same file uploaded again changes
nothing. A file restates whole periods: applying it replaces the company's rows of the periods it holds
(`CsvKind.replaces`, e.g. the months of a billing export) and leaves the others, so a corrected or
refreshed export of a period supersedes the earlier one and overlapping files never double-count.
"""
import csv
import io
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Q
from rest_framework import serializers
from rest_framework.fields import empty

from companyos.bulk import insert_rows

from .services import receive, upload_delivery_id

# Bad cells listed in one refusal; the rest are counted, so a wholly wrong file gives a readable answer.
MAX_REPORTED_ERRORS = 100


@dataclass(frozen=True)
class CsvKind:
    """
    One kind of CSV import.

    `row_schema` is a DRF serializer whose fields are named by CSV column and whose `source` is the
    model field; its `validate(attrs)` may check a row across columns. `key` (model fields) identifies
    a row: a file may not repeat one. `replaces` (model fields) names the periods a file restates.
    """

    name: str
    source: str
    label: str
    model: type
    row_schema: type
    key: tuple
    replaces: tuple
    help_text: str

    @property
    def add_permission(self):
        return f"{self.model._meta.app_label}.add_{self.model._meta.model_name}"


KINDS: dict[str, CsvKind] = {}


def register(kind):
    """Make `kind` importable (through the API, the admin and `import_csv`)."""
    if kind.name in KINDS:
        raise ValueError(f"The CSV import '{kind.name}' is already registered.")
    KINDS[kind.name] = kind
    return kind


def get_kind(name):
    try:
        return KINDS[name]
    except KeyError:
        raise ValidationError({"kind": f"Unknown import '{name}'; the imports are {', '.join(sorted(KINDS))}."}) from None


class LineErrors:
    """The bad cells of a file, keyed `line <n>: <column>`, turned into one ValidationError."""

    def __init__(self):
        self.messages = {}
        self.count = 0

    def add(self, line, column, message):
        self.count += 1
        if len(self.messages) < MAX_REPORTED_ERRORS:
            self.messages.setdefault(f"line {line}: {column}" if column else f"line {line}", []).append(str(message))

    def raise_any(self):
        if not self.count:
            return
        messages = dict(self.messages)
        listed = sum(len(found) for found in messages.values())
        if self.count > listed:
            messages["file"] = [f"{self.count - listed} more bad cells are not listed; correct these and upload again."]
        raise ValidationError(messages)


def decode(content):
    """The file's text: UTF-8 with an optional BOM. Anything else is refused naming the line."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ValidationError({f"line {line}": [f"Not UTF-8 text (byte {content[error.start]:#04x}); save the file as UTF-8."]}) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ValidationError({f"line {line}": ["Contains a NUL character; this is not a CSV text file."]})
    return text


def read_rows(text, kind):
    """
    The rows of `text` validated against `kind`'s schema, as dicts of model field values; or a
    ValidationError listing every bad cell by line and column (nothing is returned then).
    """
    schema = kind.row_schema()
    fields = schema.fields
    errors = LineErrors()
    records = enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
    header = _header(records, fields, errors)
    column_of = {field.source: column for column, field in fields.items()}
    key_columns = [column_of[name] for name in kind.key]
    rows, seen = [], {}
    for line, cells in _records(records, errors):
        if not any(cell.strip() for cell in cells):
            continue
        if any(cell.strip() for cell in cells[len(header):]):
            errors.add(line, None, f"{len(cells)} values, but the header names {len(header)} columns.")
            continue
        row = _validated_row(schema, fields, dict(zip(header, cells)), line, errors)
        if row is None:
            continue
        key = tuple(row[name] for name in kind.key)
        if key in seen:
            errors.add(line, ", ".join(key_columns), f"Repeats line {seen[key]}: the same {', '.join(key_columns)}.")
        else:
            seen[key] = line
            rows.append(row)
    if not rows and not errors.count:
        errors.add(2, None, "The file has no data rows.")
    errors.raise_any()
    return rows


def _header(records, fields, errors):
    """The header's column names; a missing header, a missing required column or a repeated one is refused."""
    try:
        _, header = next(records, (1, []))
    except csv.Error as error:
        errors.add(1, None, f"Not readable as CSV: {error}.")
        header = []
    header = [column.strip() for column in header]
    if not any(header) and not errors.count:
        errors.add(1, None, f"The header row is missing; the columns are {', '.join(fields)}.")
    errors.raise_any()
    for column, field in fields.items():
        if field.required and column not in header:
            errors.add(1, column, "This column is missing.")
        elif header.count(column) > 1:
            errors.add(1, column, "This column appears more than once.")
    errors.raise_any()
    return header


def _records(records, errors):
    """The data records, stopping (with the error) at a line the csv module cannot read."""
    line = 1
    while True:
        try:
            line, cells = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            errors.add(line + 1, None, f"Not readable as CSV: {error}.")
            return
        yield line, cells


def _validated_row(schema, fields, cells, line, errors):
    values, bad = {}, False
    for column, field in fields.items():
        cell = cells.get(column, "").strip()
        if cell == "":
            if field.required:
                errors.add(line, column, field.error_messages["required"])
                bad = True
            else:
                values[field.source] = None if field.default is empty else field.default
            continue
        try:
            values[field.source] = field.run_validation(cell)
        except serializers.ValidationError as error:
            for message in error.detail:
                errors.add(line, column, message)
            bad = True
    if bad:
        return None
    try:
        return schema.validate(values)
    except serializers.ValidationError as error:
        detail = error.detail if isinstance(error.detail, dict) else {None: error.detail}
        for column, messages in detail.items():
            for message in messages if isinstance(messages, list) else [messages]:
                errors.add(line, column, message)
        return None


def apply_rows(kind, event, rows):
    """Replace the event's company's rows of the periods `rows` restate with `rows`; returns the count by model."""
    model = kind.model
    periods = {tuple(row[name] for name in kind.replaces) for row in rows}
    if len(kind.replaces) == 1:
        restated = Q(**{f"{kind.replaces[0]}__in": [period for (period,) in periods]})
    else:
        restated = reduce(or_, (Q(**dict(zip(kind.replaces, period))) for period in periods))
    model.objects.filter(restated, company=event.company).delete()
    fields = list(rows[0])
    written = insert_rows(
        model, ["company", "source_event", *fields], ((event.company_id, event.pk, *(row[name] for name in fields)) for row in rows)
    )
    return {model._meta.label_lower: written}


def import_csv(kind_name, company, content, *, user=None):
    """
    Import the CSV file `content` (bytes) of kind `kind_name` for `company`, all or nothing, once.
    Returns connectors.services.Received; a bad file raises ValidationError naming each bad line and
    column, and is kept as a failed event (nothing applied).
    """
    kind = get_kind(kind_name)
    text = decode(content)

    def apply(event):
        return apply_rows(kind, event, read_rows(text, kind))

    delivery_id = upload_delivery_id(content, company.slug, kind.name)
    return receive(kind.source, delivery_id, apply, event_type=kind.name, raw=text, company=company, user=user)


def rows_applied(received):
    """Rows an import wrote: none for a file imported before."""
    return sum(received.event.produced.values()) if received.created else 0


def import_records(kind_name, company, columns, records):
    """Write `records` (dicts by column) as the CSV file the tool exports and import it; the rows applied (demo data)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return rows_applied(import_csv(kind_name, company, text.getvalue().encode()))
