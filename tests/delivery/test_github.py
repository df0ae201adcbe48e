"""
GitHub webhooks end to end: deliveries as GitHub sends them (recorded bodies and headers, signed with the
integration's secret) become changes, deployments and builds of the linked service, once each.
"""
import datetime
import json
import logging
import urllib.parse

import pytest

from connectors.choices import EventStatus
from connectors.models import ServiceLink, SourceEvent
from connectors.signatures import sign_github
from delivery.models import BuildRun, Change, Deployment
from kpis import roles
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from tests.companyos.factories import UserFactory
from tests.connectors.factories import IntegrationFactory
from tests.helpers import FIXTURES_DIR, client_for, member_of
from tests.tenancy.factories import ServiceFactory

pytestmark = pytest.mark.django_db

FIXTURES = FIXTURES_DIR / "github"
# The recorded headers of each delivery; the bodies are signed with IntegrationFactory's secret.
RECORDED_HEADERS = json.loads((FIXTURES / "headers.json").read_text())
REPOSITORY = "octo-org/payments-api"
MERGE_SHA = "9c4f1e2b7d3a8c6e5f0a1b2c3d4e5f6a7b8c9d0e"
UTC = datetime.timezone.utc


def recorded(event):
    """The body (bytes, as sent) and the headers of the recorded `event` delivery."""
    return (FIXTURES / f"{event}.json").read_bytes(), dict(RECORDED_HEADERS[f"{event}.json"])


def payload_of(event):
    return json.loads(recorded(event)[0])


def post(client, integration, body, headers):
    headers = {name: value for name, value in headers.items() if name != "Content-Type"}
    url = f"/api/webhooks/github/{integration.pk}/"
    return client.post(url, data=body, content_type="application/json", headers=headers)


def deliver(client, integration, event, payload, delivery_id):
    """`payload` as GitHub would deliver it to `integration`: signed, with its event and delivery headers."""
    body = json.dumps(payload).encode()
    headers = {
        "User-Agent": "GitHub-Hookshot/7b1c2a4",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": sign_github(integration.secret, body),
    }
    return post(client, integration, body, headers)


@pytest.fixture
def payments():
    return ServiceFactory(slug="payments", domain__slug="checkout", domain__company__slug="comp-octo")


@pytest.fixture
def integration(payments):
    integration = IntegrationFactory(kind="github", name="octo-org", company=payments.domain.company)
    ServiceLink.objects.create(integration=integration, external_id=REPOSITORY, service=payments)
    return integration


def test_a_merge_its_ci_run_and_its_deployment_as_github_sends_them(client, integration, payments, computed_kpis):
    answers = {}
    for event in ("ping", "pull_request", "push", "workflow_run", "check_suite", "deployment", "deployment_status"):
        response = post(client, integration, *recorded(event))
        assert response.status_code == 200, response.content
        answers[event] = response.json()

    change = Change.objects.get()
    assert (change.service, change.company, change.repository, change.sha, change.pull_request) == (
        payments, payments.domain.company, REPOSITORY, MERGE_SHA, 42
    )
    assert change.title == "Retry card captures on gateway timeouts"
    # The push's first commit (07:45:12+01:00) is earlier than the pull request's opening (08:10Z).
    assert change.first_commit_at == datetime.datetime(2024, 1, 15, 6, 45, 12, tzinfo=UTC)
    assert change.merged_at == datetime.datetime(2024, 1, 15, 11, 30, tzinfo=UTC)
    deployment = Deployment.objects.get()
    assert (deployment.deployment_id, deployment.environment, deployment.production, deployment.sha) == (
        1187654321, "production", True, MERGE_SHA
    )
    assert deployment.state == "success"
    assert deployment.finished_at == datetime.datetime(2024, 1, 15, 11, 41, 30, tzinfo=UTC)
    build = BuildRun.objects.get()  # the workflow run and its check suite are one build
    assert (build.kind, build.name, build.conclusion) == ("workflow_run", "CI", "success")
    assert build.check_suite_id == 20412345678

    assert answers["ping"]["status"] == "ignored"
    assert answers["pull_request"] == {
        "event": answers["pull_request"]["event"], "status": "processed", "detail": "", "redelivery": False,
        "produced": {"delivery.change": [change.pk]},
    }
    assert answers["push"]["produced"] == {"delivery.change": [change.pk]}
    assert answers["deployment_status"]["produced"] == {"delivery.deployment": [deployment.pk]}
    event = SourceEvent.objects.get(pk=answers["deployment_status"]["event"])
    assert (event.source, event.event_type, event.delivery_id, event.integration, event.company) == (
        "github", "deployment_status", "1f7e2c60-b3a2-11ee-9a55-bf7a9b3c5d67", integration, payments.domain.company
    )
    assert event.payload == payload_of("deployment_status")
    assert change.source_event.event_type == "pull_request" and deployment.source_event.event_type == "deployment"

    day, next_day = datetime.date(2024, 1, 15), datetime.date(2024, 1, 16)
    for slug in ("lead-time-for-changes", "deployment-frequency", "build-success-rate", "change-failure-rate"):
        compute_observations(slug, since=day, until=next_day, source=ObservationSource.BACKFILL, run="test")
    values = dict(Observation.objects.values_list("kpi__slug", "value"))
    assert values["lead-time-for-changes"] == pytest.approx(4 + 56 / 60 + 18 / 3600)  # 06:45:12 -> 11:41:30
    assert values["deployment-frequency"] == pytest.approx(1 / 7)
    assert values["build-success-rate"] == 100.0
    assert values["change-failure-rate"] == 0.0


