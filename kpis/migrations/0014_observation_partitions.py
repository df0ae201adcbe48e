"""On PostgreSQL, observations are partitioned by month of observed_at (companyos.partitions); SQLite keeps a plain table."""
from django.db import migrations

from companyos.partitions import partitioning


class Migration(migrations.Migration):
    # The breaches' evidence table must no longer hold a foreign key to observations (their key becomes (id, observed_at)).
    dependencies = [
        ("kpis", "0013_methodology_daily_totals"),
        ("scoring", "0006_breach_observations_without_constraint"),
    ]

    operations = [partitioning("kpis_observation", "observed_at")]
