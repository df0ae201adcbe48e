"""Load every KPI of the catalogue that the registry does not have yet (existing definitions are left untouched)."""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from kpis.catalogue import load_catalogue


def add_arguments(parser):
    parser.add_argument("--actor", metavar="USERNAME", help="The user the history records as having loaded them (default: system).")


def handle(command, *, actor, **options):
    user = None
    if actor:
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: actor}).first()
        if user is None:
            raise CommandError(f"--actor: no user named '{actor}'.")
    try:
        result = load_catalogue(actor=user)
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from error
    command.stdout.write(
        f"Created {len(result.created)} definition(s); {len(result.existing)} already in the registry were left as they are."
    )
    for slug in result.created:
        command.stdout.write(f"  + {slug}")
