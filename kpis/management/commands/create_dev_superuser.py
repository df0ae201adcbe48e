"""Create a development superuser, only when the database has none, and print its login once; never with DEBUG off."""
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEFAULT_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Create the superuser 'admin' for local development if no superuser exists. The password comes from "
        "DEV_SUPERUSER_PASSWORD, or is generated and printed once. Refused with DEBUG off (production): use createsuperuser."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEFAULT_USERNAME)

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            # A known or printed password has no place on a production database (or in its logs).
            raise CommandError(
                "create_dev_superuser is for development (DEBUG on, companyos.settings.local); "
                "in production run `manage.py createsuperuser`."
            )
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("A superuser exists already; none was created.")
            return
        given_password = os.environ.get("DEV_SUPERUSER_PASSWORD")
        password = given_password or secrets.token_urlsafe(12)
        users.create_superuser(username=username, email=f"{username}@localhost", password=password)
        shown = "the password in DEV_SUPERUSER_PASSWORD" if given_password else f"the password {password} (shown only this once)"
        self.stdout.write(self.style.SUCCESS(f"Created the development superuser '{username}' with {shown}."))
