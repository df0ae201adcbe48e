"""CSV imports (billing MRR, AWS CUR, active users, feature flags): through the API and the admin, all or nothing, once."""
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from connectors.choices import EventStatus
from connectors.models import SourceEvent
from finance.models import CloudCostLineItem, RevenueRecord
from kpis import roles
from product.models import ActiveUser, FeatureFlagEvaluation
from tests.companyos.factories import UserFactory
from tests.helpers import FIXTURES_DIR, client_for, member_of
from tests.tenancy.factories import CompanyFactory

pytestmark = pytest.mark.django_db

FIXTURES = FIXTURES_DIR / "imports"

# kind -> (fixture file, model, source, rows in the file)
KINDS = {
    "billing": ("billing_mrr.csv", RevenueRecord, "billing-csv", 10),
    "cloud-cost": ("aws_cur_2024-01.csv", CloudCostLineItem, "cloud-cost-csv", 12),
    "active-users": ("active_users.csv", ActiveUser, "active-users-csv", 8),
    "feature-flags": ("feature_flag_evaluations.csv", FeatureFlagEvaluation, "feature-flags-csv", 6),
}


def fixture(name):
    return (FIXTURES / name).read_bytes()


def with_lines(content, replacements):
    """The file with whole lines replaced: {line number (1 = header): new line}."""
    lines = content.decode().splitlines()
    for number, line in replacements.items():
        lines[number - 1] = line
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def company(db):
    return CompanyFactory(slug="comp-acme")


@pytest.fixture
def data_source(db):
    return client_for(member_of(roles.DATA_SOURCES, "billing-exporter"))


def upload(client, kind, content, company="comp-acme"):
    return client.post(f"/api/imports/{kind}/?company={company}", content, content_type="text/csv")


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_imports_its_real_export_format_and_keeps_the_file(kind, company, data_source):
    name, model, source, rows = KINDS[kind]

    response = upload(data_source, kind, fixture(name))

    assert response.status_code == 201, response.json()
    assert response.json()["rows_applied"] == rows and response.json()["redelivery"] is False
    event = SourceEvent.objects.get()
    assert (event.source, event.event_type, event.company, event.status) == (source, kind, company, EventStatus.PROCESSED)
    assert event.raw == fixture(name).decode()
    assert event.received_by.username == "billing-exporter"
    assert event.produced == {model._meta.label_lower: rows}
    assert model.objects.filter(company=company, source_event=event).count() == rows


def test_billing_rows_keep_the_mrr_and_its_movements(company, data_source):
    upload(data_source, "billing", fixture("billing_mrr.csv"))

    fabrikam = RevenueRecord.objects.get(customer_id="cus_R2wJ5dHe", month=datetime.date(2024, 1, 1))
    assert (fabrikam.recurring_revenue, fabrikam.contraction, fabrikam.churn) == (Decimal("950.00"), Decimal("250.00"), 0)
    assert RevenueRecord.objects.get(customer_id="cus_S9mC3kTa").churn == Decimal("300.00")


