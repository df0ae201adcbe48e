"""
Propose a DORA tier's thresholds as the targets of the four key metrics' definitions (four-eyes: a KPI approver other
than the author approves each proposal; nothing is applied here).

The target is the tier's bound in the chosen State of DevOps report, the critical threshold the next worse tier's
(delivery.dora.tier_targets): e.g. `kpi dora-targets --tier elite --author alice --reason "Aim for Elite"`.
"""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from delivery.dora import ELITE, HIGH, MEDIUM, propose_tier_targets


def add_arguments(parser):
    parser.add_argument("--tier", required=True, choices=[ELITE, HIGH, MEDIUM])
    parser.add_argument("--year", type=int, help="The report: 2023 or 2024 (default: the DORA_REPORT_YEAR setting).")
    parser.add_argument("--author", required=True, metavar="USERNAME", help="Who proposes the targets.")
    parser.add_argument("--reason", required=True, help="Why, recorded with each proposal.")


def handle(command, *, tier, year, author, reason, **options):
    user_model = get_user_model()
    user = user_model.objects.filter(**{user_model.USERNAME_FIELD: author}).first()
    if user is None:
        raise CommandError(f"--author: no user named '{author}'.")
    try:
        outcomes = propose_tier_targets(tier, actor=user, reason=reason, year=year)
    except ValidationError as refused:
        raise CommandError("; ".join(f"--{field}: {' '.join(messages)}" for field, messages in refused.message_dict.items()))
    refused_any = False
    for slug, outcome in outcomes:
        if isinstance(outcome, ValidationError):
            refused_any = True
            command.stderr.write(f"{slug}: not proposed: {' '.join(outcome.messages)}")
        elif outcome.proposal is not None:
            changes = ", ".join(f"{name} {change['old']} -> {change['new']}" for name, change in outcome.proposal.changes.items())
            command.stdout.write(f"{slug}: proposal #{outcome.proposal.pk} awaits approval ({changes})")
        else:
            command.stdout.write(f"{slug}: already at these thresholds, nothing proposed")
    if refused_any:
        raise CommandError("Some definitions were not proposed (above).")
