"""Export the definitions' SLOs as OpenSLO v1 YAML, or import OpenSLO SLOs through change control (kpis.openslo)."""
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from kpis import openslo
from kpis.models import KpiDefinition
from kpis.permissions import may_change_definition
from kpis.roles import KPI_OWNERS, group_names


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="Write the SLOs of the definitions that have one.")
    export.add_argument("--kpi", action="append", metavar="SLUG", help="Only this definition (repeatable).")
    export.add_argument("--output", "-o", metavar="PATH", help="File to write; default standard output.")
    bring_in = actions.add_parser(
        "import", help="Bring SLOs in: changes of an existing definition are proposals, new ones drafts."
    )
    bring_in.add_argument("file", metavar="PATH", help="An OpenSLO v1 YAML file of one or more kind: SLO documents.")
    bring_in.add_argument("--user", required=True, help="The KPI owner making the change (the proposals' author).")
    bring_in.add_argument("--reason", required=True, help="Why; recorded in the history and on the proposals.")


def handle(command, *, action, **options):
    if action == "export":
        _export(command, **options)
    else:
        _import(command, **options)


def _export(command, *, kpi, output, **options):
    definitions = KpiDefinition.objects.all()
    if kpi:
        unknown = sorted(set(kpi) - set(definitions.filter(slug__in=kpi).values_list("slug", flat=True)))
        if unknown:
            raise CommandError(f"--kpi: no definition has the slug {', '.join(repr(slug) for slug in unknown)}.")
        definitions = definitions.filter(slug__in=kpi)
    text = openslo.export_slos(definitions)
    if output:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(text)
        command.stderr.write(f"Wrote {text.count('kind: SLO')} SLO(s) to {output}.")
    else:
        command.stdout.write(text)


def _import(command, *, file, user, reason, **options):
    actor = get_user_model().objects.filter(username=user).first()
    if actor is None:
        raise CommandError(f"--user: no user is named '{user}'.")
    if not (actor.is_superuser or KPI_OWNERS in group_names(actor)):
        raise CommandError(f"--user: '{user}' is not a KPI owner; only KPI owners import SLOs.")
    try:
        with open(file, encoding="utf-8") as stream:
            text = stream.read()
    except OSError as error:
        raise CommandError(f"{file}: {error.strerror}.") from None
    try:
        outcomes = openslo.import_slos(text, actor=actor, reason=reason, may_change=lambda kpi: may_change_definition(actor, kpi))
    except PermissionDenied as refused:
        raise CommandError(str(refused)) from None
    except ValidationError as refused:
        raise CommandError(_described(refused)) from None
    for outcome in outcomes:
        proposal = f" (proposal #{outcome.proposal_id}, awaiting a KPI approver)" if outcome.proposal_id else ""
        command.stdout.write(f"{outcome.slug}: {outcome.action}{proposal}")


def _described(error):
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)
