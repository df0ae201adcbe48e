"""Read rules of the findings: when a vulnerability's remediation is due, what was open when."""
import datetime

from django.db import models
from django.db.models import Case, DateTimeField, F, Q, When

from .choices import SLA_DAYS


def remediation_due_at():
    """A vulnerability's deadline: its first_seen_at plus the SLA days of its severity (choices.SLA_DAYS)."""
    return Case(
        *(When(severity=severity, then=F("first_seen_at") + datetime.timedelta(days=days)) for severity, days in SLA_DAYS.items()),
        output_field=DateTimeField(),
    )


class VulnerabilityQuerySet(models.QuerySet):
    def open_during(self, start, end):
        """Open at some moment of [start, end): reported before `end` and not fixed by `start`."""
        return self.filter(Q(fixed_at__isnull=True) | Q(fixed_at__gt=start), first_seen_at__lt=end)

    def of_company(self, company_id):
        """Those of one company's services; all of them for None."""
        return self if company_id is None else self.filter(service__domain__company_id=company_id)


class SecretFindingQuerySet(models.QuerySet):
    def open_during(self, start, end):
        """Open at some moment of [start, end): detected before `end` and not resolved by `start`."""
        return self.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=start), detected_at__lt=end)

    def of_company(self, company_id):
        return self if company_id is None else self.filter(service__domain__company_id=company_id)
