"""Four eyes on the dimension weights: a change is a proposal, in force only once another person approves it."""
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from kpis import roles
from kpis.choices import ProposalStatus
from scoring.models import DimensionWeights, DimensionWeightsProposal, ScoreSnapshot
from scoring.services import compute_snapshots
from scoring.versions import weights_in_force
from scoring.weights import approve_weights_proposal, propose_weights, reject_weights_proposal
from tests.helpers import member_of, stored
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db

PROPOSALS = "/admin/scoring/dimensionweightsproposal/"
WEIGHTS_FORM = "/admin/scoring/dimensionweights/1/change/"
SEED = {"reliability": 25, "security": 25, "product_adoption": 20, "financials": 15, "efficiency": 15}


@pytest.fixture
def bob(db):
    """A KPI approver."""
    return member_of(roles.KPI_APPROVERS, "bob", email="bob@example.com")


def weights_now():
    return DimensionWeights.objects.get().as_dict()


def test_a_weights_change_in_the_admin_is_a_proposal_that_changes_nothing_until_another_person_approves(client, superuser, bob):
    client.force_login(superuser)
    form = {**SEED, "reliability": 30, "security": 20, "change_reason": "Reliability first"}
    response = client.post(WEIGHTS_FORM, form, follow=True)
    proposal = DimensionWeightsProposal.objects.get()
    page = response.content.decode()
    assert f"is weights proposal #{proposal.pk}: the weights in force stay as they are" in page
    assert "<strong>reliability</strong>: 25.00 &rarr; 30.00" in page
    assert weights_now() == SEED and weights_in_force(timezone.now())[1] == SEED

    # The author may not approve it, not even as a superuser.
    decision = {"action": "approve", ACTION_CHECKBOX_NAME: [proposal.pk], "apply": "1", "comment": "Fine by me"}
    response = client.post(PROPOSALS, decision, follow=True)
    assert f"Weights proposal #{proposal.pk} is your own; another KPI approver must approve it." in response.content.decode()
    assert weights_now() == SEED

    client.force_login(bob)
    response = client.post(PROPOSALS, decision, follow=True)
    assert f"Approved weights proposal #{proposal.pk}." in response.content.decode()
    assert weights_now() == {**SEED, "reliability": 30, "security": 20}
    latest = DimensionWeights.history.latest()
    assert latest.history_user == bob
    assert latest.history_change_reason == (
        f"Weights proposal #{proposal.pk} by admin (Reliability first), approved by bob: Fine by me"
    )
    assert stored(proposal).applied_history_id == latest.history_id


def test_a_day_is_scored_with_the_weights_approved_by_its_end(superuser, bob):
    company = CompanyFactory(slug="comp-acme")
    latency = KpiDefinitionFactory(slug="latency", target=30, critical_threshold=60)
    nrr = KpiDefinitionFactory(slug="nrr", dimension="financials", direction="higher", target=110, critical_threshold=90)
    today = timezone.now().date()
    ObservationFactory(kpi=latency, company=company, observed_at=timezone.now(), value=30)  # scores 100
    ObservationFactory(kpi=nrr, company=company, observed_at=timezone.now(), value=90)  # scores 0
    proposal = propose_weights(actor=superuser, reason="Money matters", reliability=10, financials=30)
    compute_snapshots(today)
    assert ScoreSnapshot.objects.get(level="company").composite == pytest.approx(100 * 25 / 40)
    approve_weights_proposal(proposal, approver=bob, comment="Agreed")
    compute_snapshots(today)
    assert ScoreSnapshot.objects.get(level="company").composite == pytest.approx(100 * 10 / 40)


@pytest.mark.parametrize("value", [1e308, "1e308", float("inf"), float("nan"), -1, "12.345", "lots"])
def test_a_weight_that_is_not_a_finite_percent_is_refused_naming_the_field(superuser, value):
    with pytest.raises(ValidationError) as refused:
        propose_weights(actor=superuser, reason="Typo", reliability=value)
    assert list(refused.value.message_dict) == ["reliability"]
    assert refused.value.message_dict["reliability"][0].startswith("reliability: ")
    assert not DimensionWeightsProposal.objects.exists()
    # The day's snapshots are computed as ever.
    compute_snapshots(datetime.date(2024, 1, 15))


