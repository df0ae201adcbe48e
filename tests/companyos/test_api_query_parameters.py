"""
Query parameters are read as the schema states them: a page size or offset that is not a whole number within its
bounds, a boolean filter that is not true or false, or a parameter given empty, is a 400 naming the parameter, never
read as absent and never a database error; the schema states the bounds.
"""
import pytest
from drf_spectacular.generators import SchemaGenerator

from kpis import roles
from tests.helpers import client_for, member_of
from tests.incidents.factories import IncidentFactory
from tests.kpis.factories import KpiDefinitionFactory
from tests.tenancy.factories import CompanyFactory


@pytest.fixture
def auditor(db):
    IncidentFactory(company=CompanyFactory(slug="comp-acme"), automation_used=True)
    KpiDefinitionFactory(slug="mttr")
    return client_for(member_of(roles.AUDITORS))


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=124666355223342022656", "limit"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=null", "limit"),
        ("offset=null", "offset"),
        ("offset=-1", "offset"),
        ("offset=" + "9" * 5000, "offset"),
        ("automation_used=null", "automation_used"),
        ("automation_used=", "automation_used"),
        ("severity=", "severity"),
    ],
)
def test_a_parameter_outside_the_schema_is_a_400_naming_it(auditor, query, parameter):
    response = auditor.get(f"/api/incidents/?{query}")
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["error"]["fields"]) == [parameter]
    assert response.json()["error"]["message"].startswith(f"{parameter}: ")


def test_parameters_within_the_schema_page_and_filter(auditor):
    page = auditor.get("/api/incidents/?limit=1000&offset=0&automation_used=true").json()
    assert (page["count"], len(page["results"])) == (1, 1)
    assert auditor.get("/api/incidents/?automation_used=false").json()["count"] == 0


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/kpis/mttr/observations/?page_size=0", "page_size"),
        ("/api/kpis/mttr/observations/?page_size=5001", "page_size"),
        ("/api/kpis/mttr/observations/?since=", "since"),
        ("/api/source-events/?until=", "until"),
        ("/api/scores/?company=comp-acme&since=", "since"),
        ("/api/kpis/?dimension=", "dimension"),
    ],
)
def test_an_empty_or_out_of_bounds_parameter_elsewhere_is_a_400_naming_it(auditor, path, parameter):
    response = auditor.get(path)
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()["error"]["fields"]) == [parameter]


def test_the_schema_states_the_bounds_and_what_is_required(db):
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    def parameters(path, method="get"):
        return {parameter["name"]: parameter for parameter in paths[path][method]["parameters"]}

    incidents = parameters("/api/incidents/")
    assert incidents["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert incidents["offset"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    assert parameters("/api/kpis/{slug}/observations/")["page_size"]["schema"]["maximum"] == 5000
    for path, name in [
        ("/api/scores/", "company"), ("/api/metrics/kpis/", "company_id"), ("/api/scans/trivy/", "company"),
        ("/api/imports/billing/", "company"),
    ]:
        method = "post" if path.startswith(("/api/scans", "/api/imports")) else "get"
        parameter = parameters(path, method)[name]
        assert parameter["required"] and parameter["schema"]["minLength"] == 1, (path, parameter)
    history = paths["/api/kpis/{slug}/history/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert history == {"type": "array", "items": {"$ref": "#/components/schemas/ChangeLogEntry"}}
    for path in ("/api/incidents/{id}/milestones/", "/api/incidents/{id}/phases/", "/api/incidents/{id}/survey-responses/"):
        assert {"200", "201"} <= set(paths[path]["post"]["responses"])
