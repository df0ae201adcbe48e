"""Small helpers the test modules share (fixtures live in conftest.py)."""
import os
import subprocess
import sys

from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.workers import PROJECT_DIR


def member_of(group_name, username=None, **user_fields):
    """A new user in the group `group_name` (created if the migrations did not)."""
    if username is not None:
        user_fields["username"] = username
    user = UserFactory(**user_fields)
    user.groups.add(Group.objects.get_or_create(name=group_name)[0])
    return user


def client_for(user):
    """An API client that authenticates with the user's token, as a frontend or data source does."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def stored(instance):
    """`instance` as the database has it now."""
    return type(instance).objects.get(pk=instance.pk)



def sqlite_manage(tmp_path, *, timeout=300):
    """
    A `manage(*args)` that runs manage.py as `make run` does (SQLite in `tmp_path`, eager Celery) and returns its
    output, failing the test with the command's stderr when it fails.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companyos.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "",
    }

    def manage(*args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    return manage
