"""
The one place KPI formulas live. `registry` maps each computed KPI's slug to its calculator and evidence;
`toolkit` is the public SQL toolkit every app's calculators are written with; `incident_kpis` holds the formulas
of the KPIs computed from incident data. Other apps register theirs from their own `calculators` module.

The nightly run, backfills, the API and scoring all go through the registry (kpis.observations writes the rows);
a KPI without a calculator is ingested or collected from Prometheus.
"""
from . import incident_kpis  # noqa: F401  (registers the incident KPIs)
from .registry import (
    CALCULATORS,
    DAY,
    DAYS_PER_STATEMENT,
    EVIDENCE,
    INCIDENT,
    ONE_DAY,
    ROLLING_WINDOW,
    ROW_COLUMNS,
    Calculator,
    Evidence,
    Period,
    RowsSQL,
    UnknownCalculator,
    calculator,
    computed_from,
    evidence,
    get_calculator,
)

__all__ = [
    "CALCULATORS", "DAY", "DAYS_PER_STATEMENT", "EVIDENCE", "INCIDENT", "ONE_DAY", "ROLLING_WINDOW", "ROW_COLUMNS",
    "Calculator", "Evidence", "Period", "RowsSQL", "UnknownCalculator", "calculator", "computed_from", "evidence",
    "get_calculator",
]
