"""The demo gives every catalogue definition an owner of its role, so the demo's breaches reach someone."""
import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from demo.owners import assign_demo_owners
from kpis.models import KpiDefinition
from scoring.breaches import evaluate_breaches
from tests.kpis.factories import ObservationFactory
from tests.tenancy.factories import ServiceFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime.datetime(2024, 1, 15, 10, tzinfo=datetime.timezone.utc)


def test_a_breach_of_a_demo_catalogue_kpi_mails_the_demo_owner_of_its_role(django_capture_on_commit_callbacks):
    call_command("kpi", "load-catalogue", stdout=io.StringIO())
    service = ServiceFactory(domain__company__slug="comp-acme")
    owners = assign_demo_owners(["comp-acme"])
    assert "ciso-owner" in owners and "vp-engineering-owner" in owners
    assert not KpiDefinition.objects.filter(owner__isnull=True).exists()
    ciso = KpiDefinition.objects.get(slug="secret-scan-violations").owner
    assert set(ciso.groups.values_list("name", flat=True)) == {"KPI owners", "CISO"}
    assert list(ciso.memberships.values_list("company__slug", flat=True)) == ["comp-acme"]

    ObservationFactory(
        kpi=KpiDefinition.objects.get(slug="secret-scan-violations"), company=service.domain.company,
        domain=service.domain, service=service, observed_at=MOMENT, value=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_breaches(MOMENT.date(), company=service.domain.company)
    assert [message.to for message in mail.outbox] == [["ciso-owner@example.com"]]


def test_assigning_the_demo_owners_again_changes_nothing():
    call_command("kpi", "load-catalogue", stdout=io.StringIO())
    assign_demo_owners([])
    versions = KpiDefinition.history.count()
    assign_demo_owners([])
    assert KpiDefinition.history.count() == versions
