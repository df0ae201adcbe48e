"""
The demo's change control in motion, so each persona finds work at once: a dated target an owner proposed and the
demo approver approved (in force from the first of next month), and a proposal awaiting that approver. Made through
the same services as the admin and the API; only when no proposal exists yet, so loading again adds nothing.
"""
import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from kpis.models import KpiChangeProposal, KpiDefinition
from kpis.services import approve_proposal, submit_proposal


def _first_of_next_month(day):
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def seed_demo_governance(approver_username="msp-approver"):
    """Propose and approve MTTR's dated target, propose a higher noise-reduction target; the proposals made."""
    if KpiChangeProposal.objects.exists():
        return []
    approver = get_user_model().objects.get(username=approver_username)
    mttr = KpiDefinition.objects.select_related("owner").get(slug="mttr")
    starts = _first_of_next_month(timezone.localdate())
    scheduled = submit_proposal(
        mttr, actor=mttr.owner, reason="Resolve within 25 minutes from next month, as agreed at the ops review",
        target_schedule=[{"from": starts.isoformat(), "target": 25}],
    )
    scheduled = approve_proposal(scheduled, approver=approver, comment="Agreed: the runbooks cover the common causes now")
    noise = KpiDefinition.objects.select_related("owner").get(slug="noise-reduction")
    pending = submit_proposal(noise, actor=noise.owner, reason="Correlation is tuned: raise the bar to 45 %", target=45)
    return [scheduled, pending]
