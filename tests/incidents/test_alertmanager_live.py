"""
Debian's real Alertmanager (/usr/bin/prometheus-alertmanager) delivering to the running portal over HTTP, configured
as an operator would: one route grouped by alertname alone (so one notification carries two companies' alerts),
a Bearer token, resolved notifications on.
"""
import datetime
import json
import re
import shutil
import subprocess
import urllib.request

import pytest
import yaml
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from connectors.choices import EventSource, EventStatus
from connectors.models import SourceEvent
from incidents.models import Alert, Incident
from incidents.services import correlate_alerts
from tests.companyos.factories import UserFactory
from tests.helpers import free_port, wait_for
from tests.tenancy.factories import CompanyFactory

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
UTC = datetime.timezone.utc

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def receiver_config(portal_url, token):
    """The Alertmanager configuration the README gives operators, with test-short timings."""
    return {
        "global": {"resolve_timeout": "1m"},
        "route": {
            "receiver": "companyos", "group_by": ["alertname"],
            "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h",
        },
        "receivers": [{
            "name": "companyos",
            "webhook_configs": [{
                "url": f"{portal_url}/api/webhooks/alertmanager/",
                "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
            }],
        }],
    }


@pytest.fixture
def alertmanager(live_server, tmp_path):
    """A running Alertmanager delivering to the live portal with a data source's token; its base URL."""
    assert shutil.which(ALERTMANAGER), "Debian's prometheus-alertmanager package provides it (.ci/setup)"
    user = UserFactory(username="alertmanager", is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="add_alert"))
    token = Token.objects.create(user=user).key
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(receiver_config(live_server.url, token)))
    port = free_port()
    with open(tmp_path / "alertmanager.log", "wb") as log:
        process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=2).status == 200, "Alertmanager not ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        print((tmp_path / "alertmanager.log").read_text()[-3000:])


def post_alerts(url, alerts):
    request = urllib.request.Request(
        f"{url}/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def webhook_notifications(url):
    """How many notifications Alertmanager sent to webhooks, and how many of them failed (its own counters)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as answer:
        metrics = answer.read().decode()

    def total(name):
        pattern = rf'^{name}\{{[^}}]*integration="webhook"[^}}]*\}} (\S+)$'
        return sum(float(value) for value in re.findall(pattern, metrics, re.MULTILINE))

    return total("alertmanager_notifications_total"), total("alertmanager_notifications_failed_total")


def rfc3339(moment):
    return moment.isoformat().replace("+00:00", "Z")


def disk_full(company, instance, mountpoint, starts, ends=None):
    alert = {
        "labels": {"alertname": "DiskFull", "company": company, "instance": instance, "mountpoint": mountpoint,
                   "severity": "critical"},
        "annotations": {"summary": f"Disk almost full on {instance}"},
        "startsAt": rfc3339(starts),
    }
    return alert | ({"endsAt": rfc3339(ends)} if ends else {})


def test_alertmanager_delivers_two_companies_alerts_and_their_resolution(alertmanager):
    acme, globex = CompanyFactory(slug="comp-acme"), CompanyFactory(slug="comp-globex")
    start = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(minutes=10)
    minutes = lambda n: start + datetime.timedelta(minutes=n)  # noqa: E731
    firing = [
        ("comp-acme", "web-1:9100", "/", minutes(0)),
        ("comp-acme", "web-1:9100", "/var", minutes(1)),
        ("comp-globex", "db-1:9100", "/", minutes(2)),
    ]
    ends = [minutes(3), minutes(6), minutes(4)]

    post_alerts(alertmanager, [disk_full(*alert) for alert in firing])
    wait_for(lambda: Alert.objects.count() == 3, "the firing notification not stored")
    # Acme's alerts are correlated while they fire; Globex's only once they have resolved.
    correlate_alerts(company=acme)
    assert Incident.objects.get(company=acme).status == "open"

    post_alerts(alertmanager, [disk_full(*alert, ends=end) for alert, end in zip(firing, ends, strict=True)])
    wait_for(lambda: not Alert.objects.filter(ended_at=None).exists(), "the resolved notification not stored", timeout=30)
    correlate_alerts(company=globex)

    stored = {(a.company.slug, a.payload["labels"]["mountpoint"]): (a.asset, a.issued_at, a.ended_at) for a in Alert.objects.all()}
    assert stored == {
        ("comp-acme", "/"): ("web-1:9100", minutes(0), minutes(3)),
        ("comp-acme", "/var"): ("web-1:9100", minutes(1), minutes(6)),
        ("comp-globex", "/"): ("db-1:9100", minutes(2), minutes(4)),
    }
    incidents = {i.company.slug: (i.title, i.status, i.detected_at, i.resolved_at) for i in Incident.objects.all()}
    assert incidents == {
        "comp-acme": ("DiskFull on web-1:9100", "resolved", minutes(0), minutes(6)),
        "comp-globex": ("DiskFull on db-1:9100", "resolved", minutes(2), minutes(4)),
    }
    # Every notification (one firing, one resolved, unless Alertmanager flushed one in two) is kept, split by
    # company: nothing failed, nothing lost.
    sent, failed = webhook_notifications(alertmanager)
    events = SourceEvent.objects.filter(source=EventSource.ALERTMANAGER)
    assert failed == 0 and sent >= 2
    assert len({event.delivery_id.split(":")[0] for event in events}) == sent
    assert {event.status for event in events} == {EventStatus.PROCESSED}
    assert set(events.values_list("event_type", "company__slug")) == {
        ("firing", "comp-acme"), ("firing", "comp-globex"), ("resolved", "comp-acme"), ("resolved", "comp-globex"),
    }
