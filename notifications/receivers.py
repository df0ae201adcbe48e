"""
From each announcement (companyos.events, and reports.signals.report_ready when the reports app is installed) to
one recorded Event: its key (what makes it one event), who it concerns, whether it is internal, its words and link.
Connected in NotificationsConfig.ready.
"""
from django.urls import NoReverseMatch, reverse

from kpis.choices import ProposalStatus, Visibility

from .choices import EventKind
from .services import record_event


def _internal(kpi):
    return kpi.visibility == Visibility.INTERNAL


def _scope(breach):
    return breach.service or breach.domain or breach.company


def _breach_data(breach):
    return {
        "breach": breach.pk,
        "company": breach.company.slug,
        "domain": breach.domain.slug if breach.domain else None,
        "service": breach.service.slug if breach.service else None,
        "started_at": breach.started_at.isoformat(),
        "opened_at": breach.opened_at.isoformat(),
        "closed_at": breach.closed_at.isoformat() if breach.closed_at else None,
        "critical_threshold": breach.critical_threshold,
        "worst_value": breach.worst_value,
        "current_value": breach.current_value,
    }


def _breach_event(kind, breach, title, text):
    """Record the event `kind` of `breach`: its KPI's page as the link, its owner concerned."""
    kpi = breach.kpi
    record_event(
        kind, f"{kind}:{breach.pk}", title=title, text=text,
        link=f"{reverse('cockpit:kpi', args=[kpi.slug])}?company={breach.company.slug}",
        company=breach.company, kpi=kpi, internal=_internal(kpi), concerns=[kpi.owner_id], data=_breach_data(breach),
    )


def breach_opened(sender, breach, **kwargs):
    kpi = breach.kpi
    _breach_event(
        EventKind.BREACH_OPENED, breach,
        title=f"KPI breach: {kpi.name} beyond its critical threshold in {_scope(breach)}",
        text=(
            f"{kpi.name} ({kpi.slug}) has been beyond its critical threshold {breach.critical_threshold} since "
            f"{breach.started_at:%Y-%m-%d %H:%M} UTC (worst value {breach.worst_value})."
        ),
    )


def breach_closed(sender, breach, **kwargs):
    kpi = breach.kpi
    _breach_event(
        EventKind.BREACH_CLOSED, breach,
        title=f"Breach closed: {kpi.name} back within its critical threshold in {_scope(breach)}",
        text=(
            f"{kpi.name} ({kpi.slug}) is back within its critical threshold {breach.critical_threshold} since "
            f"{breach.closed_at:%Y-%m-%d %H:%M} UTC (value {breach.current_value}, worst {breach.worst_value})."
        ),
    )


def _proposal_event(kind, proposal):
    """The words of a definition's or the weights' proposal event; the admin page where it is decided."""
    kpi = getattr(proposal, "kpi", None)
    label = f"the KPI {kpi.slug}" if kpi else "the dimension weights"
    prefix = "kpi" if kpi else "weights"
    changes = ", ".join(f"{name} {change['old']!r} -> {change['new']!r}" for name, change in sorted(proposal.changes.items()))
    admin_page = f"admin:{proposal._meta.app_label}_{proposal._meta.model_name}_change"
    data = {"proposal": proposal.pk, "of": prefix, "author": proposal.author.get_username(), "reason": proposal.reason,
            "changes": proposal.changes, "status": proposal.status}
    if kind == EventKind.PROPOSAL_SUBMITTED:
        title = f"Proposal #{proposal.pk} to change {label} awaits approval"
        text = f"{proposal.author.get_username()} proposes {changes} ({proposal.reason})."
    else:
        decided = "approved" if proposal.status == ProposalStatus.APPROVED else "rejected"
        title = f"Proposal #{proposal.pk} to change {label} was {decided}"
        text = f"{proposal.decided_by.get_username()} {decided} {changes}: {proposal.decision_comment}"
        data.update(decided_by=proposal.decided_by.get_username(), comment=proposal.decision_comment)
    record_event(
        kind, f"{kind}:{prefix}:{proposal.pk}", title=title, text=text, link=reverse(admin_page, args=[proposal.pk]),
        kpi=kpi, internal=bool(kpi) and _internal(kpi), concerns=[proposal.author_id, kpi.owner_id if kpi else None],
        data=data,
    )


def proposal_submitted(sender, proposal, **kwargs):
    _proposal_event(EventKind.PROPOSAL_SUBMITTED, proposal)


def proposal_decided(sender, proposal, **kwargs):
    _proposal_event(EventKind.PROPOSAL_DECIDED, proposal)


def review_overdue(sender, owner, definitions, day, **kwargs):
    slugs = [kpi.slug for kpi in definitions]
    record_event(
        EventKind.REVIEW_OVERDUE, f"review.overdue:{owner.pk}:{day.isoformat()}",
        title=f"{len(slugs)} KPI definition{'s' if len(slugs) != 1 else ''} you own due for review",
        text="\n".join(f"- {kpi.slug} ({kpi.name}): review was due on {kpi.next_review_due:%Y-%m-%d}" for kpi in definitions),
        link=reverse("cockpit:reviews"), internal=any(_internal(kpi) for kpi in definitions), concerns=[owner.pk],
        data={"owner": owner.get_username(), "day": day.isoformat(), "definitions": slugs},
    )


def nightly_run_failed(sender, task_id, arguments, error, **kwargs):
    shown = ", ".join(f"{name}={value}" for name, value in arguments.items())
    record_event(
        EventKind.NIGHTLY_RUN_FAILED, f"nightly.failed:{task_id}",
        title=f"The nightly run failed: {sender.name}",
        text=f"{sender.name}({shown}) failed after its retries: {error}",
        internal=True, data={"task": sender.name, "task_id": task_id, "arguments": arguments, "error": error},
    )


def report_ready(sender, report, **kwargs):
    """A stored report (reports.signals.report_ready); internal unless it is the executives' one."""
    audience = getattr(report, "audience", "exec")
    try:
        link = reverse("reports:html", args=[report.pk])
    except NoReverseMatch:
        link = ""
    record_event(
        EventKind.REPORT_READY, f"report.ready:{report.pk}",
        title=f"Report ready: {report}", text=f"The {report} is ready.", link=link, company=report.company,
        internal=audience != Visibility.EXEC,
        data={"report": report.pk, "company": report.company.slug, "audience": audience,
              "period_start": str(report.period_start), "period_end": str(report.period_end)},
    )
