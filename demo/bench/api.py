"""Latency of the read endpoints and the ingest rate, against gunicorn serving the benchmark database."""
import datetime
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .config import TARGETS
from .report import timed

PROJECT_DIR = Path(__file__).resolve().parents[2]
REQUESTS_PER_ENDPOINT = 200
INGEST_BATCH = 10_000
GUNICORN_WORKERS = 2
INGEST_BATCHES = {"full": 10, "small": 2}


def api_steps(scale, table, database_url):
    """Latency of the read endpoints and the ingest rate, against gunicorn on the benchmark database."""
    from rest_framework.authtoken.models import Token

    from django.contrib.auth import get_user_model
    from tenancy.models import Company
    from kpis.calculators import CALCULATORS
    from kpis.models import KpiDefinition

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companyos.settings.local",
        "DEBUG": "0",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": "",
    }
    # A free port, bound here and handed to gunicorn as a listening socket: two benches at once never share one.
    with socket.create_server(("127.0.0.1", 0)) as listener:
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
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token.key}"
    try:
        # The socket already listens, so the first request waits for gunicorn to boot and accept it.
        try:
            session.get(f"{base}/api/kpis/", timeout=60).raise_for_status()
        except requests.RequestException as error:
            raise SystemExit(f"gunicorn did not answer within 60 s: {error}") from error
        company = Company.objects.order_by("slug").first()
        slug = KpiDefinition.objects.filter(observations__isnull=False).values_list("slug", flat=True).first()
        for path in (
            f"/api/scorecards/exec/?company={company.slug}",
            "/api/kpis/",
            f"/api/kpis/{slug}/observations/",
            f"/api/metrics/kpis/?company_id={company.slug}&timeRange=30d",
        ):
            latencies = []
            for _ in range(REQUESTS_PER_ENDPOINT):
                seconds, response = timed(session.get, base + path, timeout=30)
                response.raise_for_status()
                latencies.append(seconds * 1000)
            p50, p95, p99 = (statistics.quantiles(latencies, n=100)[index] for index in (49, 94, 98))
            note = f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
            if path.startswith("/api/scorecards/") and p95 > TARGETS["scorecard_p95_ms"]:
                table.misses.append(f"scorecard p95 {p95:.1f} ms (target {TARGETS['scorecard_p95_ms']} ms)")
            table.add(f"GET {path.split('?')[0]}", sum(latencies) / 1000, REQUESTS_PER_ENDPOINT, note=note)

        # A measured (not computed) KPI, at times no other observation uses; 50 is valid in every unit. The bodies
        # are encoded before the clock starts: the rate is the server's, not the sender's JSON encoder's.
        measured = KpiDefinition.objects.exclude(slug__in=CALCULATORS).order_by("slug").values_list("slug", flat=True).first()
        base_time = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
        bodies = [
            json.dumps([
                {"kpi": measured, "company": company.slug, "observed_at": (base_time + datetime.timedelta(minutes=batch * INGEST_BATCH + n)).isoformat(), "value": 50.0}
                for n in range(INGEST_BATCH)
            ]).encode()
            for batch in range(INGEST_BATCHES[scale])
        ]

        def send(body):
            # A connection per batch (a Session is not shared across threads): ten connects cost nothing here.
            headers = {"Authorization": session.headers["Authorization"], "Content-Type": "application/json"}
            response = requests.post(f"{base}/api/observations/", data=body, headers=headers, timeout=300)
            if response.status_code != 201:
                raise SystemExit(f"POST /api/observations/ answered {response.status_code}: {response.text[:500]}")
            return response.json()["created"]

        # As many senders as gunicorn has workers, as several data sources would post at once.
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=GUNICORN_WORKERS) as senders:
            ingested = sum(senders.map(send, bodies))
        seconds = time.perf_counter() - start
        if ingested / seconds < TARGETS["ingest_rows_per_second"]:
            table.misses.append(f"ingest {ingested / seconds:,.0f} observations/s (target {TARGETS['ingest_rows_per_second']:,})")
        table.add("POST /api/observations/", seconds, ingested, note=f"{len(bodies)} batches of {INGEST_BATCH:,}, {GUNICORN_WORKERS} senders")
    finally:
        server.terminate()
        server.wait(timeout=30)

