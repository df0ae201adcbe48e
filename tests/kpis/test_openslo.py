"""
OpenSLO v1 out and in: an export imported again changes nothing; an import goes through change control (a proposal
for an active definition's SLO, a history row for what applies at once, a draft for a new SLO); a bad document is a
400 (API) or a command error naming the field.
"""
import re

import pytest
import yaml
from django.core.management import CommandError, call_command

from kpis.models import KpiChangeProposal, KpiDefinition
from tests.helpers import client_for, member_of, stored
from tests.kpis.helpers import AVAILABILITY_SLO, slo_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def availability(alice):
    return slo_definition(owner=alice)


def exported(client):
    response = client.get("/api/openslo/")
    assert response.status_code == 200
    return response.json()["document"]


def test_an_export_is_openslo_v1_with_the_definitions_slo(availability, alice):
    [document] = yaml.safe_load_all(exported(client_for(alice)))
    assert (document["apiVersion"], document["kind"], document["metadata"]["name"]) == ("openslo/v1", "SLO", "checkout-availability")
    spec = document["spec"]
    assert spec["objectives"][0]["target"] == 0.999
    assert spec["timeWindow"] == [{"duration": "30d", "isRolling": True}]
    ratio = spec["indicator"]["spec"]["ratioMetric"]
    assert ratio["good"]["metricSource"] == {"type": "Prometheus", "spec": {"query": AVAILABILITY_SLO["sli_good_promql"]}}
    assert ratio["total"]["metricSource"]["spec"]["query"] == AVAILABILITY_SLO["sli_total_promql"]


