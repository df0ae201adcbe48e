"""
The demo gives every catalogue definition an owner of its role, so the demo's breaches reach someone, and puts
change control in motion: a proposal approved and one awaiting the demo approver.
"""
import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from demo.owners import assign_demo_owners
from kpis.models import KpiChangeProposal, KpiDefinition
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


def test_the_demo_has_an_approved_dated_target_and_a_proposal_awaiting_the_demo_approver(scored_demo):
    approved, pending = KpiChangeProposal.objects.order_by("pk")
    assert (approved.kpi.slug, approved.status, approved.author.username, approved.decided_by.username) == (
        "mttr", "approved", "ops-leader-owner", "msp-approver"
    )
    assert KpiDefinition.objects.get(slug="mttr").target_schedule == approved.changes["target_schedule"]["new"]
    assert (pending.kpi.slug, pending.status, pending.changes["target"]) == ("noise-reduction", "open", {"old": 40.0, "new": 45})
    call_command("load_demo", companies=1, days=3, incidents=90, alerts=900, stdout=io.StringIO())
    assert KpiChangeProposal.objects.count() == 2