def test_cur_line_items_keep_credits_negative_and_ignore_the_other_columns(company, data_source):
    upload(data_source, "cloud-cost", fixture("aws_cur_2024-01.csv"))

    credit = CloudCostLineItem.objects.get(line_item_type="Credit")
    assert credit.unblended_cost == Decimal(-5)
    assert credit.time_interval == "2024-01-01T00:00:00Z/2024-02-01T00:00:00Z"
    instance = CloudCostLineItem.objects.filter(usage_type="USW2-BoxUsage:m5.xlarge").earliest("usage_start")
    assert (instance.product_code, instance.product_name, instance.unblended_cost, instance.usage_account_id) == (
        "AmazonEC2", "Amazon Elastic Compute Cloud", Decimal("4.608"), "123456789012"
    )
    assert instance.usage_start == datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def test_feature_flag_results_become_enabled_or_not(company, data_source):
    upload(data_source, "feature-flags", fixture("feature_flag_evaluations.csv"))

    served = FeatureFlagEvaluation.objects.filter(day=datetime.date(2024, 1, 14), flag_key="bulk-export")
    assert sorted(served.values_list("variation", "enabled", "evaluations", "contexts")) == [
        ("csv-v2", True, 310, 41), ("off", False, 150, 29)
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_file_uploaded_again_changes_nothing(kind, company, data_source):
    name, model, _, _ = KINDS[kind]
    upload(data_source, kind, fixture(name))
    before = list(model.objects.values_list("pk", flat=True))

    again = upload(data_source, kind, fixture(name))

    assert again.status_code == 200
    assert again.json()["redelivery"] is True and again.json()["rows_applied"] == 0
    assert list(model.objects.values_list("pk", flat=True)) == before
    assert SourceEvent.objects.count() == 1


def test_a_cur_file_with_bad_rows_is_refused_naming_every_bad_line_and_applies_nothing(company, data_source):
    content = fixture("aws_cur_2024-01.csv")
    lines = content.decode().splitlines()
    bad = with_lines(content, {
        4: lines[3].replace(",2024-01-01T00:00:00Z,2024-01-02T00:00:00Z,", ",2024-01-32T00:00:00Z,2024-01-02T00:00:00Z,"),
        9: lines[8].replace(",USD,0.258,6.1920000000,", ",USD,0.258,-6.1920000000,"),
    })

    response = upload(data_source, "cloud-cost", bad)

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["line 4: lineItem/UsageStartDate", "line 9: lineItem/UnblendedCost"]
    assert "Datetime has wrong format" in fields["line 4: lineItem/UsageStartDate"][0]
    assert "a Usage line item is a cost" in fields["line 9: lineItem/UnblendedCost"][0]
    assert response.json()["error"]["message"].startswith("line 4: lineItem/UsageStartDate: ")
    assert not CloudCostLineItem.objects.exists()
    event = SourceEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert "line 4: lineItem/UsageStartDate" in event.detail and "line 9: lineItem/UnblendedCost" in event.detail


def test_a_billing_file_with_bad_rows_leaves_the_imported_months_as_they_were(company, data_source):
    upload(data_source, "billing", fixture("billing_mrr.csv"))
    before = sorted(RevenueRecord.objects.values_list("customer_id", "month", "recurring_revenue"))
    content = fixture("billing_mrr.csv")
    bad = with_lines(content, {
        4: "2024-1-40,cus_R2wJ5dHe,Fabrikam Logistics,Growth,900.00,0.00,0.00,300.00,0.00",
        9: "2024-02,cus_R2wJ5dHe,Fabrikam Logistics,Growth,-950.00,0.00,0.00,0.00,0.00",
    })

    response = upload(data_source, "billing", bad)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "line 4: month": ["Enter a month as YYYY-MM (or a date of it, YYYY-MM-DD)."],
        "line 9: mrr_usd": ["Not negative: amounts lost (contraction, churn) are given as positive numbers."],
    }
    assert sorted(RevenueRecord.objects.values_list("customer_id", "month", "recurring_revenue")) == before


def test_every_bad_cell_of_a_row_is_listed(company, data_source):
    content = b"date,tenant_id,user_id\n2024-01-14,,usr_1\n15/01/2024,tnt_a,\n"

    response = upload(data_source, "active-users", content)

    assert response.json()["error"]["fields"] == {
        "line 2: tenant_id": ["This field is required."],
        "line 3: date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "line 3: user_id": ["This field is required."],
    }


def test_a_missing_column_is_named_on_the_header_line(company, data_source):
    content = b"month,customer_id,mrr_usd,new_usd,expansion_usd,churn_usd\n2024-01,cus_1,100,0,0,0\n"

    response = upload(data_source, "billing", content)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"line 1: contraction_usd": ["This column is missing."]}


def test_a_row_repeated_in_the_file_is_refused_naming_both_lines(company, data_source):
    content = b"date,tenant_id,user_id\n2024-01-14,tnt_a,usr_1\n2024-01-14,tnt_b,usr_2\n2024-01-14,tnt_a,usr_1\n"

    response = upload(data_source, "active-users", content)

    assert response.json()["error"]["fields"] == {
        "line 4: date, tenant_id, user_id": ["Repeats line 2: the same date, tenant_id, user_id."]
    }


def test_more_contexts_than_evaluations_is_refused(company, data_source):
    content = b"date,flag_key,variation,result,evaluations,contexts\n2024-01-14,dark-mode,true,enabled,10,11\n"

    response = upload(data_source, "feature-flags", content)

    assert list(response.json()["error"]["fields"]) == ["line 2: contexts"]


