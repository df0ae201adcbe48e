"""
Scanner reports (Trivy, Snyk, Gitleaks) uploaded through the API and the admin: kept as received, applied
once, the service's vulnerabilities opened, fixed and reopened, secrets never stored, bad input named.
"""
import copy
import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from connectors.choices import EventStatus
from connectors.models import SourceEvent
from demo.sources.scanners import seed_scanners
from kpis import roles
from security.models import ScanReport, SecretFinding, Vulnerability
from tests.helpers import FIXTURES_DIR, client_for, member_of
from tests.tenancy.factories import CompanyFactory, DomainFactory, ServiceFactory

pytestmark = pytest.mark.django_db

FIXTURES = FIXTURES_DIR / "scanners"
TRIVY_SCANNED_AT = datetime.datetime(2024, 5, 6, 9, 30, 12, 401736, tzinfo=datetime.timezone.utc)


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def service(db):
    return ServiceFactory(slug="gateway", domain=DomainFactory(slug="api-gateway", company=CompanyFactory(slug="comp-acme")))


@pytest.fixture
def data_source(db):
    return client_for(member_of(roles.DATA_SOURCES, "scanner-bot"))


def upload(client, scanner, report, company="comp-acme", service="gateway", **params):
    """POST a report (a dict, list or bytes) as the JSON body; the service named in the query."""
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    query = "&".join(f"{key}={value}" for key, value in {"company": company, "service": service, **params}.items())
    return client.post(f"/api/scans/{scanner}/?{query}", data=body, content_type="application/json")


def trivy_report(created_at="2024-05-06T09:30:12.401736188Z", drop=()):
    """The Trivy fixture at another scan time, without the vulnerabilities whose IDs are in `drop`."""
    report = fixture("trivy-image.json")
    report["CreatedAt"] = created_at
    for result in report["Results"]:
        if "Vulnerabilities" in result:
            result["Vulnerabilities"] = [v for v in result["Vulnerabilities"] if v["VulnerabilityID"] not in drop]
    return report


def state(service):
    return {
        (v.vulnerability_id, v.package): (v.severity, v.first_seen_at, v.fixed_at)
        for v in Vulnerability.objects.filter(service=service)
    }


# --- Trivy ------------------------------------------------------------------------------------------------------


def test_a_trivy_report_opens_its_vulnerabilities_at_its_own_scan_time(data_source, service):
    response = upload(data_source, "trivy", (FIXTURES / "trivy-image.json").read_bytes())

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "processed" and body["redelivery"] is False
    assert body["counts"] == {"opened": 5, "reopened": 0, "fixed": 0, "unchanged": 0}
    # CVE-2024-0727 is in two packages: two vulnerabilities; the clean go.mod target adds none.
    assert state(service) == {
        ("CVE-2023-45853", "zlib"): ("critical", TRIVY_SCANNED_AT, None),
        ("CVE-2024-0727", "libcrypto3"): ("medium", TRIVY_SCANNED_AT, None),
        ("CVE-2024-0727", "libssl3"): ("medium", TRIVY_SCANNED_AT, None),
        ("CVE-2023-6237", "libcrypto3"): ("low", TRIVY_SCANNED_AT, None),
        ("CVE-2023-39325", "golang.org/x/net"): ("high", TRIVY_SCANNED_AT, None),
    }
    zlib = Vulnerability.objects.get(package="zlib")
    assert (zlib.installed_version, zlib.fixed_version, zlib.scanner) == ("1.3-r2", "1.3.1-r0", "trivy")
    event = SourceEvent.objects.get(pk=body["event"])
    assert (event.source, event.company, event.received_by.username) == ("trivy", service.domain.company, "scanner-bot")
    assert event.payload == fixture("trivy-image.json")
    assert event.produced["security.scanreport"] == [ScanReport.objects.get().pk]
    assert zlib.last_seen_event == event


def test_the_same_report_uploaded_again_changes_nothing(data_source, service):
    content = (FIXTURES / "trivy-image.json").read_bytes()
    upload(data_source, "trivy", content)
    before = state(service)

    again = upload(data_source, "trivy", content)

    assert again.status_code == 200
    assert again.json()["redelivery"] is True
    assert state(service) == before
    assert SourceEvent.objects.count() == 1 and ScanReport.objects.count() == 1


