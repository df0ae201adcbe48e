"""
Bulk loading: the one place that knows how to write many rows fast.

On PostgreSQL rows are streamed with COPY (psycopg 3), everywhere else they go through batched
`bulk_create`. Either way the rows come from an iterator and are never all held in memory.
"""
from itertools import islice

from django.db import connections, models, router, transaction
from django.utils import timezone

# Rows per INSERT on the portable path: large enough to amortise round trips, small enough that
# SQLite stays under its bound-parameter limit for a dozen columns.
BATCH_SIZE = 2000


def insert_rows(model, fields, rows, *, use_copy=None, batch_size=BATCH_SIZE):
    """
    Insert `rows` (an iterable of tuples, values in the order of `fields`) into `model`'s table.

    `fields` are model field names; a foreign key takes the related id ("company" or "company_id").
    Values are of their column's Python type (an int for an id, a str for text, an aware datetime):
    the COPY path writes them in PostgreSQL's binary format, which converts nothing.
    Fields left out get what a new instance would hold (their default, or the current time when they
    are auto_now(_add)), the same on both paths. `use_copy` forces (True) or forbids (False) the PostgreSQL COPY path; by default it is
    used whenever the database is PostgreSQL. Returns the number of rows written. No signals are sent
    and no history is recorded: this is for data that carries its own provenance.
    """
    model_fields = [model._meta.get_field(name) for name in fields]
    filled_fields, filled_values = _filled_defaults(model, model_fields)
    all_fields = model_fields + filled_fields
    using = router.db_for_write(model)
    connection = connections[using]
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    elif use_copy and connection.vendor != "postgresql":
        raise ValueError(f"COPY needs PostgreSQL; the '{using}' database is {connection.vendor}.")
    full_rows = (tuple(row) + filled_values for row in rows)
    with transaction.atomic(using=using):
        if use_copy:
            return _copy_rows(connection, model, all_fields, full_rows)
        return _bulk_create_rows(model, all_fields, full_rows, using, batch_size)


def _filled_defaults(model, given_fields):
    """The fields not given, each with the value a new instance would get (one timestamp for the whole load)."""
    given = {field.name for field in given_fields}
    now = timezone.now()
    fields, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in given:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            fields.append(field)
            values.append(now)
        else:
            # What a new model instance would hold: the default, "" for text, None for nullable fields.
            fields.append(field)
            values.append(field.get_default())
    return fields, tuple(values)


def _copy_rows(connection, model, fields, rows):
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # psycopg adapts dates, numbers and text as Django would; JSON needs Django's own preparation.
    preparers = [
        (index, field.get_db_prep_save)
        for index, field in enumerate(fields)
        if isinstance(field, models.JSONField)
    ]
    count = 0
    # wrap_database_errors: a refused row raises Django's IntegrityError or DataError, as bulk_create would.
    with connection.wrap_database_errors, connection.cursor() as cursor:
        # Binary COPY spares formatting every value as text (most of the client's time) and parsing it
        # again; it needs each column's type, read from the table itself.
        cursor.execute(f"SELECT {columns} FROM {table} LIMIT 0")
        types = [column.type_code for column in cursor.description]
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                if preparers:
                    row = list(row)
                    for index, prepare in preparers:
                        row[index] = prepare(row[index], connection)
                copy.write_row(row)
                count += 1
    return count


def _bulk_create_rows(model, fields, rows, using, batch_size):
    attnames = [field.attname for field in fields]
    count = 0
    while batch := [model(**dict(zip(attnames, row))) for row in islice(rows, batch_size)]:
        model.objects.using(using).bulk_create(batch, batch_size=batch_size)
        count += len(batch)
    return count