def test_a_spreadsheet_export_with_bom_crlf_quoted_cells_and_blank_lines_is_read(company, data_source):
    content = (
        "\ufeffdate,tenant_id,user_id,note\r\n2024-01-14,tnt_a,usr_1,\"first, and\r\nmultiline\"\r\n\r\n"
        "2024-01-14,tnt_a,usr_2,,\r\n"  # a trailing empty cell, as some spreadsheets write
    ).encode()

    response = upload(data_source, "active-users", content)

    assert response.status_code == 201 and response.json()["rows_applied"] == 2


def test_line_numbers_count_records_as_a_spreadsheet_shows_them(company, data_source):
    content = b'date,tenant_id,user_id,note\n2024-01-14,tnt_a,usr_1,"two\nlines"\n2024-01-14,tnt_a,\n'

    response = upload(data_source, "active-users", content)

    assert list(response.json()["error"]["fields"]) == ["line 3: user_id"]


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(company, data_source):
    content = "date,tenant_id,user_id\n2024-01-14,tnt_münchen,usr_1\n".encode("latin-1")

    response = upload(data_source, "active-users", content)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["line 2"]
    assert not SourceEvent.objects.exists()


@pytest.mark.parametrize("content, message", [
    (b"", "file: The file is empty."),
    (b"\n\n", "line 1: The header row is missing; the columns are date, tenant_id, user_id, cohort."),
    (b"date,tenant_id,user_id\n", "line 2: The file has no data rows."),
    (b"date,tenant_id,user_id\n2024-01-14,tnt_a,usr_1,extra\n", "line 2: 4 values, but the header names 3 columns."),
    (b"date,tenant_id,user_id\n2024-01-14,tnt\x00,usr_1\n", "line 2: Contains a NUL character; this is not a CSV text file."),
])
def test_files_without_rows_are_refused_saying_why(content, message, company, data_source):
    response = upload(data_source, "active-users", content)

    assert response.status_code == 400 and response.json()["error"]["message"] == message


def test_a_multipart_file_upload_is_imported(company, data_source):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = data_source.post(
        "/api/imports/billing/?company=comp-acme",
        {"file": SimpleUploadedFile("mrr.csv", fixture("billing_mrr.csv"), content_type="text/csv")},
        format="multipart",
    )

    assert response.status_code == 201 and response.json()["rows_applied"] == 10


def test_a_later_export_of_a_month_replaces_that_month_only(company, data_source):
    upload(data_source, "billing", fixture("billing_mrr.csv"))
    january = set(RevenueRecord.objects.filter(month=datetime.date(2024, 1, 1)).values_list("pk", flat=True))
    restated_february = (
        b"month,customer_id,mrr_usd,new_usd,expansion_usd,contraction_usd,churn_usd\n"
        b"2024-02,cus_P4kR2mVx,5000.00,0,200.00,0,0\n"
        b"2024-02,cus_Q7tL9sBn,2400.00,0,1200.00,0,0\n"
    )

    response = upload(data_source, "billing", restated_february)

    assert response.json()["rows_applied"] == 2
    assert set(RevenueRecord.objects.filter(month=datetime.date(2024, 1, 1)).values_list("pk", flat=True)) == january
    assert sorted(RevenueRecord.objects.filter(month=datetime.date(2024, 2, 1)).values_list("customer_id", "recurring_revenue")) == [
        ("cus_P4kR2mVx", Decimal("5000.00")), ("cus_Q7tL9sBn", Decimal("2400.00"))
    ]


def test_a_refreshed_cur_replaces_its_billing_period_and_account_only(company, data_source):
    upload(data_source, "cloud-cost", fixture("aws_cur_2024-01.csv"))
    header, *line_items = fixture("aws_cur_2024-01.csv").decode().splitlines()
    other_account = [line.replace(",123456789012,Usage,", ",210987654321,Usage,") for line in line_items[:10]]
    upload(data_source, "cloud-cost", ("\n".join([header, *other_account]) + "\n").encode())
    assert CloudCostLineItem.objects.count() == 22
    refreshed = [header, *line_items[:2]]

    upload(data_source, "cloud-cost", ("\n".join(refreshed) + "\n").encode())

    assert CloudCostLineItem.objects.filter(usage_account_id="123456789012").count() == 2
    assert CloudCostLineItem.objects.filter(usage_account_id="210987654321").count() == 10


