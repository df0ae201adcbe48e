"""factory_boy factories of the project's users, and the moment every app's factories date their rows at."""
import datetime

import factory
from django.contrib.auth import get_user_model

BASE_TIME = datetime.datetime(2024, 1, 15, tzinfo=datetime.timezone.utc)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery")
    is_staff = True
