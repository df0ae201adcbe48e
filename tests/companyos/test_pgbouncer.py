"""
The portal through Debian's PgBouncer in transaction pooling mode (/usr/sbin/pgbouncer), as the README's scaling
section deploys it: with DATABASE_TRANSACTION_POOLING on, correlation (temporary tables, a row lock) and the streamed
evidence export (Django's iterator()) work when the pooler may hand the server connection to another client between
transactions, and give what a direct connection gives.
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest
from django.conf import settings
from django.db import connection

from incidents.models import Alert, Incident
from tests.helpers import free_port, wait_for
from tests.tenancy.factories import CompanyFactory

PGBOUNCER = "/usr/sbin/pgbouncer"
UTC = datetime.timezone.utc

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Run by manage.py shell in a process whose only database is the pooler: correlate, then stream the evidence rows.
SCRIPT = """
import datetime, json
from companyos.api.dates import Period
from incidents.services import correlate_alerts
from kpis.proof import evidence_rows
from tenancy.models import Company

start = datetime.datetime(2026, 11, 2, tzinfo=datetime.timezone.utc)
created = correlate_alerts()
rows = list(evidence_rows(Company.objects.get(slug="pooled"), period=Period(start, start + datetime.timedelta(days=1), "1d")))
print(json.dumps({"created": created, "alerts": sum(row["record"] == "alert" for row in rows),
                  "linked": sum(row["record"] == "alert" and row["incident_id"] is not None for row in rows)}))
"""


@pytest.fixture
def pgbouncer():
    """PgBouncer in transaction mode in front of this machine's PostgreSQL, two server connections; its port."""
    assert shutil.which(PGBOUNCER), "Debian's pgbouncer package provides it (.ci/setup)"
    port = free_port()
    database = settings.DATABASES["default"]
    # PgBouncer refuses to run as root: as root (CI), it runs as the postgres user, which must read its files.
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory() as directory:
        os.chmod(directory, 0o755)
        users, config = os.path.join(directory, "users.txt"), os.path.join(directory, "pgbouncer.ini")
        with open(users, "w") as file:
            file.write('"postgres" ""\n')
        with open(config, "w") as file:
            file.write(
                "[databases]\n"
                f"* = host={database['HOST'] or '127.0.0.1'} port={database['PORT'] or 5432}\n"
                "[pgbouncer]\n"
                f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
                f"auth_type = trust\nauth_file = {users}\npool_mode = transaction\ndefault_pool_size = 2\n"
            )
        for path in (users, config):
            os.chmod(path, 0o644)
        process = subprocess.Popen([PGBOUNCER, *as_user, config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None, "PgBouncer listening")
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_correlation_and_the_streamed_export_work_through_transaction_pooling(pgbouncer):
    company = CompanyFactory(slug="pooled")
    first = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    Alert.objects.bulk_create(
        Alert(company=company, asset=f"web-{number % 3}", signature="disk-full", severity="critical",
              issued_at=first + datetime.timedelta(minutes=number), source="test")
        for number in range(30)
    )
    user = settings.DATABASES["default"]["USER"] or "postgres"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companyos.settings.local",
        "DATABASE_URL": f"postgres://{user}@127.0.0.1:{pgbouncer}/{connection.settings_dict['NAME']}",
        "DATABASE_TRANSACTION_POOLING": "true",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SCRIPT],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])

    # An alert a minute over three assets: each asset alerts every 3 minutes, within the window, so one incident each.
    assert outcome == {"created": 3, "alerts": 30, "linked": 30}
    assert Incident.objects.filter(company=company).count() == 3
    assert not Alert.objects.filter(company=company, incident__isnull=True).exists()