def test_an_export_imported_again_gives_the_same_definitions_and_changes_nothing(availability, alice, tmp_path):
    path = tmp_path / "slos.yaml"
    call_command("kpi", "openslo", "export", "--output", str(path))
    versions = availability.history.count()
    response = client_for(alice).post(
        "/api/openslo/", {"document": path.read_text(), "change_reason": "Round trip"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == [{"slug": "checkout-availability", "action": "unchanged", "proposal_id": None}]
    assert (availability.history.count(), KpiChangeProposal.objects.count()) == (versions, 0)
    assert exported(client_for(alice)) == path.read_text()


def test_a_changed_slo_comes_back_as_a_proposal_and_a_history_row(availability, alice, bob, tmp_path):
    [document] = yaml.safe_load_all(exported(client_for(alice)))
    document["metadata"]["displayName"] = "Checkout requests served"
    document["spec"]["objectives"][0]["target"] = 0.9995
    document["spec"]["timeWindow"][0]["duration"] = "4w"
    path = tmp_path / "slos.yaml"
    path.write_text(yaml.safe_dump(document))
    versions = availability.history.count()

    call_command("kpi", "openslo", "import", str(path), "--user", "alice", "--reason", "Tighter SLO from the SRE repo")

    kpi = stored(availability)
    assert kpi.name == "Checkout requests served"  # a name applies at once, with its history row
    assert availability.history.count() == versions + 1
    assert kpi.history.first().history_change_reason == "Tighter SLO from the SRE repo"
    assert (kpi.slo_objective, kpi.slo_period_days) == (99.9, 30)  # the SLO waits for a second person
    proposal = KpiChangeProposal.objects.get()
    assert (proposal.author, proposal.status) == (alice, "open")
    assert proposal.changes == {
        "slo_objective": {"old": 99.9, "new": 99.95},
        "slo_period_days": {"old": 30, "new": 28},
    }


def test_a_new_slo_is_a_draft_owned_by_the_importer(alice):
    document = yaml.safe_dump({
        "apiVersion": "openslo/v1", "kind": "SLO", "metadata": {"name": "search-latency"},
        "spec": {
            "service": "search", "budgetingMethod": "Occurrences",
            "indicator": {"spec": {"ratioMetric": {
                "good": {"metricSource": {"type": "prometheus", "spec": {"query": 'search_requests_total{fast="true"}'}}},
                "total": {"metricSource": {"type": "prometheus", "spec": {"query": "search_requests_total"}}},
            }}},
            "timeWindow": [{"duration": "7d", "isRolling": True}],
            "objectives": [{"targetPercent": 99}],
        },
    })
    response = client_for(alice).post("/api/openslo/", {"document": document, "change_reason": "New SLO"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == [{"slug": "search-latency", "action": "created", "proposal_id": None}]
    kpi = KpiDefinition.objects.get(slug="search-latency")
    assert (kpi.status, kpi.owner, kpi.slo_objective, kpi.slo_period_days) == ("draft", alice, 99.0, 7)
    assert kpi.history.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda document: document["spec"]["objectives"][0].update(target=1.5), "spec.objectives[0].target"),
        (lambda document: document["spec"]["objectives"][0].update(target="high"), "spec.objectives[0].target"),
        (lambda document: document["spec"]["timeWindow"][0].update(duration="1M"), "spec.timeWindow[0].duration"),
        (lambda document: document["spec"]["timeWindow"][0].update(duration="400d"), "spec.timeWindow[0].duration"),
        (lambda document: document["spec"]["timeWindow"][0].update(isRolling=False), "spec.timeWindow[0].isRolling"),
        (lambda document: document["spec"].pop("indicator"), "spec.indicator"),
        (lambda document: document["spec"]["indicator"]["spec"]["ratioMetric"]["good"]["metricSource"]["spec"].update(
            query="sum(rate(http_requests_total[5m]))"), "spec.indicator.spec.ratioMetric.good.metricSource.spec.query"),
        (lambda document: document.update(kind="SLI"), "kind"),
        (lambda document: document.update(spec=["not", "a", "mapping"]), "spec"),
        (lambda document: document["spec"].update(timeWindow=["30d"]), "spec.timeWindow[0]"),
    ],
)
def test_a_bad_field_is_a_400_and_a_command_error_naming_it(availability, alice, tmp_path, change, field):
    [document] = yaml.safe_load_all(exported(client_for(alice)))
    change(document)
    text = yaml.safe_dump(document)
    response = client_for(alice).post("/api/openslo/", {"document": text, "change_reason": "Try"}, format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["error"]["fields"]) == [f"document.{field}"]
    assert response.json()["error"]["message"].startswith(f"document.{field}: ")

    path = tmp_path / "slo.yaml"
    path.write_text(text)
    with pytest.raises(CommandError, match=f"^{re.escape(field)}: "):
        call_command("kpi", "openslo", "import", str(path), "--user", "alice", "--reason", "Try")
    assert not KpiChangeProposal.objects.exists()
    assert stored(availability).slo_objective == 99.9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: SLO\nspec: [unclosed", "document: is not valid YAML at line"),
        ("kind: SLO\ncreated: 2001-13-01", "document: is not valid YAML: a value cannot be read"),
        ("[" * 5000, "document: is nested too deeply"),
        ("# nothing but a comment", "document: holds no OpenSLO SLO."),
    ],
)
def test_yaml_that_does_not_parse_is_a_400_naming_the_document(alice, text, message):
    response = client_for(alice).post("/api/openslo/", {"document": text, "change_reason": "Try"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


def test_only_kpi_owners_import_and_only_the_definitions_they_own(availability, bob):
    text = yaml.safe_dump({"apiVersion": "openslo/v1"})
    assert client_for(bob).post("/api/openslo/", {"document": text, "change_reason": "Try"}, format="json").status_code == 403
    carol = member_of("KPI owners", "carol")
    [document] = yaml.safe_load_all(exported(client_for(carol)))
    document["spec"]["objectives"][0]["target"] = 0.99
    response = client_for(carol).post("/api/openslo/", {"document": yaml.safe_dump(document), "change_reason": "Not mine"}, format="json")
    assert response.status_code == 403
    assert "Only the owner of 'checkout-availability'" in response.json()["error"]["message"]


def test_the_command_exports_the_named_definitions_and_refuses_an_unknown_slug(availability, alice, tmp_path, capsys):
    slo_definition("search-availability", owner=alice)
    call_command("kpi", "openslo", "export", "--kpi", "search-availability")
    assert [document["metadata"]["name"] for document in yaml.safe_load_all(capsys.readouterr().out)] == ["search-availability"]
    with pytest.raises(CommandError, match="--kpi: no definition has the slug 'nope'"):
        call_command("kpi", "openslo", "export", "--kpi", "nope")
