"""Receiving payloads: kept verbatim, applied once, all or nothing, traceable, and readable by auditors only."""
import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from connectors.choices import EventStatus
from connectors.models import Integration, SourceEvent
from connectors.services import Ignored, receive, save_integration, upload_delivery_id
from connectors.signatures import (
    github_signature_valid,
    pagerduty_signature_valid,
    sign_github,
    sign_pagerduty,
)
from tenancy.models import Company
from tenancy.roles import ALL_COMPANIES
from kpis import roles
from tests.connectors.factories import IntegrationFactory
from tests.helpers import client_for, member_of
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def create_company(event):
    company = Company.objects.create(slug=event.payload["slug"], name="From a payload")
    return {"incidents.company": [company.pk]}


def test_a_payload_is_kept_with_what_it_produced():
    received = receive("github", "delivery-1", create_company, event_type="ping", payload={"slug": "comp-new"})

    event = SourceEvent.objects.get()
    assert received.created and event.status == EventStatus.PROCESSED
    assert event.payload == {"slug": "comp-new"}
    assert event.produced == {"incidents.company": [Company.objects.get(slug="comp-new").pk]}


def test_a_redelivery_changes_nothing():
    receive("github", "delivery-1", create_company, payload={"slug": "comp-new"})
    again = receive("github", "delivery-1", create_company, payload={"slug": "comp-new"})

    assert not again.created
    assert Company.objects.filter(slug="comp-new").count() == 1
    assert SourceEvent.objects.count() == 1


def test_a_failed_payload_is_kept_applies_nothing_and_is_retried_on_redelivery():
    def half_then_fail(event):
        Company.objects.create(slug="comp-half", name="Half")
        raise ValidationError({"rows[2].amount": "Not a number: 'ten'."})

    with pytest.raises(ValidationError):
        receive("billing-csv", "file-1", half_then_fail, raw="a,b\n")

    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert "rows[2].amount: Not a number: 'ten'." in event.detail
    assert not Company.objects.filter(slug="comp-half").exists()

    retried = receive("billing-csv", "file-1", create_company, payload={"slug": "comp-fixed"})
    assert retried.created and SourceEvent.objects.get().status == EventStatus.PROCESSED


def test_an_ignored_payload_says_why():
    def not_ours(event):
        raise Ignored("The repository octo/unknown is not linked to a service.")

    received = receive("github", "delivery-2", not_ours, payload={})

    assert received.event.status == EventStatus.IGNORED
    assert received.event.detail == "The repository octo/unknown is not linked to a service."


def test_upload_delivery_ids_tell_files_and_scopes_apart():
    assert upload_delivery_id(b"report", "api") == upload_delivery_id(b"report", "api")
    assert upload_delivery_id(b"report", "api") != upload_delivery_id(b"report", "web")
    assert upload_delivery_id(b"report", "api") != upload_delivery_id(b"report2", "api")


@pytest.mark.parametrize(
    "sign, valid",
    [(sign_github, github_signature_valid), (sign_pagerduty, pagerduty_signature_valid)],
)
def test_signatures_accept_the_secret_and_refuse_anything_else(sign, valid):
    body = b'{"zen": "Keep it logically awesome."}'
    assert valid("s3cret", body, sign("s3cret", body))
    assert not valid("s3cret", body, sign("other", body))
    assert not valid("s3cret", body + b" ", sign("s3cret", body))
    assert not valid("s3cret", body, "")
    assert not valid("", body, sign("", body))


def test_github_signature_matches_githubs_documented_example():
    # GitHub's docs: secret "It's a Secret to Everybody", payload "Hello, World!".
    assert sign_github("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_pagerduty_accepts_any_of_several_signatures_while_a_secret_rotates():
    body = b"{}"
    header = f"{sign_pagerduty('old', body)}, {sign_pagerduty('new', body)}"
    assert pagerduty_signature_valid("new", body, header)
    assert pagerduty_signature_valid("old", body, header)


def test_an_integrations_secret_changes_are_audited_without_the_secret(superuser):
    integration = save_integration(
        Integration(kind="github", name="acme-org", company=CompanyFactory()),
        actor=superuser, reason="Connect Acme's GitHub", secret="first",
    )
    save_integration(integration, actor=superuser, reason="Rotate the secret", secret="second")

    history = list(integration.history.order_by("history_date"))
    assert [row.history_change_reason for row in history] == ["Connect Acme's GitHub", "Rotate the secret"]
    assert history[1].secret_set_at > history[0].secret_set_at
    assert not hasattr(history[0], "secret")


def test_a_webhook_integration_needs_a_company_and_a_secret(superuser):
    with pytest.raises(ValidationError) as error:
        save_integration(Integration(kind="pagerduty", name="pd"), actor=superuser, reason="Connect")
    assert set(error.value.message_dict) == {"company", "secret"}


def portal_wide_auditor():
    """An auditor of every company: an event of no company (it created one) is theirs alone to read."""
    auditor = member_of(roles.AUDITORS)
    auditor.groups.add(Group.objects.get(name=ALL_COMPANIES))
    return auditor


def test_auditors_read_source_events_and_other_roles_do_not():
    IntegrationFactory()
    receive("github", "delivery-1", create_company, payload={"slug": "comp-new"})

    auditor = client_for(portal_wide_auditor())
    response = auditor.get("/api/source-events/?source=github")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["payload"] == {"slug": "comp-new"} and row["status"] == "processed"

    assert client_for(member_of(roles.EXECUTIVES)).get("/api/source-events/").status_code == 403


def test_a_time_filter_with_an_offset_postgresql_does_not_know_is_compared_in_utc():
    receive("github", "delivery-1", create_company, payload={"slug": "comp-new"})
    auditor = client_for(portal_wide_auditor())

    # ISO 8601 allows -20:26; PostgreSQL refuses offsets beyond 15:59.
    response = auditor.get("/api/source-events/", {"since": "2000-01-01T00:00:00-20:26", "source": "github"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