def test_a_ping_is_answered_and_kept_as_ignored(client, integration):
    response = post(client, integration, *recorded("ping"))

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert "ping: webhook 451236789 is set up" in response.json()["detail"]
    assert SourceEvent.objects.get().event_type == "ping"


def signed_with(secret):
    return lambda body, headers: (body, {**headers, "X-Hub-Signature-256": sign_github(secret, body)})


def unsigned(body, headers):
    return body, {name: value for name, value in headers.items() if name != "X-Hub-Signature-256"}


def changed_body(body, headers):
    return body.replace(b'"success"', b'"failure"'), headers


def sha1_scheme(body, headers):
    return body, {**headers, "X-Hub-Signature-256": headers["X-Hub-Signature"]}


@pytest.mark.parametrize("tamper", [signed_with("not the secret"), unsigned, changed_body, sha1_scheme])
def test_a_delivery_whose_signature_does_not_match_is_refused_and_logged(client, integration, caplog, tamper):
    body, headers = tamper(*recorded("deployment_status"))

    with caplog.at_level(logging.WARNING, logger="connectors.api.views"):
        response = post(client, integration, body, headers)

    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("X-Hub-Signature-256:")
    assert f"Refused a github delivery to integration {integration.pk}" in caplog.text
    assert not SourceEvent.objects.exists() and not Deployment.objects.exists()


def test_a_delivery_to_an_unknown_inactive_or_other_kind_of_integration_is_refused(client, integration, caplog):
    body, headers = recorded("push")
    pagerduty = IntegrationFactory(kind="pagerduty", company=integration.company)
    inactive = IntegrationFactory(kind="github", company=integration.company, active=False)

    with caplog.at_level(logging.WARNING, logger="connectors.api.views"):
        for integration_id in (integration.pk + 1000, pagerduty.pk, inactive.pk):
            response = client.post(
                f"/api/webhooks/github/{integration_id}/", data=body, content_type="application/json",
                headers={name: value for name, value in headers.items() if name != "Content-Type"},
            )
            assert response.status_code == 401

    assert caplog.text.count("no such active integration") == 3
    assert not SourceEvent.objects.exists()


def test_a_redelivery_changes_nothing(client, integration):
    first = post(client, integration, *recorded("pull_request"))
    again = post(client, integration, *recorded("pull_request"))

    assert first.json()["redelivery"] is False
    assert again.status_code == 200
    assert again.json()["redelivery"] is True and again.json()["event"] == first.json()["event"]
    assert again.json()["produced"] == first.json()["produced"]
    assert Change.objects.count() == 1 and SourceEvent.objects.count() == 1


def test_an_unlinked_repository_is_kept_and_ignored_naming_it(client, integration):
    payload = payload_of("deployment_status")
    payload["repository"]["full_name"] = "octo-org/ledger"

    response = deliver(client, integration, "deployment_status", payload, "delivery-unlinked")

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert response.json()["detail"] == (
        "The repository octo-org/ledger is not linked to a service of the integration 'octo-org'."
    )
    assert SourceEvent.objects.get().payload["repository"]["full_name"] == "octo-org/ledger"
    assert not Deployment.objects.exists()


