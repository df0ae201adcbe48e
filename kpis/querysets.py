from django.db import models

from .choices import Status, Visibility


class KpiDefinitionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Status.ACTIVE)

    def due_for_review(self, today):
        """Definitions whose next review is due on or before `today` (retired ones are never due)."""
        return self.exclude(status=Status.RETIRED).filter(next_review_due__lte=today)

    def visible_to_exec(self):
        return self.filter(visibility=Visibility.EXEC)
