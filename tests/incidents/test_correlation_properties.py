"""
Correlation as alerts arrive equals correlating them all at once: whatever the batches and the order they arrive
in within the window, ingesting a stream batch by batch (each batch stored with its incidents), or storing it
batch by batch and correlating the stored backlog after each, gives the incidents that one correlation of the
whole stream gives.
"""
import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents import ingestion, services
from incidents.choices import AlertSeverity
from incidents.models import Alert, Incident
from tests.companyos.factories import BASE_TIME
from tests.tenancy.factories import CompanyFactory, ServiceFactory

pytestmark = pytest.mark.django_db

WINDOW_MINUTES = 15
WINDOW_SECONDS = WINDOW_MINUTES * 60

# One alert of the stream: which asset and signature (a few keys), when it was issued (seconds into six windows, so
# that the gaps between alerts of a key fall on both sides of the window), its severity, whether it names the
# service, and how late it arrives (up to three windows).
stream_alerts = st.lists(
    st.tuples(
        st.sampled_from(["web-1", "web-2"]),
        st.sampled_from(["disk_full", "cpu_high"]),
        st.integers(0, 6 * WINDOW_SECONDS),
        st.sampled_from(AlertSeverity.values),
        st.booleans(),
        st.integers(0, 3 * WINDOW_SECONDS),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda alert: alert[2],  # distinct times: which alert comes first is never a tie
)


def alerts_of(company, service, stream):
    """The stream as unsaved alerts of `company`, each named by its position."""
    return [
        Alert(
            company=company, service=service if with_service else None, asset=asset, signature=signature,
            severity=severity, issued_at=BASE_TIME + datetime.timedelta(seconds=second), source="cloudwatch",
            external_id=f"n-{number}",
        )
        for number, (asset, signature, second, severity, with_service, _) in enumerate(stream)
    ]


def incidents_of(company):
    """The company's incidents as {frozenset of alert numbers: (detected_at, severity, title, service)}."""
    assert not Alert.objects.filter(company=company, incident=None).exists()
    assert not Alert.objects.filter(company=company, incident__merged_into__isnull=False).exists()
    groups = {}
    for incident_id, external_id in Alert.objects.filter(company=company).values_list("incident", "external_id"):
        groups.setdefault(incident_id, set()).add(external_id)
    described = {
        incident.pk: (incident.detected_at, incident.severity, incident.title, incident.service_id)
        for incident in Incident.objects.filter(company=company)
    }
    assert set(described) == set(groups), "every incident listed has alerts, and every alert's incident is listed"
    return {frozenset(numbers): described[incident_id] for incident_id, numbers in groups.items()}


@pytest.mark.slow  # 40 streams, each correlated three ways
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    stream=stream_alerts,
    aggregation_key=st.sampled_from(["asset|signature", "signature"]),
    cuts=st.lists(st.booleans(), min_size=12, max_size=12),
)
def test_alerts_correlated_as_batches_arrive_give_the_incidents_of_correlating_them_all_at_once(
    django_capture_on_commit_callbacks, stream, aggregation_key, cuts
):
    arriving, stored, at_once = CompanyFactory(), CompanyFactory(), CompanyFactory()
    service_for = {company.pk: ServiceFactory(domain__company=company) for company in (arriving, stored, at_once)}
    for company in (arriving, stored, at_once):
        services.create_correlation_config(
            company, actor=None, reason="Property test", aggregation_key=aggregation_key, time_window_minutes=WINDOW_MINUTES
        )

    def batches_of(company):
        """The company's stream in the batches it arrives in: each alert up to three windows after it was issued, and a
        batch ends wherever a cut says so."""
        alerts = alerts_of(company, service_for[company.pk], stream)
        lateness = [datetime.timedelta(seconds=late) for *_, late in stream]
        arrival = sorted(range(len(alerts)), key=lambda number: (alerts[number].issued_at + lateness[number], number))
        batches, batch = [], []
        for position, number in enumerate(arrival):
            batch.append(alerts[number])
            if cuts[position] or position == len(arrival) - 1:
                batches.append(batch)
                batch = []
        return batches

    # Stored with their incidents as they arrive (the API, webhooks).
    for batch in batches_of(arriving):
        with django_capture_on_commit_callbacks(execute=True):
            ingestion.ingest_alerts(batch)
    # Stored without, as a bulk load does, and the backlog correlated after each batch.
    for batch in batches_of(stored):
        Alert.objects.bulk_create(batch)
        services.correlate_alerts(company=stored)
    Alert.objects.bulk_create(alerts_of(at_once, service_for[at_once.pk], stream))
    services.correlate_alerts(company=at_once)

    service_of = {None: None, **{service.pk: "service" for service in service_for.values()}}

    def described(company):
        return {
            numbers: (detected_at, severity, title, service_of[service_id])
            for numbers, (detected_at, severity, title, service_id) in incidents_of(company).items()
        }

    assert described(arriving) == described(at_once)
    assert described(stored) == described(at_once)
