"""
Latency of the read endpoints, and the ingest rates of alerts (stored and correlated) and of observations, against
gunicorn serving the benchmark database.
"""
import datetime
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import islice, zip_longest
from pathlib import Path

import requests

from .config import SCALES
from .report import timed

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Requests to each read endpoint, one at a time; a slow one is asked for SECONDS_PER_ENDPOINT at most (and at least
# MIN_REQUESTS times): its percentiles, not minutes of the same request.
REQUESTS_PER_ENDPOINT = {"xl": 200, "full": 200, "small": 50}
SECONDS_PER_ENDPOINT = 60
MIN_REQUESTS = 20
GUNICORN_WORKERS = 2
SENDERS = 2  # as several data sources post at once, as many as gunicorn has workers
INGEST_BATCH = 10_000
INGEST_BATCHES = {"xl": 20, "full": 10, "small": 2}
ALERT_BATCH = 1_000


class Bodies:
    """
    Request bodies encoded before the clock starts (the rate is the server's, not the sender's JSON encoder's) and
    kept in a temporary file, not in memory, so the bench's memory stays flat however many are sent.
    """

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.spans = []

    def add(self, rows):
        """Encode `rows` as one body; return its number."""
        data = json.dumps(rows).encode()
        self.spans.append((self.file.tell(), len(data)))
        self.file.write(data)
        self.file.flush()
        return len(self.spans) - 1

    def read(self, number):
        offset, size = self.spans[number]
        return os.pread(self.file.fileno(), size, offset)  # no shared file position: senders read at once


def api_steps(scale, table, database_url, port=0):
    """The API's steps against gunicorn on the benchmark database, served on `port` (0: any free port)."""
    from rest_framework.authtoken.models import Token

    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companyos.settings.local",
        "DEBUG": "0",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Tasks run eagerly in the gunicorn worker, within the request that queues them: an alert batch is answered
        # once its alerts are correlated and the daily totals of the past days it touched are refreshed.
        "CELERY_BROKER_URL": "",
    }
    # Bound here and handed to gunicorn as a listening socket: with port 0, two benches at once never share one.
    with socket.create_server(("127.0.0.1", port)) as listener:
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")), "companyos.wsgi", "--workers", str(GUNICORN_WORKERS),
                "--bind", f"fd://{listener.fileno()}", "--log-level", "warning",
            ],
            cwd=PROJECT_DIR,
            env=env,
            pass_fds=[listener.fileno()],
        )
    authorization = {"Authorization": f"Token {token.key}"}
    try:
        # The socket already listens, so the first request waits for gunicorn to boot and accept it.
        try:
            requests.get(f"{base}/api/kpis/", headers=authorization, timeout=60).raise_for_status()
        except requests.RequestException as error:
            raise SystemExit(f"gunicorn did not answer within 60 s: {error}") from error
        _read_latencies(table, base, authorization, REQUESTS_PER_ENDPOINT[scale])
        _alert_ingest(scale, table, base, authorization)
        _observation_ingest(scale, table, base, authorization)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _read_latencies(table, base, authorization, requests_per_endpoint):
    """p50/p95/p99 of each read endpoint, one request at a time, for the first company."""
    from tenancy.models import Company
    from kpis.models import KpiDefinition

    company = Company.objects.order_by("slug").first()
    slug = KpiDefinition.objects.filter(observations__isnull=False).values_list("slug", flat=True).first()
    session = requests.Session()
    session.headers.update(authorization)
    metrics_p95 = []
    for step, path in (
        ("GET /api/scorecards/exec/", f"/api/scorecards/exec/?company={company.slug}"),
        ("GET /api/kpis/", "/api/kpis/"),
        ("GET /api/kpis/<slug>/observations/", f"/api/kpis/{slug}/observations/"),
        ("GET /api/metrics/kpis/ 30d", f"/api/metrics/kpis/?company_id={company.slug}&timeRange=30d"),
        ("GET /api/metrics/kpis/ 90d", f"/api/metrics/kpis/?company_id={company.slug}&timeRange=90d"),
    ):
        latencies = []
        began = time.perf_counter()
        while len(latencies) < requests_per_endpoint and (len(latencies) < MIN_REQUESTS or time.perf_counter() - began < SECONDS_PER_ENDPOINT):
            seconds, response = timed(session.get, base + path, timeout=60)
            response.raise_for_status()
            latencies.append(seconds * 1000)
        p50, p95, p99 = (statistics.quantiles(latencies, n=100)[index] for index in (49, 94, 98))
        table.add(step, sum(latencies) / 1000, len(latencies), note=f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms")
        if step.startswith("GET /api/scorecards/"):
            table.goal("scorecard_p95_ms", p95)
        elif step.startswith("GET /api/metrics/"):
            metrics_p95.append(p95)
    table.goal("metrics_p95_ms", max(metrics_p95))


def _post_all(base, path, authorization, bodies, order):
    """POST the bodies numbered `order` from SENDERS senders at once; the rows the server says it created, and the seconds."""
    headers = {**authorization, "Content-Type": "application/json"}

    def send(number):
        # A connection per batch (a Session is not shared across threads): a connect costs nothing here.
        response = requests.post(base + path, data=bodies.read(number), headers=headers, timeout=600)
        if response.status_code != 201:
            raise SystemExit(f"POST {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()["created"]

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SENDERS) as senders:
        created = sum(senders.map(send, order))
    return created, time.perf_counter() - start


def _alert_ingest(scale, table, base, authorization):
    """
    One more day of every company's alerts (the day before the seeded period, at each company's seeded rate) in
    batches of ALERT_BATCH alerts of one company, the companies taking turns, so the two senders post for different
    companies as their sources would. Each request stores its batch and correlates it before it answers.
    """
    from demo.companies import company_identities
    from demo.incidents import sent_alerts, share
    from demo.period import demo_period
    from incidents.models import Alert, Incident

    size = SCALES[scale]
    first, _ = demo_period(size["days"])
    day = (first - datetime.timedelta(days=1), first)
    bodies, turns = Bodies(), []
    for index, (slug, _) in enumerate(company_identities(size["companies"])):
        alerts = sent_alerts(slug, *day, alerts_per_day=share(size["alerts"], size["companies"], index) / size["days"])
        turns.append([bodies.add(batch) for batch in iter(lambda: list(islice(alerts, ALERT_BATCH)), [])])
    order = [number for turn in zip_longest(*turns) for number in turn if number is not None]
    incidents_before = Incident.objects.count()
    created, seconds = _post_all(base, "/api/alerts/", authorization, bodies, order)
    uncorrelated = Alert.objects.filter(issued_at__gte=day[0], issued_at__lt=day[1], incident__isnull=True).count()
    note = (
        f"a day of {size['companies']} companies in {len(order)} batches of up to {ALERT_BATCH:,}, {SENDERS} senders; "
        f"{Incident.objects.count() - incidents_before:,} incidents made"
        + (f", {uncorrelated:,} alerts left uncorrelated" if uncorrelated else ", every alert correlated")
    )
    table.add("POST /api/alerts/ (stored and correlated)", seconds, created, note=note)
    table.goal("alerts_per_second", created / seconds)


def _observation_ingest(scale, table, base, authorization):
    """
    INGEST_BATCHES batches of INGEST_BATCH observations of a measured (not computed) KPI, at times no other
    observation uses; 50 is valid in every unit.
    """
    from tenancy.models import Company
    from kpis.calculators import CALCULATORS
    from kpis.models import KpiDefinition

    company = Company.objects.order_by("slug").first()
    measured = KpiDefinition.objects.exclude(slug__in=CALCULATORS).order_by("slug").values_list("slug", flat=True).first()
    base_time = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    bodies = Bodies()
    order = [
        bodies.add([
            {"kpi": measured, "company": company.slug, "observed_at": (base_time + datetime.timedelta(minutes=batch * INGEST_BATCH + n)).isoformat(), "value": 50.0}
            for n in range(INGEST_BATCH)
        ])
        for batch in range(INGEST_BATCHES[scale])
    ]
    created, seconds = _post_all(base, "/api/observations/", authorization, bodies, order)
    table.add("POST /api/observations/", seconds, created, note=f"{len(order)} batches of {INGEST_BATCH:,}, {SENDERS} senders")
    table.goal("ingest_rows_per_second", created / seconds)
