"""A DORA tier's thresholds proposed as the four key metrics' targets: proposals a second person approves."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kpis.models import KpiChangeProposal, KpiDefinition
from kpis.services import approve_proposal
from tests.scoring.helpers import load_catalogue


@pytest.fixture
def catalogue(db):
    load_catalogue()


def test_the_elite_tier_is_proposed_as_the_four_definitions_targets_and_applies_only_once_approved(catalogue, alice, bob):
    out = StringIO()
    call_command("kpi", "dora-targets", tier="elite", year=2024, author="alice", reason="Aim for Elite", stdout=out)

    proposals = {proposal.kpi.slug: proposal for proposal in KpiChangeProposal.objects.select_related("kpi")}
    assert set(proposals) == {"deployment-frequency", "lead-time-for-changes", "change-failure-rate", "mttr"}
    # Elite's 5 % is the catalogue's target already; High's 20 % becomes the critical threshold.
    assert proposals["change-failure-rate"].changes["critical_threshold"]["new"] == 20
    assert proposals["lead-time-for-changes"].changes["target"]["new"] == 24
    assert "Elite tier of the Google Cloud DORA, Accelerate State of DevOps Report 2024" in proposals["mttr"].reason
    assert "lead-time-for-changes: proposal #" in out.getvalue()
    # Nothing is in force before a second person approves it.
    assert KpiDefinition.objects.get(slug="lead-time-for-changes").target == 4
    approve_proposal(proposals["lead-time-for-changes"], approver=bob, comment="Agreed")
    assert KpiDefinition.objects.get(slug="lead-time-for-changes").target == 24


def test_a_second_proposal_while_one_is_open_is_refused_naming_it(catalogue, alice):
    call_command("kpi", "dora-targets", tier="high", author="alice", reason="High first", stdout=StringIO())
    err = StringIO()
    with pytest.raises(CommandError, match="not proposed"):
        call_command("kpi", "dora-targets", tier="elite", author="alice", reason="Then Elite", stdout=StringIO(), stderr=err)
    assert "deployment-frequency: not proposed" in err.getvalue()


def test_low_is_no_target_and_an_unknown_year_is_named(catalogue, alice):
    with pytest.raises(CommandError, match="invalid choice: 'low'"):
        call_command("kpi", "dora-targets", tier="low", author="alice", reason="x")
    with pytest.raises(CommandError, match="--year: No DORA report 2019"):
        call_command("kpi", "dora-targets", tier="elite", year=2019, author="alice", reason="x")
