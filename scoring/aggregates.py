"""Portable SQL aggregates the scoring queries need."""
from django.db.models import Aggregate, CharField


class IdList(Aggregate):
    """The ids of a group as one comma-separated string: GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, function="STRING_AGG", template="%(function)s((%(expressions)s)::text, ',')", **extra_context
        )


def parse_ids(joined):
    """The sorted ids of an IdList value."""
    return sorted(int(item) for item in joined.split(",")) if joined else []
