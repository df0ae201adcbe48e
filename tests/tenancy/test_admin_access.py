"""
Admin access follows the roles: granting KPI owners, Auditors or KPI approvers is enough to use the admin (no staff
box to tick), and removing the last of them takes the admin away; other roles leave staff status alone.
"""
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from kpis import roles
from tests.companyos.factories import UserFactory
from tests.helpers import stored

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def group(name):
    return Group.objects.get_or_create(name=name)[0]


def admin_login(username):
    """A browser that logged in at /admin/login/; the page it ends on."""
    browser = Client()
    response = browser.post("/admin/login/?next=/admin/", {"username": username, "password": PASSWORD}, follow=True)
    return browser, response


def test_a_user_granted_the_auditor_role_in_the_admin_can_open_the_admin(superuser):
    audrey = UserFactory(username="audrey", is_staff=False)
    _, refused = admin_login("audrey")
    assert b"Site administration" not in refused.content
    administrator = Client()
    administrator.force_login(superuser)
    page = administrator.get(f"/admin/auth/user/{audrey.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name not in ("password", "groups", "user_permissions", "last_login", "date_joined")}
    data.update({
        "groups": [group(roles.AUDITORS).pk], "date_joined_0": "2024-01-15", "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0", "_save": "Save",
    })
    data = {name: value for name, value in data.items() if value is not False}
    saved = administrator.post(f"/admin/auth/user/{audrey.pk}/change/", data)
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved.content[:500]
    assert stored(audrey).is_staff
    browser, opened = admin_login("audrey")
    assert b"Site administration" in opened.content
    assert browser.get("/admin/kpis/kpidefinition/").status_code == 200


@pytest.mark.parametrize("role", [roles.KPI_OWNERS, roles.AUDITORS, roles.KPI_APPROVERS])
def test_each_admin_role_opens_the_admin_and_loses_it_with_the_role(role):
    user = UserFactory(username="pat", is_staff=False)
    user.groups.add(group(role))
    assert stored(user).is_staff
    browser, opened = admin_login("pat")
    assert b"Site administration" in opened.content
    user.groups.remove(group(role))
    assert not stored(user).is_staff
    assert browser.get("/admin/").status_code == 302  # back to the login page
    _, refused = admin_login("pat")
    assert b"Site administration" not in refused.content


def test_granting_from_the_groups_side_and_clearing_work_alike():
    one, other = UserFactory(is_staff=False), UserFactory(is_staff=False)
    group(roles.AUDITORS).user_set.add(one, other)
    assert stored(one).is_staff and stored(other).is_staff
    group(roles.AUDITORS).user_set.remove(other)
    assert stored(one).is_staff and not stored(other).is_staff
    group(roles.AUDITORS).user_set.clear()
    assert not stored(one).is_staff
    one.groups.set([group(roles.KPI_APPROVERS), group(roles.EXECUTIVES)])
    assert stored(one).is_staff
    one.groups.clear()
    assert not stored(one).is_staff


def test_keeping_another_admin_role_keeps_the_admin():
    user = UserFactory(is_staff=False)
    user.groups.add(group(roles.KPI_OWNERS), group(roles.AUDITORS))
    user.groups.remove(group(roles.AUDITORS))
    assert stored(user).is_staff


def test_cockpit_roles_neither_give_nor_take_staff_status():
    reader = UserFactory(is_staff=False)
    reader.groups.add(group(roles.EXECUTIVES), group(roles.RESPONDERS), group(roles.DATA_SOURCES))
    assert not stored(reader).is_staff
    staff = UserFactory(is_staff=True)  # ticked by hand for some other reason
    staff.groups.add(group(roles.STAKEHOLDERS))
    staff.groups.remove(group(roles.STAKEHOLDERS))
    assert stored(staff).is_staff


def test_a_superuser_keeps_the_admin_whatever_the_roles(superuser):
    superuser.groups.add(group(roles.AUDITORS))
    superuser.groups.remove(group(roles.AUDITORS))
    assert stored(superuser).is_staff


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


# serialized_rollback: the flush after this test leaves the seeded rows for the transactional tests after it.
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upgrading_gives_the_existing_members_of_admin_roles_the_admin():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = migrate([("tenancy", "0004_all_companies_group_and_single_company_members")])
    groups, users = old.get_model("auth", "Group").objects, old.get_model("auth", "User").objects
    for username, role in (("owner", roles.KPI_OWNERS), ("auditor", roles.AUDITORS), ("approver", roles.KPI_APPROVERS), ("exec", roles.EXECUTIVES)):
        users.create(username=username, is_staff=False).groups.add(groups.get_or_create(name=role)[0])

    new = migrate(latest)

    staff = new.get_model("auth", "User").objects.filter(username__in=["owner", "auditor", "approver", "exec"], is_staff=True)
    assert sorted(staff.values_list("username", flat=True)) == ["approver", "auditor", "owner"]