def test_the_admin_refuses_1e308_at_the_field_and_a_set_that_does_not_add_up(client, superuser):
    client.force_login(superuser)
    response = client.post(WEIGHTS_FORM, {**SEED, "reliability": "1e308", "change_reason": "Typo"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reliability"]
    response = client.post(WEIGHTS_FORM, {**SEED, "reliability": 30, "change_reason": "Too much"})
    assert "add up to 100" in response.content.decode()
    assert not DimensionWeightsProposal.objects.exists()


def test_weights_that_do_not_add_up_to_100_are_refused_naming_each_weight(superuser):
    with pytest.raises(ValidationError, match="reliability 30 \\+ security 25 \\+ .* = 105"):
        propose_weights(actor=superuser, reason="More reliability", reliability=30)


def test_a_proposal_needs_an_author_a_reason_and_a_change_and_an_unknown_dimension_is_named(superuser):
    with pytest.raises(ValidationError, match="reason"):
        propose_weights(actor=superuser, reason=" ", reliability=30, security=20)
    with pytest.raises(ValidationError, match="needs an author"):
        propose_weights(actor=None, reason="x", reliability=30, security=20)
    with pytest.raises(ValidationError, match="Nothing to propose"):
        propose_weights(actor=superuser, reason="x", reliability=25)
    with pytest.raises(ValidationError, match="'happiness' is not a dimension"):
        propose_weights(actor=superuser, reason="x", happiness=10)


def test_a_second_open_proposal_is_refused_naming_the_first_and_a_rejection_changes_nothing(
    superuser, bob, django_capture_on_commit_callbacks
):
    first = propose_weights(actor=superuser, reason="Reliability first", reliability=30, security=20)
    with pytest.raises(ValidationError, match=f"Weights proposal #{first.pk} by admin \\(Reliability first\\) is open"):
        propose_weights(actor=bob, reason="Other idea", efficiency=10, financials=20)
    with pytest.raises(PermissionDenied):
        reject_weights_proposal(first, approver=member_of(roles.KPI_OWNERS, "olivia"), comment="No")
    with django_capture_on_commit_callbacks(execute=True):
        reject_weights_proposal(first, approver=bob, comment="Not this quarter")
    assert stored(first).status == ProposalStatus.REJECTED and weights_now() == SEED
    assert [(message.subject, message.to) for message in mail.outbox] == [
        (f"Dimension weights: proposal #{first.pk} rejected", ["admin@example.com"])
    ]
    with pytest.raises(ValidationError, match="already rejected by bob"):
        approve_weights_proposal(first, approver=bob, comment="Changed my mind")


def test_the_audit_export_lists_the_weight_change_with_who_when_and_why(superuser, bob):
    proposal = propose_weights(actor=superuser, reason="Reliability first", reliability=30, security=20)
    approve_weights_proposal(proposal, approver=bob, comment="Agreed in the QBR")
    out = io.StringIO()
    call_command("kpi", "audit-export", "--since", timezone.now().date().isoformat(), "--format", "csv", stdout=out)
    rows = [row for row in csv.DictReader(io.StringIO(out.getvalue())) if row["slug"] == "dimension weights"]
    approval = stored(proposal)
    columns = ["change_type", "user", "reason", "field", "old", "new", "proposal"]
    summary = [tuple(row[column] for column in columns) for row in rows]
    applied = f"Weights proposal #{proposal.pk} by admin (Reliability first), approved by bob: Agreed in the QBR"
    number = str(proposal.pk)
    assert summary[-6:] == [
        ("proposed", "admin", "Reliability first", "reliability", "25.00", "30.00", number),
        ("proposed", "admin", "Reliability first", "security", "25.00", "20.00", number),
        ("changed", "bob", applied, "reliability", "25.00", "30.00", number),
        ("changed", "bob", applied, "security", "25.00", "20.00", number),
        ("approved", "bob", "Agreed in the QBR", "reliability", "25.00", "30.00", number),
        ("approved", "bob", "Agreed in the QBR", "security", "25.00", "20.00", number),
    ]
    assert rows[-1]["when"] == approval.decided_at.isoformat()
    assert Decimal(rows[-1]["version"]) == DimensionWeights.history.count()
