"""Medians: PostgreSQL's PERCENTILE_CONT and the portable ranking (SQLite's path) give the same values."""
from django.db import connection

from kpis.calculators.toolkit import median_sql, ranked_median_sql
from kpis.calculators.registry import RowsSQL

VALUES = RowsSQL(
    "SELECT * FROM (VALUES ('a', 1.0), ('a', 10.0), ('a', 2.0), ('a', 3.0), ('b', 7.0), ('b', NULL), ('c', NULL)) AS listed (part, minutes)",
    [],
)


def medians(builder, **groups):
    sql, params = builder(VALUES, value="minutes", **groups)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def test_both_paths_give_the_mean_of_the_middle_values_per_group_and_leave_nulls_out(db):
    assert connection.vendor == "postgresql"
    assert medians(median_sql, groups=["part"]) == medians(ranked_median_sql, groups=["part"]) == [("a", 2.5), ("b", 7.0)]
    assert medians(median_sql) == medians(ranked_median_sql) == [(3.0,)]
