"""Observations are partitioned by month of observed_at on PostgreSQL (companyos.partitions)."""
from companyos.partitions import MonthPartitions

from .models import Observation

OBSERVATION_MONTHS = MonthPartitions(Observation._meta.db_table, "observed_at")
