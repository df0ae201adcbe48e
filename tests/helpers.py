"""Small helpers the test modules share (fixtures live in conftest.py)."""
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory


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