def test_a_newer_report_fixes_what_it_no_longer_lists_and_reopens_what_returns(data_source, service):
    upload(data_source, "trivy", trivy_report())
    later = upload(data_source, "trivy", trivy_report("2024-05-13T08:00:00Z", drop={"CVE-2023-45853", "CVE-2024-0727"}))

    assert later.json()["counts"] == {"opened": 0, "reopened": 0, "fixed": 3, "unchanged": 2}
    fixed_at = datetime.datetime(2024, 5, 13, 8, tzinfo=datetime.timezone.utc)
    assert state(service)[("CVE-2023-45853", "zlib")] == ("critical", TRIVY_SCANNED_AT, fixed_at)
    assert state(service)[("CVE-2023-39325", "golang.org/x/net")] == ("high", TRIVY_SCANNED_AT, None)

    # zlib regressed: reopened, its first report (and so its SLA clock) kept.
    again = upload(data_source, "trivy", trivy_report("2024-05-20T08:00:00Z", drop={"CVE-2024-0727"}))
    assert again.json()["counts"] == {"opened": 0, "reopened": 1, "fixed": 0, "unchanged": 2}
    assert state(service)[("CVE-2023-45853", "zlib")] == ("critical", TRIVY_SCANNED_AT, None)


def test_a_report_older_than_the_latest_changes_nothing_and_says_why(data_source, service):
    upload(data_source, "trivy", trivy_report("2024-05-13T08:00:00Z", drop={"CVE-2023-45853"}))
    before = state(service)

    older = upload(data_source, "trivy", trivy_report())

    assert older.status_code == 201
    assert older.json()["status"] == "ignored"
    assert "A newer Trivy report" in older.json()["detail"]
    assert state(service) == before and ScanReport.objects.count() == 1


@pytest.mark.parametrize(
    "break_it, field",
    [
        (lambda r: r["Results"][0]["Vulnerabilities"][3].update(Severity="SEVERE"), "Results[0].Vulnerabilities[3].Severity"),
        (lambda r: r["Results"][1]["Vulnerabilities"][0].pop("PkgName"), "Results[1].Vulnerabilities[0].PkgName"),
        (lambda r: r["Results"][0].update(Vulnerabilities={"CVE": 1}), "Results[0].Vulnerabilities"),
        (lambda r: r.update(SchemaVersion=1), "SchemaVersion"),
        (lambda r: r.update(CreatedAt="last tuesday"), "CreatedAt"),
    ],
)
def test_a_malformed_trivy_report_is_refused_naming_the_position_and_kept_as_failed(data_source, service, break_it, field):
    report = fixture("trivy-image.json")
    break_it(report)

    response = upload(data_source, "trivy", report)

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == [field] and error["message"].startswith(f"{field}: ")
    assert not Vulnerability.objects.exists() and not ScanReport.objects.exists()
    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED and event.detail.startswith(field)


def test_a_body_that_is_not_json_is_refused_with_its_line_and_column(data_source, service):
    response = upload(data_source, "trivy", b'{"SchemaVersion": 2,\n "Results": [}')

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "body: Not JSON: Expecting value at line 2 column 14."
    assert not SourceEvent.objects.exists()


def test_a_report_from_the_future_is_refused(data_source, service):
    response = upload(data_source, "trivy", trivy_report("2999-01-01T00:00:00Z"))

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["CreatedAt"]


# --- Naming the service, and who may upload ---------------------------------------------------------------------


def test_the_service_is_named_within_its_company_and_by_domain_when_ambiguous(data_source, service):
    ServiceFactory(slug="gateway", domain=DomainFactory(slug="edge", company=service.domain.company))

    ambiguous = upload(data_source, "trivy", trivy_report())
    assert ambiguous.status_code == 400
    assert ambiguous.json()["error"]["message"] == (
        "service: Several domains of 'comp-acme' have a service 'gateway': name one of api-gateway/gateway, edge/gateway."
    )
    assert upload(data_source, "trivy", trivy_report(), service="api-gateway/gateway").status_code == 201
    assert upload(data_source, "trivy", trivy_report(), company="comp-nope").json()["error"]["fields"] == {
        "company": ["No company has the slug 'comp-nope'."]
    }
    assert upload(data_source, "trivy", trivy_report(), service="billing").json()["error"]["fields"] == {
        "service": ["'comp-acme' has no service 'billing'."]
    }


def test_uploading_needs_a_data_sources_token(service, superuser):
    report = trivy_report()
    assert upload(APIClient(), "trivy", report).status_code == 401
    assert upload(client_for(member_of(roles.AUDITORS)), "trivy", report).status_code == 403
    session = APIClient()
    session.force_login(superuser)
    assert upload(session, "trivy", report).status_code == 403
    assert not SourceEvent.objects.exists()