def test_an_event_that_is_not_read_is_kept_and_ignored(client, integration):
    response = deliver(client, integration, "issues", {"action": "opened", "issue": {"number": 7}}, "delivery-issue")

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert response.json()["detail"].startswith("GitHub event 'issues' is not read")


@pytest.mark.parametrize("header", ["X-GitHub-Delivery", "X-GitHub-Event"])
def test_a_delivery_without_githubs_headers_is_refused_naming_the_header(client, integration, header):
    body, headers = recorded("push")
    del headers[header]

    response = post(client, integration, body, headers)

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(f"{header}:")
    assert not SourceEvent.objects.exists()


def test_a_malformed_payload_is_refused_naming_the_field_and_kept_as_failed(client, integration):
    payload = payload_of("pull_request")
    del payload["pull_request"]["merged_at"]

    response = deliver(client, integration, "pull_request", payload, "delivery-malformed")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "pull_request.merged_at: Missing from the payload."
    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED and "pull_request.merged_at" in event.detail
    assert not Change.objects.exists()


def test_unmerged_pull_requests_and_pushes_to_other_branches_are_not_changes(client, integration):
    unmerged = payload_of("pull_request")
    unmerged["pull_request"].update(merged=False, merged_at=None, merge_commit_sha=None)
    into_release = payload_of("pull_request")
    into_release["pull_request"]["base"]["ref"] = "release/2024.01"
    feature_push = payload_of("push")
    feature_push["ref"] = "refs/heads/retry-captures"
    opened = {**payload_of("pull_request"), "action": "opened"}

    details = [
        deliver(client, integration, event, payload, f"delivery-{n}").json()["detail"]
        for n, (event, payload) in enumerate(
            [("pull_request", unmerged), ("pull_request", into_release), ("push", feature_push),
             ("pull_request", opened)]
        )
    ]

    assert details == [
        "octo-org/payments-api#42 was closed without being merged.",
        "octo-org/payments-api#42 was merged into release/2024.01, not the default branch main.",
        "A push to refs/heads/retry-captures of octo-org/payments-api: only pushes to the default branch main are "
        "changes.",
        "pull_request 'opened' of octo-org/payments-api#42: only merges are changes.",
    ]
    assert not Change.objects.exists()


def test_the_push_and_the_pull_request_of_one_merge_are_one_change_whichever_comes_first(client, integration):
    post(client, integration, *recorded("push"))
    change = Change.objects.get()
    assert change.pull_request is None
    assert change.merged_at == datetime.datetime(2024, 1, 15, 11, 30, 1, tzinfo=UTC)  # the push's time

    post(client, integration, *recorded("pull_request"))

    change = Change.objects.get()
    assert (change.pull_request, change.title) == (42, "Retry card captures on gateway timeouts")
    assert change.first_commit_at == datetime.datetime(2024, 1, 15, 6, 45, 12, tzinfo=UTC)
    assert change.merged_at == datetime.datetime(2024, 1, 15, 11, 30, tzinfo=UTC)  # the merge's time


def test_a_direct_push_to_the_default_branch_is_a_change_from_its_first_commit(client, integration):
    post(client, integration, *recorded("push"))

    change = Change.objects.get()
    assert (change.sha, change.first_commit_at) == (MERGE_SHA, datetime.datetime(2024, 1, 15, 6, 45, 12, tzinfo=UTC))
    assert change.title == "Merge pull request #42 from octo-org/retry-captures"


def test_deployment_statuses_apply_in_githubs_order_whatever_order_they_arrive_in(client, integration):
    success = payload_of("deployment_status")
    in_progress = payload_of("deployment_status")
    in_progress["deployment_status"].update(id=2287650000, state="in_progress", created_at="2024-01-15T11:34:20Z")
    inactive = payload_of("deployment_status")
    inactive["deployment_status"].update(id=2287699999, state="inactive", created_at="2024-01-16T09:00:00Z")

    deliver(client, integration, "deployment_status", success, "status-success")  # before the deployment event
    post(client, integration, *recorded("deployment"))
    deliver(client, integration, "deployment_status", in_progress, "status-in-progress")  # older, late
    answer = deliver(client, integration, "deployment_status", inactive, "status-inactive").json()

    deployment = Deployment.objects.get()
    assert (deployment.state, deployment.status_id) == ("success", 2287654321)
    assert deployment.finished_at == datetime.datetime(2024, 1, 15, 11, 41, 30, tzinfo=UTC)
    assert deployment.source_event.delivery_id == "status-success"
    assert answer["status"] == "ignored"
    assert answer["detail"] == (
        "Deployment 1187654321 of octo-org/payments-api became 'inactive', which is not an outcome: its state stays."
    )


