"""Alerts are partitioned by month of issued_at on PostgreSQL (companyos.partitions)."""
from companyos.partitions import MonthPartitions

from .models import Alert

ALERT_MONTHS = MonthPartitions(Alert._meta.db_table, "issued_at")
