"""Upgrading to memberships: a deployment of one company keeps working; one of several grants nothing by itself."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_MEMBERSHIPS = [("tenancy", "0002_content_types_from_incidents")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


# serialized_rollback: the flush after this test leaves the seeded rows for the transactional tests after it.
@pytest.mark.slow
@pytest.mark.separate_tenants
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("companies, members", [(["comp-only"], {("ann", "comp-only"), ("ben", "comp-only")}), (["comp-a", "comp-b"], set())])
def test_the_users_of_a_single_company_become_its_members_with_history(companies, members):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate(BEFORE_MEMBERSHIPS)
    for slug in companies:
        old.get_model("tenancy", "Company").objects.create(slug=slug, name=slug)
    for username in ("ann", "ben"):
        old.get_model("auth", "User").objects.create(username=username)

    new = migrate(latest)

    memberships = new.get_model("tenancy", "Membership").objects
    assert set(memberships.values_list("user__username", "company__slug")) == members
    grants = new.get_model("tenancy", "HistoricalMembership").objects.values_list("history_type", "history_change_reason")
    assert list(grants) == [("+", "Upgrade: the deployment's only company")] * len(members)
    all_companies = new.get_model("auth", "Group").objects.get(name="All companies")
    assert list(all_companies.permissions.values_list("codename", flat=True)) == ["view_all_companies"]
