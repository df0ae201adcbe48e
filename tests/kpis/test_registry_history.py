"""The change log of a definition: versions with who, when, why and each changed field; reverts; the audit export."""
import csv
import datetime
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from kpis import services
from kpis.history import change_log, changes_between
from kpis.models import KpiDefinition
from tests.companyos.factories import UserFactory
from tests.kpis.factories import KpiDefinitionFactory

pytestmark = pytest.mark.django_db


def set_history_date(kpi, version, when):
    """Move a version to a known time, as if the change had been made then."""
    record = kpi.history.order_by("history_date", "history_id")[version - 1]
    type(record).objects.filter(history_id=record.history_id).update(history_date=when)


@pytest.fixture
def edited_mttr():
    """mttr created by the factory, then its target tightened by olivia and its owner role changed by sam."""
    olivia, sam = UserFactory(username="olivia"), UserFactory(username="sam")
    kpi = KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner_role="Ops Leader")
    kpi = services.change_definition(kpi, actor=olivia, reason="Tighten after Q3 review", target=25)
    kpi = services.change_definition(kpi, actor=sam, reason="Ownership moved", owner_role="SRE Lead", critical_threshold=50)
    return kpi


def test_the_change_log_names_each_changed_field_with_its_old_and_new_value(edited_mttr):
    log = change_log(edited_mttr)
    assert [entry.version for entry in log] == [1, 2, 3]
    assert [entry.change_type for entry in log] == ["created", "changed", "changed"]
    second, third = log[1], log[2]
    assert (second.user, second.reason) == ("olivia", "Tighten after Q3 review")
    assert [(change.field, change.old, change.new) for change in second.changes] == [("target", 30.0, 25.0)]
    assert third.changed_fields == ["critical_threshold", "owner_role"]
    assert {(change.old, change.new) for change in third.changes} == {(60.0, 50.0), ("Ops Leader", "SRE Lead")}


def test_the_first_version_lists_the_values_the_definition_was_created_with(edited_mttr):
    created = change_log(edited_mttr)[0]
    values = {change.field: change.new for change in created.changes}
    assert values["slug"] == "mttr"
    assert values["target"] == 30.0
    assert created.user == "system"
    assert created.reason == "Created by a test factory"


def test_an_owner_change_shows_the_owners_by_username():
    kpi = KpiDefinitionFactory(slug="mttr")
    services.change_definition(kpi, actor=None, reason="Assign", owner=UserFactory(username="olivia"))
    services.change_definition(kpi, actor=None, reason="Reassign", owner=UserFactory(username="sam"))
    change = change_log(kpi)[-1].changes[0]
    assert (change.field, change.old, change.new) == ("owner", "olivia", "sam")


def test_a_revert_restores_the_old_values_and_is_recorded_as_a_new_change_with_its_reason(edited_mttr):
    auditor_fix = UserFactory(username="rita")
    first = edited_mttr.history.earliest()
    outcome = services.revert_definition(edited_mttr, first.history_id, actor=auditor_fix, reason="Q3 change was premature")
    # The owner role applies at once; the score-moving thresholds of the active definition await approval.
    approver = UserFactory(username="bob")
    approver.groups.add(Group.objects.get(name="KPI approvers"))
    services.approve_proposal(outcome.proposal, approver=approver, comment="Agreed")
    kpi = KpiDefinition.objects.get(pk=edited_mttr.pk)
    assert (kpi.target, kpi.critical_threshold, kpi.owner_role) == (30, 60, "Ops Leader")
    immediate, approved = change_log(kpi)[-2:]
    assert (immediate.version, immediate.user, immediate.changed_fields) == (4, "rita", ["owner_role"])
    assert immediate.reason == "Reverted to version 1: Q3 change was premature"
    assert (approved.version, approved.user) == (5, "bob")
    assert approved.reason == f"Proposal #{outcome.proposal.pk} by rita (Reverted to version 1: Q3 change was premature), approved by bob: Agreed"
    assert set(approved.changed_fields) == {"target", "critical_threshold"}


def test_a_revert_needs_a_reason_and_changes_nothing_without_one(edited_mttr):
    with pytest.raises(ValidationError) as refused:
        services.revert_definition(edited_mttr, edited_mttr.history.earliest().history_id, actor=None, reason=" ")
    assert "change_reason" in refused.value.message_dict
    assert KpiDefinition.objects.get(pk=edited_mttr.pk).target == 25
    assert edited_mttr.history.count() == 3


