"""With a read replica configured, the cockpit's and the API's reads go to it; writes, sessions and tokens stay on the primary."""
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.helpers import client_for
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", "replica"])


def tables_read(queries):
    return {table for query in queries for table in ("kpis_kpidefinition", "authtoken_token") if f'"{table}"' in query["sql"]}


@pytest.fixture
def reads_from_replica(settings):
    settings.READS_FROM_REPLICA = True


def test_an_api_read_goes_to_the_replica_and_who_is_asking_to_the_primary(alice, reads_from_replica):
    KpiDefinitionFactory(slug="mttr", owner=alice)
    client = client_for(alice)
    with CaptureQueriesContext(connections["replica"]) as replica, CaptureQueriesContext(connections["default"]) as primary:
        response = client.get("/api/kpis/")

    assert [kpi["slug"] for kpi in response.json()["results"]] == ["mttr"]
    assert tables_read(replica.captured_queries) == {"kpis_kpidefinition"}
    assert tables_read(primary.captured_queries) == {"authtoken_token"}


def test_a_write_and_everything_it_reads_stay_on_the_primary(alice, reads_from_replica):
    KpiDefinitionFactory(slug="mttr", owner=alice, status="draft")
    with CaptureQueriesContext(connections["replica"]) as replica:
        response = client_for(alice).patch("/api/kpis/mttr/", {"name": "Time to resolve", "change_reason": "Clearer"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Time to resolve"
    assert replica.captured_queries == []


def test_without_a_replica_reads_use_the_primary(alice):
    KpiDefinitionFactory(slug="mttr", owner=alice)
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert client_for(alice).get("/api/kpis/").status_code == 200
    assert replica.captured_queries == []
