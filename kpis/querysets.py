from django.db import models

from tenancy.access import in_visible_companies

from .choices import ProposalStatus, Status, Visibility
from .roles import sees_internal_kpis


class KpiDefinitionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Status.ACTIVE)

    def due_for_review(self, today):
        """Definitions whose next review is due on or before `today` (retired ones are never due)."""
        return self.exclude(status=Status.RETIRED).filter(next_review_due__lte=today)

    def visible_to(self, user):
        """The definitions `user` may see: internal ones only for the internal roles."""
        if sees_internal_kpis(user):
            return self
        return self.filter(visibility=Visibility.EXEC)


class ObservationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Observations of the companies and definitions `user` may see."""
        observations = in_visible_companies(self, user)
        if sees_internal_kpis(user):
            return observations
        return observations.filter(kpi__visibility=Visibility.EXEC)


class KpiChangeProposalQuerySet(models.QuerySet):
    def open(self):
        """Proposals awaiting a decision (at most one per definition)."""
        return self.filter(status=ProposalStatus.OPEN)

    def emergency_self_approvals(self):
        """Proposals a superuser approved themselves, with the emergency reason auditors review."""
        return self.filter(status=ProposalStatus.APPROVED).exclude(emergency_reason="")