def test_auditors_read_the_findings_and_data_sources_add_them():
    auditor, bot = member_of(roles.AUDITORS), member_of(roles.DATA_SOURCES)
    assert auditor.has_perms(["security.view_vulnerability", "security.view_secretfinding", "security.view_scanreport"])
    assert not auditor.has_perm("security.add_vulnerability")
    assert bot.has_perms(["security.add_vulnerability", "security.add_secretfinding"])


# --- Snyk -------------------------------------------------------------------------------------------------------


def test_a_snyk_result_uploaded_as_a_file_opens_each_issue_once(data_source, service):
    response = data_source.post(
        "/api/scans/snyk/",
        {
            "file": SimpleUploadedFile("snyk.json", (FIXTURES / "snyk-test-npm.json").read_bytes()),
            "company": "comp-acme", "service": "gateway", "scanned_at": "2024-05-07T06:00:00+02:00",
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    # lodash is listed once per dependency path; the GPL license issue is not a vulnerability.
    assert response.json()["counts"] == {"opened": 3, "reopened": 0, "fixed": 0, "unchanged": 0}
    scanned_at = datetime.datetime(2024, 5, 7, 4, tzinfo=datetime.timezone.utc)
    assert state(service) == {
        ("SNYK-JS-LODASH-567746", "lodash"): ("high", scanned_at, None),
        ("SNYK-JS-PROTOBUFJS-5756498", "protobufjs"): ("critical", scanned_at, None),
        ("SNYK-JS-AXIOS-6032459", "axios"): ("medium", scanned_at, None),
    }
    protobuf = Vulnerability.objects.get(package="protobufjs")
    assert (protobuf.aliases, protobuf.installed_version, protobuf.fixed_version) == ("CVE-2023-36665", "7.2.3", "6.11.4, 7.2.5")


def test_a_snyk_result_without_a_scan_time_is_scanned_when_uploaded(data_source, service):
    response = upload(data_source, "snyk", fixture("snyk-test-npm.json"))

    event = SourceEvent.objects.get(pk=response.json()["event"])
    assert Vulnerability.objects.get(package="axios").first_seen_at == event.received_at
    assert ScanReport.objects.get().scanned_at == event.received_at


def test_all_projects_output_is_read_project_by_project_and_errors_name_the_project(data_source, service):
    broken = fixture("snyk-test-npm.json")
    broken["vulnerabilities"][2]["severity"] = "urgent"

    response = upload(data_source, "snyk", [{"ok": True, "vulnerabilities": [], "projectName": "api"}, broken])

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        '[1].vulnerabilities[2].severity: "urgent" is not one of critical, high, medium, low.'
    )
    assert upload(data_source, "snyk", {"ok": False, "error": "Could not detect supported target files"}).json()["error"][
        "message"
    ] == "error: Snyk reported an error instead of a test result: Could not detect supported target files"


# --- Gitleaks ---------------------------------------------------------------------------------------------------


SECRETS = ("AKIAIOSFODNN7EXAMPLE", "sk_test_4eC39HqLyjWDarjtT1zdp7dc")


def test_gitleaks_findings_are_kept_with_their_secrets_redacted_everywhere(data_source, service):
    response = upload(data_source, "gitleaks", (FIXTURES / "gitleaks-detect.json").read_bytes())

    assert response.status_code == 201, response.json()
    assert response.json()["counts"] == {"opened": 2, "reopened": 0, "resolved": 0, "unchanged": 0}
    aws = SecretFinding.objects.get(rule_id="aws-access-token")
    assert (aws.file, aws.line, aws.commit) == ("deploy/settings/staging.py", 14, "7d3f5e1a9c2b4d6f8e0a1c3b5d7f9e2a4c6b8d0f")
    assert aws.match == 'AWS_ACCESS_KEY_ID = "REDACTED"'
    assert aws.found_at == datetime.datetime(2024, 5, 2, 16, 41, 7, tzinfo=datetime.timezone.utc)
    event = SourceEvent.objects.get()
    assert [finding["Secret"] for finding in event.payload] == ["REDACTED", "REDACTED"]
    assert event.payload[1]["Match"] == "STRIPE_KEY=REDACTED"
    stored = json.dumps([event.payload, event.delivery_id, list(SecretFinding.objects.values())], default=str)
    assert not any(secret in stored for secret in SECRETS)


def test_a_clean_gitleaks_report_resolves_the_findings_it_no_longer_lists(data_source, service):
    upload(data_source, "gitleaks", fixture("gitleaks-detect.json"), scanned_at="2024-05-06T10:00:00Z")

    clean = upload(data_source, "gitleaks", [], scanned_at="2024-05-13T10:00:00Z")

    assert clean.json()["counts"] == {"opened": 0, "reopened": 0, "resolved": 2, "unchanged": 0}
    assert set(SecretFinding.objects.values_list("resolved_at", flat=True)) == {
        datetime.datetime(2024, 5, 13, 10, tzinfo=datetime.timezone.utc)
    }


def test_a_malformed_gitleaks_report_is_refused_and_its_secret_not_kept(data_source, service):
    report = fixture("gitleaks-detect.json")
    report[1]["StartLine"] = "three"

    response = upload(data_source, "gitleaks", report)

    assert response.json()["error"]["message"] == '[1].StartLine: Expected a line number, got "three".'
    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert not any(secret in json.dumps(event.payload) for secret in SECRETS)
    assert upload(data_source, "gitleaks", {"findings": []}).json()["error"]["fields"] == {
        "body": ["A Gitleaks JSON report is an array of findings, got an object."]
    }


# --- Admin ------------------------------------------------------------------------------------------------------


def test_the_admin_upload_page_applies_a_report_like_the_api(superuser, service):
    browser = Client()
    browser.force_login(superuser)
    changelist = browser.get("/admin/security/vulnerability/")
    assert b"/admin/security/vulnerability/upload/" in changelist.content
    assert browser.get("/admin/security/vulnerability/upload/").status_code == 200

    response = browser.post(
        "/admin/security/vulnerability/upload/",
        {"scanner": "trivy", "service": service.pk, "file": SimpleUploadedFile("trivy.json", (FIXTURES / "trivy-image.json").read_bytes())},
        follow=True,
    )

    assert response.status_code == 200
    assert b"5 opened, 0 reopened, 0 fixed, 0 unchanged" in response.content
    assert Vulnerability.objects.filter(service=service).count() == 5
    assert SourceEvent.objects.get().received_by == superuser
    open_critical = browser.get("/admin/security/vulnerability/?severity__exact=critical&status=open")
    assert b"CVE-2023-45853" in open_critical.content and b"CVE-2023-39325" not in open_critical.content


def test_the_admin_upload_page_shows_what_is_wrong_with_a_report(superuser, service):
    browser = Client()
    browser.force_login(superuser)
    report = copy.deepcopy(fixture("trivy-image.json"))
    report["Results"][0]["Vulnerabilities"][3]["Severity"] = "SEVERE"

    response = browser.post(
        "/admin/security/vulnerability/upload/",
        {"scanner": "trivy", "service": service.pk, "file": SimpleUploadedFile("trivy.json", json.dumps(report).encode())},
    )

    assert response.status_code == 200
    assert b"Results[0].Vulnerabilities[3].Severity" in response.content
    assert not Vulnerability.objects.exists()


def test_auditors_see_the_findings_in_the_admin_but_not_the_upload_page(service):
    browser = Client()
    browser.force_login(member_of(roles.AUDITORS))

    findings = browser.get("/admin/security/secretfinding/")

    assert findings.status_code == 200 and b"Upload a scan report" not in findings.content
    assert browser.get("/admin/security/vulnerability/upload/").status_code == 403


# --- Demo -------------------------------------------------------------------------------------------------------


def test_the_demo_applies_real_format_reports_and_a_second_run_changes_nothing(service):
    ServiceFactory(slug="auth", domain=service.domain)
    end = datetime.datetime(2024, 5, 31, tzinfo=datetime.timezone.utc)
    start = end - datetime.timedelta(days=21)

    first = seed_scanners([service.domain.company], start, end, seed=3)

    reports = first["trivy reports"] + first["snyk reports"] + first["gitleaks reports"]
    assert first["trivy reports"] >= 6 and first["snyk reports"] >= 6 and first["gitleaks reports"] >= 4
    assert first["vulnerabilities opened"] == Vulnerability.objects.count() > 0
    assert SourceEvent.objects.filter(status=EventStatus.PROCESSED).count() == reports
    assert all(event.payload["SchemaVersion"] == 2 for event in SourceEvent.objects.filter(source="trivy"))
    assert all(
        finding["Secret"] == "REDACTED" for event in SourceEvent.objects.filter(source="gitleaks") for finding in event.payload
    )
    before = state(service)

    again = seed_scanners([service.domain.company], start, end, seed=3)

    assert again["reports redelivered"] == reports
    assert state(service) == before and SourceEvent.objects.count() == reports
