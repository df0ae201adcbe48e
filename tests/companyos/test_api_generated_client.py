"""
A client generated from the live schema (openapi-python-client, as an API user would make one) reads and writes
the API of a running server: what the schema promises is what the server answers, parsed into the client's models.
"""
import datetime
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from incidents.models import Incident
from kpis.calculators import CALCULATORS
from kpis.choices import Units
from kpis.models import KpiDefinition, Observation
from tenancy import roles
from tests.helpers import member_of

pytestmark = pytest.mark.slow  # generates a client package, serves the demo

PACKAGE = "companyos_client"
# No formatter run over the generated code: the client is imported, not read.
GENERATOR_CONFIG = f"package_name_override: {PACKAGE}\nproject_name_override: companyos-client\npost_hooks: []\n"


@pytest.fixture
def generated_client(tmp_path):
    """`generate(schema_url, token)`: the package openapi-python-client generates from the schema a server serves, imported."""

    def generate(schema_url, token):
        schema = requests.get(schema_url, params={"format": "json"}, headers={"Authorization": f"Token {token}"}, timeout=60)
        schema.raise_for_status()
        (tmp_path / "schema.json").write_bytes(schema.content)
        (tmp_path / "config.yaml").write_text(GENERATOR_CONFIG)
        generator = Path(sys.executable).parent / "openapi-python-client"
        subprocess.run(
            [generator, "generate", "--path", "schema.json", "--config", "config.yaml", "--meta", "none", "--output-path", PACKAGE],
            cwd=tmp_path, check=True, capture_output=True, timeout=300,
        )
        sys.path.insert(0, str(tmp_path))
        return importlib.import_module(PACKAGE)

    yield generate
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def api(package, module):
    """The generated module of one operation, e.g. api(package, "kpis.kpis_list")."""
    return importlib.import_module(f"{package.__name__}.api.{module}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_generated_client_reads_and_writes_the_api(generated_client, live_server, scored_demo):
    company, last_day = scored_demo
    reader = member_of(roles.AUDITORS, "client-reader")  # reads definitions' history
    reader.groups.add(Group.objects.get(name=roles.RESPONDERS))  # and the responder scorecard
    reader_token = Token.objects.create(user=reader).key
    client_package = generated_client(f"{live_server.url}/api/schema/", reader_token)
    models = importlib.import_module(f"{PACKAGE}.models")
    reader = client_package.AuthenticatedClient(
        base_url=live_server.url, token=reader_token, prefix="Token", raise_on_unexpected_status=True
    )
    source = client_package.AuthenticatedClient(
        base_url=live_server.url, token=Token.objects.create(user=member_of(roles.DATA_SOURCES, "client-source")).key,
        prefix="Token", raise_on_unexpected_status=True,
    )

    kpis = api(client_package, "kpis.kpis_list").sync(client=reader, limit=1000)
    assert isinstance(kpis, models.PaginatedKpiDefinitionList)
    assert {kpi.slug for kpi in kpis.results} == set(KpiDefinition.objects.values_list("slug", flat=True))
    assert kpis.count == len(kpis.results)

    measured = KpiDefinition.objects.exclude(slug__in=CALCULATORS).filter(units=Units.PERCENT).order_by("slug").first()
    history = api(client_package, "kpis.kpis_history_list").sync(measured.slug, client=reader)
    assert history and all(isinstance(entry, models.ChangeLogEntry) for entry in history)
    assert history[0].change_type == "created" and history[0].slug == measured.slug

    series = api(client_package, "scores.scores_retrieve").sync(
        client=reader, company=company.slug, since=last_day - datetime.timedelta(days=1), until=last_day
    )
    assert isinstance(series, models.ScoreSeries)
    assert (series.company, series.scope, series.until) == (company.slug, "company", last_day)
    assert series.series[-1].date == last_day
    assert 0 <= series.series[-1].composite <= 100
    assert {part.dimension for part in series.series[-1].composite_parts} <= set(series.series[-1].dimensions.additional_properties)
    scorecard = api(client_package, "scorecards.scorecards_retrieve").sync("responder", client=reader, company=company.slug)
    assert (scorecard["company"], scorecard["date"], scorecard["composite"]) == (
        company.slug, last_day.isoformat(), series.series[-1].composite
    )

    incidents = api(client_package, "incidents.incidents_list").sync(client=reader, limit=5)
    assert incidents.count == Incident.objects.count()
    newest = Incident.objects.order_by("-detected_at", "-id").first()
    assert (incidents.results[0].id, incidents.results[0].company, incidents.results[0].detected_at) == (
        newest.id, company.slug, newest.detected_at
    )

    observed_at = datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.timezone.utc)
    created = api(client_package, "observations.observations_create").sync(
        client=source, body=[models.ObservationIn(kpi=measured.slug, company=company.slug, observed_at=observed_at, value=97.5)]
    )
    assert isinstance(created, models.ObservationIngestResult) and created.created == 1
    assert Observation.objects.get(kpi=measured, observed_at=observed_at).value == 97.5

    incident = api(client_package, "incidents.incidents_create").sync(
        client=source,
        body=models.IncidentIn(
            company=company.slug, external_id="client-1", title="Checkout errors",
            severity=models.IncidentSeverityEnum.P2, detected_at=observed_at,
        ),
    )
    assert isinstance(incident, models.Incident)
    assert (incident.company, incident.external_id, incident.severity, incident.service) == (
        company.slug, "client-1", models.IncidentSeverityEnum.P2, None
    )
    assert Incident.objects.get(pk=incident.id).title == "Checkout errors"

    refused = api(client_package, "observations.observations_create").sync(
        client=source, body=[models.ObservationIn(kpi="no-such-kpi", company=company.slug, observed_at=observed_at, value=1)]
    )
    assert isinstance(refused, models.Error) and refused.error.status == 400
    assert refused.error.message.startswith("[0].kpi") or "no-such-kpi" in refused.error.message
