"""Add a Prometheus integration, or test the connection to one (`prometheus add ...`, `prometheus test NAME`).

`add` records the server the KPIs' PromQL is evaluated on, with who added it and why; its bearer token, if the
server (or the proxy in front of it) wants one, is read from an environment variable, never from the command line.
`test` asks the server `vector(1)` and says what it answered, or why it could not; it exits with an error then.
"""
import os

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from connectors.choices import IntegrationKind
from connectors.models import Integration
from connectors.prometheus import PrometheusError, check_connection
from connectors.services import add_prometheus
from tenancy.services import company_named


def add_arguments(parser):
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="Add a Prometheus integration.")
    add.add_argument("--name", required=True, help="Its name, unique among Prometheus integrations.")
    add.add_argument("--url", required=True, help="The server's base URL, e.g. http://prometheus:9090.")
    add.add_argument("--company", metavar="SLUG", help="The company it serves; omit for one serving several companies.")
    add.add_argument("--token-env", metavar="VARIABLE", help="The environment variable holding its bearer token.")
    add.add_argument("--reason", required=True, help="Why it is added (kept in its history).")
    add.add_argument("--actor", metavar="USERNAME", help="The user the history records as having added it (default: system).")
    add.add_argument("--test", action="store_true", help="Test the connection once added.")
    test = actions.add_parser("test", help="Test the connection to a Prometheus integration.")
    test.add_argument("name", help="The integration's name.")


def handle(command, *, action, **options):
    if action == "add":
        integration = _add(command, **options)
        if not options["test"]:
            return
    else:
        integration = Integration.objects.filter(kind=IntegrationKind.PROMETHEUS, name=options["name"]).first()
        if integration is None:
            raise CommandError(f"No Prometheus integration is named '{options['name']}'.")
    try:
        command.stdout.write(check_connection(integration))
    except PrometheusError as error:
        raise CommandError(str(error)) from None


def _add(command, *, name, url, company, token_env, reason, actor, **options):
    token = ""
    if token_env:
        token = os.environ.get(token_env, "")
        if not token:
            raise CommandError(f"--token-env: the environment variable {token_env} is not set or empty.")
    user = None
    if actor:
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: actor}).first()
        if user is None:
            raise CommandError(f"--actor: no user named '{actor}'.")
    try:
        owner = company_named(company) if company else None
        integration = add_prometheus(name=name, url=url, company=owner, token=token, actor=user, reason=reason)
    except ValidationError as error:
        raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())) from None
    command.stdout.write(f"Added the Prometheus integration '{integration.name}' ({integration.url}), id {integration.pk}.")
    return integration
