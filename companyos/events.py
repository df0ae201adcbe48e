"""
Every event the portal announces, in one place: the apps that make them happen send these signals (always after
their transaction commits, through `announce`), and the layers above receive them (notifications delivers them
to e-mail, chat and webhooks). A lower app never imports the apps that listen.

Each signal's keyword arguments are listed with it; receivers take `**kwargs` so that an argument added later
breaks none of them.
"""
import datetime
import logging
from functools import partial

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

breach_opened = Signal()
"""A KPI's value has stayed beyond its critical threshold for its breach_after. sender=Breach, breach=the Breach."""

breach_closed = Signal()
"""An open breach's KPI came back within its threshold. sender=Breach, breach=the Breach (closed_at set)."""

proposal_submitted = Signal()
"""
A change awaits a KPI approver's decision (four-eyes). sender=KpiChangeProposal (a definition's change,
proposal.kpi) or DimensionWeightsProposal (the dimension weights); proposal=the open proposal.
"""

proposal_decided = Signal()
"""A proposal was approved or rejected. sender and proposal as for proposal_submitted; proposal.status says which."""

review_overdue = Signal()
"""
An owner's definitions are due for review (the daily reminder, at most once per owner and day).
sender=KpiDefinition, owner=the User, definitions=list of KpiDefinition, day=datetime.date.
"""

nightly_run_failed = Signal()
"""
A task of the nightly run failed for good (its retries used up). sender=the Celery task, task_id=str,
arguments=dict of the task's keyword and positional arguments by name, error=str.
"""


incident_data_changed = Signal()
"""
Alerts or incidents of a company were stored or changed (ingested, correlated, merged, resolved) whose times fall on
`days`: the stored daily totals of those days are out of date. sender=Alert or Incident, company_id=int,
days=set of datetime.date (UTC).
"""


def utc_days(moments):
    """The UTC dates of `moments` (aware datetimes; None skipped), as incident_data_changed's `days`."""
    return {moment.astimezone(datetime.timezone.utc).date() for moment in moments if moment is not None}


def announce(signal, sender, **kwargs):
    """
    Send `signal` once the current transaction commits (at once outside one), so a rolled-back write announces
    nothing. A receiver's failure is logged and never undoes or breaks the write that caused the event.
    """
    transaction.on_commit(partial(_send, signal, sender, kwargs))


def _send(signal, sender, kwargs):
    for receiver, outcome in signal.send_robust(sender=sender, **kwargs):
        if isinstance(outcome, Exception):
            logger.error("Receiver %r of %s failed: %r", receiver, sender, outcome, exc_info=outcome)
