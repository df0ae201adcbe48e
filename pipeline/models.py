"""The nightly run's own bookkeeping: which of a day's chunks are still pending."""
from django.db import models


class NightlyChunk(models.Model):
    """
    One independent piece of the nightly run of a day: the observations of one KPI on that day.

    The run marks every chunk pending, workers compute them in parallel, and each marks its chunk done;
    the day is scored once no chunk is pending. A re-run marks them pending again.
    """

    day = models.DateField()
    kpi_slug = models.CharField(max_length=64)
    done_at = models.DateTimeField(null=True, blank=True, help_text="Empty while the chunk is pending.")

    class Meta:
        db_table = "kpis_nightlychunk"  # kept from when the pipeline lived in kpis
        ordering = ["day", "kpi_slug"]
        constraints = [
            models.UniqueConstraint(fields=["day", "kpi_slug"], name="kpis_nightlychunk_unique_day_kpi"),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.kpi_slug} ({'done' if self.done_at else 'pending'})"
