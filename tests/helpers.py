"""Small helpers the test modules of several apps share (fixtures live in conftest.py)."""
import datetime
import os
import socket
import subprocess
import sys
import time

from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.choices import Phase, Severity
from kpis.models import Observation
from tests.companyos.factories import UserFactory
from tests.incidents.factories import (
    AlertFactory,
    IncidentFactory,
    MilestoneFactory,
    PatchComplianceSnapshotFactory,
    PhaseTransitionFactory,
    SurveyResponseFactory,
)
from tests.tenancy.factories import CompanyFactory, ServiceFactory
from tests.workers import PROJECT_DIR

# The recorded payloads, exports and reports the tests send (one folder per source).
FIXTURES_DIR = PROJECT_DIR / "tests" / "fixtures"


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


# The sample company history of the backfill, nightly-run and concurrency tests, and the backfill's period.
UTC = datetime.timezone.utc
SINCE, UNTIL = "2024-01-01", "2024-01-20"


def moment(day, hour, minute=0):
    return datetime.datetime(2024, 1, day, hour, minute, tzinfo=UTC)


def build_sample_data(company_slug="comp-acme"):
    """A small company history whose every KPI value is worked out by hand in tests/kpis/test_backfill.py's EXPECTED_VALUES."""
    service = ServiceFactory(domain__company=CompanyFactory(slug=company_slug))
    company = service.domain.company
    manual = IncidentFactory(
        service=service,
        severity=Severity.P1,
        detected_at=moment(10, 10),
        resolved_at=moment(10, 10, 45),
        correlation_key="web-1|disk_full",
    )
    for minute in (58, 59):
        AlertFactory(company=company, incident=manual, issued_at=moment(10, 9, minute))
    for minute in (1, 2):
        AlertFactory(company=company, incident=manual, issued_at=moment(10, 10, minute))
    PhaseTransitionFactory(incident=manual, phase=Phase.GATHER, entered_at=moment(10, 10, 8))
    MilestoneFactory(incident=manual, committed_eta=moment(10, 10, 30), delivered_at=moment(10, 10, 25))
    MilestoneFactory(incident=manual, committed_eta=moment(10, 11), delivered_at=moment(10, 11, 5))
    SurveyResponseFactory(incident=manual, score=4, submitted_at=moment(11, 9))
    SurveyResponseFactory(incident=manual, score=5, submitted_at=moment(11, 10))
    IncidentFactory(
        service=service, detected_at=moment(12, 8), resolved_at=moment(12, 8, 8), automation_used=True, runbook_id="SSM-DiskCleanup-001"
    )
    PatchComplianceSnapshotFactory(company=company, scanned_at=moment(12, 14, 30))
    return company


def observation_values():
    """The stored values of every KPI in time order, rounded to 3 decimals."""
    values = {}
    for slug, value in Observation.objects.order_by("kpi__slug", "observed_at", "incident_id").values_list("kpi__slug", "value"):
        values.setdefault(slug, []).append(round(value, 3))
    return values


def scope_params(company):
    """The `scope` parameter of the company (""), each of its domains and each of their services."""
    params = [""]
    for domain in company.domains.order_by("slug"):
        params.append(domain.slug)
        params += [f"{domain.slug}/{service.slug}" for service in domain.services.order_by("slug")]
    return params


# How long a test waits for a server it started (Prometheus, Alertmanager) or for what it is to do.
READY_TIMEOUT = 20


def free_port():
    """A port free on 127.0.0.1 now, for a server that cannot be told to pick one itself."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, what, timeout=READY_TIMEOUT):
    """Poll `check()` until it is true (a connection refused counts as not yet); fail saying `what` was not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"Not ready in {timeout} s: {what}")