def test_a_deployment_outside_production_is_kept_as_such(client, integration):
    staging = payload_of("deployment")
    staging["deployment"].update(environment="staging", original_environment="staging", production_environment=False)
    unflagged = payload_of("deployment")
    del unflagged["deployment"]["production_environment"]
    unflagged["deployment"]["id"] += 1

    deliver(client, integration, "deployment", staging, "delivery-staging")
    deliver(client, integration, "deployment", unflagged, "delivery-unflagged")

    assert dict(Deployment.objects.values_list("deployment_id", "production")) == {1187654321: False, 1187654322: True}


def test_a_workflow_run_names_the_build_of_its_check_suite_and_a_rerun_replaces_its_conclusion(client, integration):
    failed = payload_of("check_suite")
    failed["check_suite"].update(conclusion="failure", updated_at="2024-01-15T11:36:00Z")
    deliver(client, integration, "check_suite", failed, "suite-failed")
    assert BuildRun.objects.get().name == "GitHub Actions"

    post(client, integration, *recorded("workflow_run"))  # completed later: the re-run passed

    build = BuildRun.objects.get()
    assert (build.kind, build.name, build.run_id, build.conclusion) == ("workflow_run", "CI", 7712345678, "success")
    assert build.completed_at == datetime.datetime(2024, 1, 15, 11, 38, tzinfo=UTC)


def test_auditors_read_what_github_reported_in_the_admin_linked_to_its_delivery(client, integration):
    post(client, integration, *recorded("deployment_status"))
    deployment = Deployment.objects.get()
    auditor = member_of(roles.AUDITORS, "audrey")
    client.force_login(auditor)

    listing = client.get("/admin/delivery/deployment/")
    detail = client.get(f"/admin/delivery/deployment/{deployment.pk}/change/")

    assert listing.status_code == 200 and detail.status_code == 200
    assert f'/admin/connectors/sourceevent/{deployment.source_event_id}/change/' in listing.content.decode()
    assert client.post(f"/admin/delivery/deployment/{deployment.pk}/delete/").status_code == 403
    client.force_login(UserFactory(username="nobody"))
    assert client.get("/admin/delivery/deployment/").status_code == 403
    assert client_for(auditor).get("/api/source-events/?source=github").json()["results"][0]["event_type"] == (
        "deployment_status"
    )


def form_encoded(event, *, secret):
    """The recorded `event` as GitHub sends it with its default content type: the JSON in a `payload` form field."""
    body, headers = recorded(event)
    form = urllib.parse.urlencode({"payload": body.decode()}).encode()
    return form, {**headers, "X-Hub-Signature-256": sign_github(secret, form)}


def test_a_form_encoded_delivery_is_read_and_its_signature_checked_over_the_form_as_sent(client, integration):
    form, headers = form_encoded("ping", secret=integration.secret)
    url = f"/api/webhooks/github/{integration.pk}/"
    headers = {name: value for name, value in headers.items() if name != "Content-Type"}

    response = client.post(url, data=form, content_type="application/x-www-form-urlencoded", headers=headers)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ignored" and "ping: webhook 451236789 is set up" in response.json()["detail"]
    assert SourceEvent.objects.get().payload == payload_of("ping")


def test_a_form_encoded_delivery_signed_over_its_json_alone_is_refused(client, integration):
    form, headers = form_encoded("ping", secret=integration.secret)
    headers = {name: value for name, value in headers.items() if name != "Content-Type"}
    headers["X-Hub-Signature-256"] = sign_github(integration.secret, recorded("ping")[0])

    response = client.post(
        f"/api/webhooks/github/{integration.pk}/", data=form, content_type="application/x-www-form-urlencoded", headers=headers
    )

    assert response.status_code == 401
    assert not SourceEvent.objects.exists()


def test_a_form_without_a_payload_field_is_a_400_naming_it(client, integration):
    form = b"hook=1"
    response = client.post(
        f"/api/webhooks/github/{integration.pk}/", data=form, content_type="application/x-www-form-urlencoded",
        headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-9", "X-Hub-Signature-256": sign_github(integration.secret, form)},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("payload:")
