"""
Guessing is slowed: wrong passwords lock a username out of the cockpit's and the admin's login (django-axes), and
API callers are throttled, bad tokens included, with a 429 in the API's error shape.
"""
import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.companyos.factories import UserFactory
from tests.helpers import client_for

PASSWORD = "correct horse battery staple"


@pytest.fixture
def executive(db):
    return UserFactory(username="erin", password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def empty_cache():
    """Throttle counts live in the cache; each test starts and leaves it empty."""
    cache.clear()
    yield
    cache.clear()


def rates(**scopes):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": scopes})


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_after_repeated_wrong_passwords_even_the_right_one_is_refused(client, executive, login_url):
    for _ in range(30):
        wrong = client.post(login_url, {"username": "erin", "password": "guess"})
        assert wrong.status_code in (200, 429)

    response = client.post(login_url, {"username": "erin", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_comes_at_the_configured_limit_and_spares_other_addresses(client, executive):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/accounts/login/", {"username": "erin", "password": "guess"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "erin", "password": "guess"}).status_code == 429

    elsewhere = client.post("/accounts/login/", {"username": "erin", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")

    assert elsewhere.status_code == 302 and elsewhere.url == "/cockpit/"


def test_a_right_password_before_the_limit_logs_in_and_resets_the_count(client, executive):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/login/", {"username": "erin", "password": "guess"})
    assert client.post("/accounts/login/", {"username": "erin", "password": PASSWORD}).status_code == 302
    client.logout()

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/accounts/login/", {"username": "erin", "password": "guess"}).status_code == 200


def test_a_token_caller_past_its_rate_gets_a_429_in_the_error_shape(executive, empty_cache):
    api = client_for(executive)
    with rates(user="3/minute", failed_token="10/minute"):
        assert [api.get("/api/kpis/").status_code for _ in range(3)] == [200, 200, 200]
        response = api.get("/api/kpis/")

    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (429, "throttled")
    assert error["message"].startswith("Request was throttled.")
    assert int(response["Retry-After"]) > 0


def test_bad_tokens_are_slowed_and_then_even_a_good_token_from_that_address_waits(executive, empty_cache):
    good = Token.objects.create(user=executive).key
    guesser = APIClient()
    with rates(user="100/minute", failed_token="3/minute"):
        statuses = [
            guesser.get("/api/kpis/", HTTP_AUTHORIZATION=f"Token {'0' * 39}{n}").status_code for n in range(4)
        ]
        good_from_there = guesser.get("/api/kpis/", HTTP_AUTHORIZATION=f"Token {good}")
        good_elsewhere = guesser.get("/api/kpis/", HTTP_AUTHORIZATION=f"Token {good}", REMOTE_ADDR="192.0.2.7")

    assert statuses == [401, 401, 401, 429]
    assert good_from_there.status_code == 429 and good_from_there.json()["error"]["code"] == "throttled"
    assert good_elsewhere.status_code == 200


def test_behind_a_trusted_proxy_clients_are_told_apart_by_the_address_it_forwarded(executive, empty_cache):
    guesser = APIClient()
    with rates(user="100/minute", failed_token="1/minute"), override_settings(TRUSTED_PROXY_COUNT=1):
        first = guesser.get("/api/kpis/", HTTP_AUTHORIZATION="Token bad", HTTP_X_FORWARDED_FOR="198.51.100.1")
        again = guesser.get("/api/kpis/", HTTP_AUTHORIZATION="Token bad", HTTP_X_FORWARDED_FOR="198.51.100.1")
        # A client's own X-Forwarded-For entry is further left than the proxy's, and not trusted.
        spoofed = guesser.get("/api/kpis/", HTTP_AUTHORIZATION="Token bad", HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.1")
        other = guesser.get("/api/kpis/", HTTP_AUTHORIZATION="Token bad", HTTP_X_FORWARDED_FOR="198.51.100.2")

    assert [first.status_code, again.status_code, spoofed.status_code, other.status_code] == [401, 429, 429, 401]


def test_without_a_trusted_proxy_a_forwarded_address_changes_nothing(executive, empty_cache):
    guesser = APIClient()
    with rates(user="100/minute", failed_token="1/minute"):
        first = guesser.get("/api/kpis/", HTTP_AUTHORIZATION="Token bad", HTTP_X_FORWARDED_FOR="198.51.100.1")
        other = guesser.get("/api/kpis/", HTTP_AUTHORIZATION="Token bad", HTTP_X_FORWARDED_FOR="198.51.100.2")

    assert [first.status_code, other.status_code] == [401, 429]