def test_a_revert_to_a_version_of_another_definition_is_refused(edited_mttr):
    other = KpiDefinitionFactory(slug="mtta")
    with pytest.raises(ValidationError) as refused:
        services.revert_definition(edited_mttr, other.history.get().history_id, actor=None, reason="Wrong one")
    assert "history_id" in refused.value.message_dict


def test_a_revert_to_the_current_version_is_refused_as_changing_nothing(edited_mttr):
    with pytest.raises(ValidationError) as refused:
        services.revert_definition(edited_mttr, edited_mttr.history.latest().history_id, actor=None, reason="Same")
    assert "nothing to revert" in refused.value.message_dict["history_id"][0]
    assert edited_mttr.history.count() == 3


def test_kpi_history_prints_every_version_with_who_why_and_the_changed_fields(edited_mttr):
    out = io.StringIO()
    call_command("kpi", "history", "mttr", stdout=out)
    text = out.getvalue()
    assert "mttr version 2 (changed)" in text and "by olivia" in text
    assert "reason: Tighten after Q3 review" in text
    assert "target: 30.0 -> 25.0" in text
    assert "owner_role: 'Ops Leader' -> 'SRE Lead'" in text


def test_kpi_history_of_an_unknown_slug_names_the_slug():
    with pytest.raises(CommandError, match="'nope'"):
        call_command("kpi", "history", "nope")


def test_the_audit_export_in_csv_has_a_row_per_changed_field_of_each_version_in_the_period(edited_mttr):
    set_history_date(edited_mttr, 1, datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.timezone.utc))
    set_history_date(edited_mttr, 2, datetime.datetime(2024, 2, 1, 9, tzinfo=datetime.timezone.utc))
    set_history_date(edited_mttr, 3, datetime.datetime(2024, 3, 5, 9, tzinfo=datetime.timezone.utc))
    out = io.StringIO()
    call_command("kpi", "audit-export", "--since", "2024-02-01", "--until", "2024-03-04", "--format", "csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows == [
        {
            "slug": "mttr", "version": "2", "change_type": "changed", "user": "olivia",
            "when": "2024-02-01T09:00:00+00:00", "reason": "Tighten after Q3 review",
            "field": "target", "old": "30.0", "new": "25.0", "proposal": "",
        }
    ]


def test_the_audit_export_until_date_includes_that_whole_day(edited_mttr):
    set_history_date(edited_mttr, 1, datetime.datetime(2024, 1, 10, 9, tzinfo=datetime.timezone.utc))
    set_history_date(edited_mttr, 2, datetime.datetime(2024, 2, 1, 9, tzinfo=datetime.timezone.utc))
    set_history_date(edited_mttr, 3, datetime.datetime(2024, 3, 5, 23, 59, tzinfo=datetime.timezone.utc))
    out = io.StringIO()
    call_command("kpi", "audit-export", "--since", "2024-03-05", "--until", "2024-03-05", "--format", "json", stdout=out)
    exported = json.loads(out.getvalue())
    assert [(entry["slug"], entry["version"], entry["user"], entry["reason"]) for entry in exported] == [
        ("mttr", 3, "sam", "Ownership moved")
    ]
    assert {(change["field"], change["old"], change["new"]) for change in exported[0]["changes"]} == {
        ("critical_threshold", 60.0, 50.0),
        ("owner_role", "Ops Leader", "SRE Lead"),
    }


def test_the_audit_export_covers_every_definition_changed_in_the_period():
    KpiDefinitionFactory(slug="mttr")
    KpiDefinitionFactory(slug="mtta")
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    assert {entry.slug for entry in changes_between(since)} == {"mttr", "mtta"}


@pytest.mark.parametrize("arguments, option", [(["--since", "yesterday"], "--since"), (["--since", "2024-01-01", "--until", "31/01/2024"], "--until")])
def test_the_audit_export_refuses_a_date_it_cannot_read_naming_the_option(arguments, option):
    with pytest.raises(CommandError, match=option):
        call_command("kpi", "audit-export", *arguments)


def test_the_audit_export_can_write_to_a_file(edited_mttr, tmp_path):
    target = tmp_path / "audit.json"
    call_command("kpi", "audit-export", "--since", "2000-01-01", "--format", "json", "--output", str(target), stderr=io.StringIO())
    assert [entry["version"] for entry in json.loads(target.read_text()) if entry["slug"] == "mttr"] == [1, 2, 3]
