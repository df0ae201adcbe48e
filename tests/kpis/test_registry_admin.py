"""The registry admin: change control with reasons, the change log and reverts, roles, reviews, read-only history."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from kpis import services
from kpis.models import KpiDefinition, KpiReview
from tests.companyos.factories import UserFactory
from tests.helpers import member_of, stored
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.kpis.helpers import admin_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def olivia():
    return member_of("KPI owners", "olivia")


@pytest.fixture
def sam():
    return member_of("KPI owners", "sam")


@pytest.fixture
def auditor():
    return member_of("Auditors", "audrey")


@pytest.fixture
def mttr(olivia):
    return KpiDefinitionFactory(slug="mttr", target=30, critical_threshold=60, owner=olivia)


def change_url(kpi):
    return reverse("admin:kpis_kpidefinition_change", args=[kpi.pk])


def version_url(kpi, history_id):
    return reverse("admin:kpis_kpidefinition_simple_history", args=[kpi.pk, history_id])


def form_data(kpi, **overrides):
    return admin_form_data(kpi, with_owner=True, **overrides)


def test_saving_the_change_form_without_a_reason_is_refused_and_changes_nothing(client, superuser, mttr):
    client.force_login(superuser)
    response = client.post(change_url(mttr), form_data(mttr, target=25, change_reason=""))
    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    assert stored(mttr).target == 30
    assert mttr.history.count() == 1


def test_saving_the_change_form_records_the_editor_and_the_reason(client, superuser, mttr):
    client.force_login(superuser)
    response = client.post(change_url(mttr), form_data(mttr, name="Mean time to recover", change_reason="Health model wording"))
    assert response.status_code == 302
    latest = mttr.history.latest()
    assert (latest.name, latest.history_user, latest.history_change_reason) == ("Mean time to recover", superuser, "Health model wording")


def test_the_slug_cannot_be_changed_through_the_change_form(client, superuser, mttr):
    client.force_login(superuser)
    client.post(change_url(mttr), form_data(mttr, slug="mean-time-to-resolve", change_reason="Rename"))
    assert stored(mttr).slug == "mttr"


def test_adding_a_definition_in_the_admin_records_its_creation_with_the_reason(client, superuser):
    client.force_login(superuser)
    template = KpiDefinition(
        name="Toil Ratio", description="Manual ops time.", formula="manual / total x 100", units="percent",
        direction="lower", target=20, critical_threshold=40, owner_role="VP Engineering", dimension="efficiency", weight=15,
    )
    data = form_data(template, slug="toil-ratio", change_reason="New efficiency KPI")
    response = client.post(reverse("admin:kpis_kpidefinition_add"), data)
    assert response.status_code == 302
    created = KpiDefinition.objects.get(slug="toil-ratio")
    assert (created.history.get().history_user, created.history.get().history_change_reason) == (superuser, "New efficiency KPI")


def test_the_history_view_shows_who_when_why_and_each_changed_field(client, superuser, mttr, olivia):
    services.change_definition(mttr, actor=olivia, reason="Tighten after Q3 review", target=25)
    client.force_login(superuser)
    response = client.get(reverse("admin:kpis_kpidefinition_history", args=[mttr.pk]))
    assert response.status_code == 200
    latest = response.context["change_log"][0]
    assert (latest.version, latest.user, latest.reason) == (2, "olivia", "Tighten after Q3 review")
    page = response.content.decode()
    assert "Tighten after Q3 review" in page
    assert "<strong>target</strong>: 30.0 &rarr; 25.0" in page
    assert latest.when.strftime("%Y-%m-%d %H:%M") in page


def test_a_revert_in_the_admin_needs_a_reason_and_is_recorded_as_a_new_change(client, superuser, mttr):
    services.change_definition(mttr, actor=None, reason="Ownership moved", owner_role="SRE Lead")
    first = mttr.history.earliest()
    client.force_login(superuser)

    refused = client.post(version_url(mttr, first.history_id), {"change_reason": ""})
    assert refused.status_code == 200
    assert stored(mttr).owner_role == "SRE Lead"

    response = client.post(version_url(mttr, first.history_id), {"change_reason": "Tightened too early"})
    assert response.status_code == 302
    assert stored(mttr).owner_role == "Ops Leader"
    latest = mttr.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (superuser, "Reverted to version 1: Tightened too early")
    assert mttr.history.count() == 3


def test_the_version_page_shows_what_a_revert_would_change(client, superuser, mttr):
    services.change_definition(mttr, actor=None, reason="Tighten", target=25)
    client.force_login(superuser)
    response = client.get(version_url(mttr, mttr.history.earliest().history_id))
    assert [(change.field, change.old, change.new) for change in response.context["revert_changes"]] == [("target", 25.0, 30.0)]


def test_a_kpi_owner_can_change_their_own_definition_but_not_its_owner(client, olivia, sam, mttr):
    client.force_login(olivia)
    response = client.post(change_url(mttr), form_data(mttr, name="Time to resolve", owner=sam.pk, change_reason="Clearer name"))
    assert response.status_code == 302
    assert (stored(mttr).name, stored(mttr).owner) == ("Time to resolve", olivia)
    assert mttr.history.latest().history_user == olivia


def test_a_kpi_owner_posting_to_another_owners_change_form_changes_nothing(client, sam, mttr):
    client.force_login(sam)
    response = client.post(change_url(mttr), form_data(mttr, target=25, change_reason="Not mine"))
    assert response.status_code == 403
    assert stored(mttr).target == 30
    assert mttr.history.count() == 1


def test_a_kpi_owner_sees_another_owners_definition_read_only(client, sam, mttr):
    client.force_login(sam)
    listing = client.get(reverse("admin:kpis_kpidefinition_changelist"))
    assert "mttr" in listing.content.decode()
    response = client.get(change_url(mttr))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert "Reason for this change" not in response.content.decode()
    assert "Reason for this change" in client.get(reverse("admin:kpis_kpidefinition_change", args=[
        KpiDefinitionFactory(slug="mtta", owner=sam).pk
    ])).content.decode()


def test_a_kpi_owner_cannot_revert_another_owners_definition(client, sam, mttr):
    services.change_definition(mttr, actor=None, reason="Tighten", target=25)
    client.force_login(sam)
    response = client.post(version_url(mttr, mttr.history.earliest().history_id), {"change_reason": "Not mine"})
    assert response.status_code == 403
    assert stored(mttr).target == 25


def test_an_auditor_can_read_definitions_their_history_and_reviews(client, auditor, mttr, olivia):
    services.change_definition(mttr, actor=olivia, reason="Tighten", target=25)
    services.record_review(mttr, reviewer=olivia, outcome="confirmed")
    client.force_login(auditor)
    pages = [
        reverse("admin:kpis_kpidefinition_changelist"),
        change_url(mttr),
        reverse("admin:kpis_kpidefinition_history", args=[mttr.pk]),
        version_url(mttr, mttr.history.earliest().history_id),
        reverse("admin:kpis_historicalkpidefinition_changelist"),
        reverse("admin:kpis_kpireview_changelist"),
    ]
    assert [client.get(page).status_code for page in pages] == [200] * len(pages)
    assert "Tighten" in client.get(pages[2]).content.decode()


def test_an_auditor_cannot_change_add_or_revert_a_definition(client, auditor, mttr):
    services.change_definition(mttr, actor=None, reason="Tighten", target=25)
    client.force_login(auditor)
    assert client.post(change_url(mttr), form_data(mttr, target=1, change_reason="Audit")).status_code == 403
    assert client.post(version_url(mttr, mttr.history.earliest().history_id), {"change_reason": "Audit"}).status_code == 403
    assert client.get(reverse("admin:kpis_kpidefinition_add")).status_code == 403
    assert stored(mttr).target == 25
    assert mttr.history.count() == 2


def test_history_rows_cannot_be_changed_or_deleted_through_the_admin_even_by_a_superuser(client, superuser, mttr):
    record = mttr.history.get()
    client.force_login(superuser)
    change = client.post(
        reverse("admin:kpis_historicalkpidefinition_change", args=[record.history_id]),
        {"history_change_reason": "Rewritten", "target": 1},
    )
    delete = client.post(reverse("admin:kpis_historicalkpidefinition_delete", args=[record.history_id]), {"post": "yes"})
    assert (change.status_code, delete.status_code) == (403, 403)
    record.refresh_from_db()
    assert (record.history_change_reason, record.target) == ("Created by a test factory", 30)


def test_mark_reviewed_asks_for_the_outcome_then_records_the_review(client, olivia, mttr):
    KpiDefinition.objects.filter(pk=mttr.pk).update(next_review_due=timezone.localdate())
    client.force_login(olivia)
    changelist = reverse("admin:kpis_kpidefinition_changelist")
    selection = {"action": "mark_reviewed", ACTION_CHECKBOX_NAME: [mttr.pk]}

    asked = client.post(changelist, selection)
    assert asked.status_code == 200
    assert "outcome" in asked.context["form"].fields
    assert not KpiReview.objects.exists()

    done = client.post(changelist, {**selection, "apply": "1", "outcome": "changed", "notes": "Split by severity"})
    assert done.status_code == 302
    review = KpiReview.objects.get()
    assert (review.kpi, review.reviewer, review.outcome, review.notes) == (mttr, olivia, "changed", "Split by severity")
    assert stored(mttr).next_review_due > timezone.localdate()


def test_a_kpi_owner_can_mark_only_their_own_definitions_reviewed(client, sam, mttr):
    client.force_login(sam)
    client.post(
        reverse("admin:kpis_kpidefinition_changelist"),
        {"action": "mark_reviewed", ACTION_CHECKBOX_NAME: [mttr.pk], "apply": "1", "outcome": "confirmed"},
    )
    assert not KpiReview.objects.exists()


def test_mark_reviewed_is_offered_to_kpi_owners_and_not_to_auditors(client, auditor, olivia, mttr):
    changelist = reverse("admin:kpis_kpidefinition_changelist")
    client.force_login(olivia)
    assert "Mark reviewed" in client.get(changelist).content.decode()
    client.force_login(auditor)
    assert "Mark reviewed" not in client.get(changelist).content.decode()


def test_the_overdue_filter_lists_only_definitions_due_for_review(client, superuser, mttr):
    overdue = KpiDefinitionFactory(slug="mtta")
    KpiDefinition.objects.filter(pk=overdue.pk).update(next_review_due=timezone.localdate())
    client.force_login(superuser)
    response = client.get(reverse("admin:kpis_kpidefinition_changelist"), {"review_overdue": "yes"})
    assert [kpi.slug for kpi in response.context["cl"].result_list] == ["mtta"]
    response = client.get(reverse("admin:kpis_kpidefinition_changelist"), {"review_overdue": "no"})
    assert [kpi.slug for kpi in response.context["cl"].result_list] == ["mttr"]


def test_the_admin_lists_observations_read_only(client):
    observation = ObservationFactory(value=87.5)
    client.force_login(UserFactory(username="root", is_superuser=True))
    changelist = client.get("/admin/kpis/observation/")
    assert changelist.status_code == 200
    assert observation.kpi.slug in changelist.content.decode()
    assert client.get("/admin/kpis/observation/add/").status_code == 403
