"""
Month range partitions on PostgreSQL for the tables that grow with time (alerts by issued_at, observations by
observed_at): each index stays the size of a month, a query for a period reads only its months, and retention
drops a whole month instead of deleting its rows.

A partitioned table has one partition per calendar month (UTC), named `<table>_YYYY_MM`, and a DEFAULT
partition (`<table>_default`) that takes any row no month partition holds, so no row is ever refused. Its
primary key is (id, <time column>): a unique key of a partitioned table must hold the partition key; ids stay
unique because the one identity sequence numbers them all.

SQLite keeps plain tables: every function here is a no-op there (`is_partitioned` is False), and callers take
their row-by-row path.
"""
import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, migrations, transaction
from django.utils import timezone


def month_start(moment):
    """The first day of the UTC month of a date or an aware datetime."""
    if isinstance(moment, datetime.datetime):
        moment = moment.astimezone(datetime.timezone.utc).date()
    return moment.replace(day=1)


def add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def _months_between(earlier, later):
    """How many months `later` (a month's first day) is after `earlier`."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def month_bounds(month):
    """[start, end) of the UTC month that starts on `month`, as aware datetimes."""
    start = datetime.datetime.combine(month, datetime.time(), tzinfo=datetime.timezone.utc)
    return start, datetime.datetime.combine(add_months(month, 1), datetime.time(), tzinfo=datetime.timezone.utc)


def _literal(moment):
    # Partition bounds are DDL, which takes no query parameters; built from a datetime, never from input.
    return f"'{moment:%Y-%m-%d %H:%M:%S}+00'"


@dataclass(frozen=True)
class MonthPartitions:
    """The month partitions of `table` by its timestamp column `column`."""

    table: str
    column: str

    @property
    def default_partition(self):
        return f"{self.table}_default"

    def partition_name(self, month):
        return f"{self.table}_{month:%Y_%m}"

    def is_partitioned(self):
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = to_regclass(%s))", [self.table]
            )
            return cursor.fetchone()[0]

    def months(self):
        """{first day of the month: partition name} of the month partitions, in month order."""
        if not self.is_partitioned():
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT child.relname FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
                "WHERE pg_inherits.inhparent = %s::regclass",
                [self.table],
            )
            names = [row[0] for row in cursor.fetchall()]
        pattern = re.compile(rf"^{re.escape(self.table)}_(\d{{4}})_(\d{{2}})$")
        found = {}
        for name in names:
            match = pattern.match(name)
            if match:
                found[datetime.date(int(match[1]), int(match[2]), 1)] = name
        return dict(sorted(found.items()))

    def create_months(self, today, months_ahead, since=None):
        """
        Create the partitions of the month of `today`, the `months_ahead` after it, every month from `since`'s (a
        date or aware datetime, for a load of past rows) and every earlier month the DEFAULT partition holds rows
        of. Idempotent; returns the months created. A no-op on a plain table.
        """
        if not self.is_partitioned():
            return []
        first = month_start(today)
        earliest = min(month_start(since), first) if since is not None else first
        wanted = {add_months(earliest, offset) for offset in range(_months_between(earliest, first) + months_ahead + 1)}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT date_trunc('month', {self.column} AT TIME ZONE 'UTC')::date "
                f"FROM {self.default_partition} WHERE {self.column} < %s",
                [month_bounds(first)[0]],
            )
            wanted |= {row[0] for row in cursor.fetchall()}
        existing = self.months()
        return [month for month in sorted(wanted - existing.keys()) if self._create_month(month)]

    def _create_month(self, month):
        """
        One month's partition, in one transaction: a new table takes the month's rows out of the DEFAULT
        partition, then is attached (attaching checks that the DEFAULT partition holds none of the month).
        Two runs at once take turns, and the second finds the month made.
        """
        name = self.partition_name(month)
        start, end = month_bounds(month)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [self.table])
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            if cursor.fetchone()[0]:
                return False
            cursor.execute(f"CREATE TABLE {name} (LIKE {self.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {self.default_partition} WHERE {self.column} >= %s AND {self.column} < %s "
                f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                [start, end],
            )
            cursor.execute(f"ALTER TABLE {self.table} ATTACH PARTITION {name} FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})")
        return True

    def drop_month(self, month):
        """Detach and drop the partition of `month` with its rows; the caller has checked nothing needs them."""
        name = self.partition_name(month)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {self.table} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")

    def lock_month(self, month):
        """Hold off writes to the month's partition until the transaction ends (SHARE lock; reads go on)."""
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {self.partition_name(month)} IN SHARE MODE")

    # Converting a plain table, and back (migrations; PostgreSQL only).

    def partition(self, today, months_ahead):
        """
        Turn the plain table into a partitioned one with the same columns, defaults, identity sequence,
        constraints and index names: a DEFAULT partition, one partition per month its rows fall in, and the
        month of `today` and `months_ahead` after it. The rows are copied set-based.
        """
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT date_trunc('month', {self.column} AT TIME ZONE 'UTC')::date FROM {self.table}")
            months = {row[0] for row in cursor.fetchall()}
        months |= {add_months(month_start(today), offset) for offset in range(months_ahead + 1)}
        partitions = [f"CREATE TABLE {self.default_partition} PARTITION OF {self.table} DEFAULT"]
        for month in sorted(months):
            start, end = month_bounds(month)
            partitions.append(
                f"CREATE TABLE {self.partition_name(month)} PARTITION OF {self.table} "
                f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"
            )
        self._replace_table(f"PARTITION BY RANGE ({self.column})", partitions, with_partition_key=True)

    def unpartition(self):
        """Turn the partitioned table back into a plain one, rows, sequence, constraints and index names kept."""
        self._replace_table("", [], with_partition_key=False)

    def _replace_table(self, partition_clause, partitions, *, with_partition_key):
        """
        Replace the table by a new one (`partition_clause`, then the `partitions` statements) holding its rows,
        with its columns, defaults, identity sequence (and its position), constraints and index names. The
        primary key is (id, <column>) `with_partition_key`, else (id).
        """
        previous = f"{self.table}_previous"
        with connection.cursor() as cursor:
            cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'f' AND confrelid = %s::regclass", [self.table])
            referencing = [row[0] for row in cursor.fetchall()]
            if referencing:
                raise RuntimeError(f"{self.table} is referenced by foreign keys {referencing}; drop them first.")
            # Constraints in an order they can be added back in, then the indexes that back no constraint.
            cursor.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                "AND contype IN ('p', 'u', 'c', 'f') ORDER BY position(contype IN 'pucf'), conname",
                [self.table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT pg_get_indexdef(pg_index.indexrelid) FROM pg_index JOIN pg_class index ON index.oid = pg_index.indexrelid "
                "WHERE pg_index.indrelid = %s::regclass AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = pg_index.indexrelid) "
                "ORDER BY index.relname",
                [self.table],
            )
            indexes = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT attname, pg_get_serial_sequence(%s, attname) FROM pg_attribute WHERE attrelid = %s::regclass AND attidentity <> ''",
                [self.table, self.table],
            )
            identity_column, sequence = cursor.fetchone()
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            sequence_position = cursor.fetchone()

            cursor.execute(f"ALTER TABLE {self.table} RENAME TO {previous}")
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {previous}_{identity_column}_seq")
            cursor.execute(
                f"CREATE TABLE {self.table} (LIKE {previous} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE) {partition_clause}"
            )
            for statement in partitions:
                cursor.execute(statement)
            cursor.execute(f"INSERT INTO {self.table} SELECT * FROM {previous}")
            # Frees the constraint and index names (a partitioned table's partitions go with it).
            cursor.execute(f"DROP TABLE {previous}")
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s, %s)", [self.table, identity_column, *sequence_position])
            for name, kind, definition in constraints:
                if kind == "p":
                    definition = f"PRIMARY KEY ({identity_column}{f', {self.column}' if with_partition_key else ''})"
                cursor.execute(f"ALTER TABLE {self.table} ADD CONSTRAINT {name} {definition}")
            for definition in indexes:
                # pg_get_indexdef names the table schema-qualified, and "ONLY" when it is partitioned.
                cursor.execute(re.sub(r" ON (ONLY )?(\w+\.)?\w+ USING ", f" ON {self.table} USING ", definition, count=1))


def partitioning(table, column):
    """A migration operation: partition `table` by month of `column` on PostgreSQL, and back when unapplied."""
    partitions = MonthPartitions(table, column)

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            partitions.partition(timezone.now(), settings.PARTITION_MONTHS_AHEAD)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            partitions.unpartition()

    return migrations.RunPython(forward, backward)
