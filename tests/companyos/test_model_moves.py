"""A database migrated before the tenancy and pipeline apps existed migrates forward and keeps its rows and grants."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The latest migration of each app before Company, Domain and Service moved to tenancy and NightlyChunk to pipeline.
BEFORE_TENANCY = [
    ("incidents", "0004_drop_redundant_company_indexes"),
    ("connectors", "0002_role_grants"),
    ("delivery", "0002_role_grants"),
    ("finance", "0002_role_grants"),
    ("kpis", "0007_observation_indexes"),
    ("product", "0002_role_grants"),
    ("scoring", "0002_seed_dimension_weights"),
    ("security", "0002_role_grants"),
    ("tenancy", None),
    ("pipeline", None),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1]]).apps


# serialized_rollback: the flush after this test leaves the seeded rows for the transactional tests after it.
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_from_before_the_moves_keeps_its_companies_services_chunks_and_their_permissions():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(BEFORE_TENANCY)
    company = old.get_model("incidents", "Company").objects.create(slug="comp-old", name="Old")
    domain = old.get_model("incidents", "Domain").objects.create(company=company, slug="core", name="Core")
    service = old.get_model("incidents", "Service").objects.create(domain=domain, slug="api", name="API")
    old.get_model("incidents", "Incident").objects.create(
        company=company, service=service, external_id="INC-1", title="Down", severity="P1",
        detected_at="2026-11-01T00:00:00Z",
    )
    old.get_model("kpis", "NightlyChunk").objects.create(day="2026-11-01", kpi_slug="mttr")
    content_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(app_label="incidents", model="company")[0]
    permission = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="view_company", defaults={"name": "Can view company"}
    )[0]
    old.get_model("auth", "Group").objects.create(name="Company readers").permissions.add(permission)

    new = migrate(latest)

    moved = new.get_model("tenancy", "Company").objects.get(slug="comp-old")
    assert moved.pk == company.pk
    assert list(new.get_model("tenancy", "Service").objects.values_list("slug", "domain__slug", "domain__company__slug")) == [
        ("api", "core", "comp-old")
    ]
    incident = new.get_model("incidents", "Incident").objects.get(external_id="INC-1")
    assert (incident.company_id, incident.service_id) == (company.pk, service.pk)
    assert list(new.get_model("pipeline", "NightlyChunk").objects.values_list("kpi_slug", "done_at")) == [("mttr", None)]
    ContentType = new.get_model("contenttypes", "ContentType")
    assert ContentType.objects.get(pk=content_type.pk).app_label == "tenancy"
    readers = new.get_model("auth", "Group").objects.get(name="Company readers")
    assert list(readers.permissions.values_list("content_type__app_label", "codename")) == [("tenancy", "view_company")]
    assert not ContentType.objects.filter(app_label="incidents", model__in=["company", "domain", "service"]).exists()


@pytest.mark.django_db
def test_the_admin_pages_of_companies_domains_and_services_keep_their_old_addresses(admin_client):
    response = admin_client.get("/admin/incidents/service/?q=api")

    assert (response.status_code, response["Location"]) == (301, "/admin/tenancy/service/?q=api")
    assert admin_client.get(response["Location"]).status_code == 200
