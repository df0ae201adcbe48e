"""The registry's audit export lists proposals, approvals, rejections and emergency self-approvals."""
import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from kpis import roles, services
from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_proposals(superuser):
    """mttr: alice's target proposal approved by bob, her threshold proposal rejected, then an emergency self-approval."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    alice.groups.add(Group.objects.get(name=roles.KPI_OWNERS))
    bob.groups.add(Group.objects.get(name=roles.KPI_APPROVERS))
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=alice)
    approved = services.propose_change(kpi, actor=alice, reason="Tighter goal", target=25).proposal
    services.approve_proposal(approved, approver=bob, comment="Agreed")
    rejected = services.propose_change(kpi, actor=alice, reason="Looser threshold", critical_threshold=90).proposal
    services.reject_proposal(rejected, approver=bob, comment="Not without data")
    emergency = services.propose_change(kpi, actor=superuser, reason="Stop paging", critical_threshold=80).proposal
    services.approve_proposal(emergency, approver=superuser, comment="Urgent", emergency_reason="Pager storm")
    return approved, rejected, emergency


def export(format):
    out = io.StringIO()
    call_command("kpi", "audit-export", "--since", "2000-01-01", "--format", format, stdout=out)
    return out.getvalue()


def test_the_audit_export_lists_each_proposal_and_its_decision(decided_proposals):
    approved, rejected, emergency = decided_proposals
    events = [
        (entry["change_type"], entry["user"], entry["proposal"], entry["version"], entry["reason"])
        for entry in json.loads(export("json"))
        if entry["slug"] == "mttr"  # not the weights' first version, which the migrations wrote
    ]
    assert events == [
        ("created", "system", None, 1, "Created by a test factory"),
        ("proposed", "alice", approved.pk, None, "Tighter goal"),
        ("changed", "bob", approved.pk, 2, f"Proposal #{approved.pk} by alice (Tighter goal), approved by bob: Agreed"),
        ("approved", "bob", approved.pk, 2, "Agreed"),
        ("proposed", "alice", rejected.pk, None, "Looser threshold"),
        ("rejected", "bob", rejected.pk, None, "Not without data"),
        ("proposed", "admin", emergency.pk, None, "Stop paging"),
        (
            "changed", "admin", emergency.pk, 3,
            f"Proposal #{emergency.pk} by admin (Stop paging), self-approved by admin in an emergency (Pager storm): Urgent",
        ),
        ("emergency self-approval", "admin", emergency.pk, 3, "Emergency: Pager storm. Urgent"),
    ]


def test_the_csv_audit_export_names_the_proposal_and_its_field_changes(decided_proposals):
    _, rejected, _ = decided_proposals
    rows = [row for row in csv.DictReader(io.StringIO(export("csv"))) if row["change_type"] == "rejected"]
    assert [(row["field"], row["old"], row["new"], row["proposal"]) for row in rows] == [
        ("critical_threshold", "60.0", "90.0", str(rejected.pk))
    ]
