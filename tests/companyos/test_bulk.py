import datetime

import pytest
from django.db import connection

from companyos.bulk import insert_rows
from incidents.choices import AlertSeverity
from incidents.models import Alert
from tests.companyos.factories import BASE_TIME
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db

FIELDS = ["company", "asset", "signature", "severity", "issued_at", "source", "external_id", "payload"]


def alert_rows(company, count):
    """Rows made lazily, as a generator, the way seed_demo streams them."""
    for n in range(count):
        yield (
            company.pk,
            f"web-{n % 3}",
            "disk_full" if n % 2 else "cpu_high",
            AlertSeverity.WARNING,
            BASE_TIME + datetime.timedelta(minutes=n, microseconds=n),
            "alertmanager",
            f"fp-{n}",
            {"labels": {"instance": f"web-{n % 3}", "n": n}, "note": "quote ' and tab\tand newline\n"},
        )


def stored(company):
    return list(
        Alert.objects.filter(company=company)
        .order_by("external_id")
        .values("asset", "signature", "severity", "issued_at", "source", "external_id", "payload", "incident_id")
    )


def test_copy_and_the_portable_path_store_the_same_rows():
    assert connection.vendor == "postgresql"
    copied = CompanyFactory(slug="comp-copy")
    created = CompanyFactory(slug="comp-bulk-create")

    assert insert_rows(Alert, FIELDS, alert_rows(copied, 250)) == 250
    assert insert_rows(Alert, FIELDS, alert_rows(created, 250), use_copy=False, batch_size=100) == 250

    assert stored(copied) == stored(created)
    assert len(stored(copied)) == 250
    assert stored(copied)[1]["payload"]["note"] == "quote ' and tab\tand newline\n"


def test_fields_left_out_get_their_defaults_on_the_copy_path():
    company = CompanyFactory(slug="comp-copy")

    insert_rows(Alert, ["company", "asset", "signature", "severity", "issued_at", "source"], [(company.pk, "web-1", "disk_full", "high", BASE_TIME, "datadog")])

    alert = Alert.objects.get(company=company)
    assert (alert.external_id, alert.payload, alert.incident_id) == ("", {}, None)
    assert alert.received_at is not None


def test_copy_is_refused_on_a_database_that_is_not_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        insert_rows(Alert, FIELDS, [], use_copy=True)