def test_a_company_deleted_takes_its_imports_and_files_with_it(company, data_source):
    for kind, (name, *_rest) in KINDS.items():
        upload(data_source, kind, fixture(name))

    company.delete()

    assert not SourceEvent.objects.exists()
    assert not any(model.objects.exists() for _, model, _, _ in KINDS.values())


@pytest.mark.parametrize("query, message", [
    ("", "company: Name the company: ?company=<slug>."),
    ("?company=comp-nowhere", "company: No company has the slug 'comp-nowhere'."),
])
def test_the_company_must_be_named_and_exist(query, message, company, data_source):
    response = data_source.post(f"/api/imports/billing/{query}", fixture("billing_mrr.csv"), content_type="text/csv")

    assert response.status_code == 400 and response.json()["error"]["message"] == message


def test_a_json_body_is_an_unsupported_format(company, data_source):
    response = data_source.post("/api/imports/billing/?company=comp-acme", {"rows": []}, format="json")

    assert response.status_code == 415


def test_uploads_need_a_data_source_token(company):
    auditor = member_of(roles.AUDITORS, "carol")
    session = client_for(UserFactory(username="browser"))
    session.credentials()
    session.force_login(member_of(roles.DATA_SOURCES, "exporter"))

    assert upload(client_for(auditor), "billing", fixture("billing_mrr.csv")).status_code == 403
    assert upload(session, "billing", fixture("billing_mrr.csv")).status_code == 403
    assert not SourceEvent.objects.exists()


# --- Admin ------------------------------------------------------------------------------------------


ADMIN_PAGES = {
    "billing": "finance_revenuerecord",
    "cloud-cost": "finance_cloudcostlineitem",
    "active-users": "product_activeuser",
    "feature-flags": "product_featureflagevaluation",
}


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def admin_upload(client, kind, content, company):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse(f"admin:{ADMIN_PAGES[kind]}_add"),
        {"kind": kind, "company": company.pk, "file": SimpleUploadedFile("export.csv", content, content_type="text/csv")},
        follow=True,
    )


@pytest.mark.parametrize("kind", KINDS)
def test_the_admin_upload_page_imports_each_kind_and_shows_the_rows(kind, company, admin_client, superuser):
    name, model, _, rows = KINDS[kind]
    page = admin_client.get(reverse(f"admin:{ADMIN_PAGES[kind]}_add"))
    assert page.status_code == 200 and "File formats" in page.text
    assert f'<option value="{kind}" selected>' in page.text

    response = admin_upload(admin_client, kind, fixture(name), company)

    assert response.redirect_chain[-1][0] == reverse(f"admin:{ADMIN_PAGES[kind]}_changelist")
    assert f"Imported {rows} rows" in response.text and "Import a CSV file" in response.text
    assert model.objects.filter(company=company).count() == rows
    assert SourceEvent.objects.get().received_by == superuser

    again = admin_upload(admin_client, kind, fixture(name), company)
    assert "imported for comp-acme before" in again.text and model.objects.count() == rows


def test_the_admin_lists_every_bad_line_of_a_refused_file(company, admin_client):
    content = fixture("billing_mrr.csv")
    bad = with_lines(content, {
        4: "2024-01,cus_R2wJ5dHe,Fabrikam Logistics,Growth,lots,0.00,0.00,250.00,0.00",
        9: "2024-02,cus_R2wJ5dHe,Fabrikam Logistics,Growth,950.00,0.00,0.00,0.00,-5",
    })

    response = admin_upload(admin_client, "billing", bad, company)

    assert response.status_code == 200
    assert "The file was refused; nothing was imported." in response.text
    assert "line 4: mrr_usd: A valid number is required." in response.text
    assert "line 9: churn_usd: Not negative" in response.text
    assert not RevenueRecord.objects.exists()


def test_auditors_read_imported_rows_but_cannot_import_or_change_them(company, data_source, client):
    upload(data_source, "billing", fixture("billing_mrr.csv"))
    client.force_login(member_of(roles.AUDITORS, "carol", is_staff=True))

    changelist = client.get(reverse("admin:finance_revenuerecord_changelist"))
    assert changelist.status_code == 200 and "cus_P4kR2mVx" in changelist.text
    assert "Import a CSV file" not in changelist.text
    assert client.get(reverse("admin:finance_revenuerecord_add")).status_code == 403
    record = RevenueRecord.objects.first()
    assert client.post(reverse("admin:finance_revenuerecord_change", args=[record.pk]), {}).status_code == 403
