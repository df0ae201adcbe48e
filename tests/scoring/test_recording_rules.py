import shutil
import subprocess

import pytest
import yaml
from django.core.management import call_command

from kpis import services
from kpis.models import KpiDefinition
from tests.kpis.helpers import slo_definition

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    call_command("kpi", "load-catalogue", verbosity=0)


def rules_file(tmp_path):
    path = tmp_path / "companyos.rules.yml"
    call_command("kpi", "recording-rules", "--output", str(path))
    return path


def recorded(tmp_path):
    """The rules file's recording rules by the series they record."""
    groups = yaml.safe_load(rules_file(tmp_path).read_text())["groups"]
    return {rule["record"]: rule for group in groups for rule in group["rules"] if "record" in rule}


def test_the_rules_use_the_health_models_series_names_and_pass_promtool(catalogue, tmp_path):
    slo_definition()
    path = rules_file(tmp_path)
    rules = [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    assert {
        "companyos:service:slo_attainment:ratio",
        "companyos:finops:nrr:ratio",
        "companyos:dora:deployment_frequency:rate",
        "companyos:product:active_tenants:count",
        "companyos:finops:cost_per_mau:usd",
        "companyos:health:composite_score:gauge",
        "companyos:product:monthly_active_users:count",
        "companyos:domain:reliability_score:ratio",
        "companyos:company:reliability_score:ratio",
        "companyos:product:engagement_score:gauge",
        "companyos:slo_error:ratio_rate5m",
        "companyos:slo_error_budget_remaining:ratio",
    } <= recorded
    assert {rule["labels"]["severity"] for rule in rules if rule.get("alert") == "SLOErrorBudgetBurn"} == {"page", "ticket"}
    composite = next(rule for rule in rules if rule.get("record") == "companyos:health:composite_score:gauge")
    assert "(companyos:reliability:score:gauge * 0.25)" in composite["expr"]
    assert shutil.which("promtool"), "promtool comes from Debian's prometheus package (.ci/setup)"
    checked = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_alert_follows_its_definitions_threshold_and_duration(catalogue, tmp_path):
    kpi = KpiDefinition.objects.get(slug="error-budget-burn-rate")
    services.change_definition(kpi, actor=None, reason="Page earlier", critical_threshold=4)
    alerts = {rule["alert"]: rule for group in yaml.safe_load(rules_file(tmp_path).read_text())["groups"]
              for rule in group["rules"] if "alert" in rule}
    assert alerts["SLOBudgetBurning"]["expr"] == "companyos:service:error_budget_burn_rate:ratio > 4"
    assert alerts["SLOBudgetBurning"]["for"] == "5m"
    assert alerts["SLOBudgetExhausted"]["expr"] == "companyos:service:slo_attainment:ratio < 0.995"


def test_a_kpis_rule_records_its_promql_and_follows_its_changes(catalogue, tmp_path):
    kpi = KpiDefinition.objects.get(slug="error-budget-burn-rate")
    series = "companyos:service:error_budget_burn_rate:ratio"
    assert recorded(tmp_path)[series] == {"record": series, "expr": kpi.promql, "labels": {"kpi": "error-budget-burn-rate"}}

    per_slo = (
        "sum by (company, service, slo) (slo:error_budget_consumed:ratio)"
        " / sum by (company, service, slo) (slo:error_budget_total:ratio)"
    )
    services.change_definition(kpi, actor=None, reason="Burn per SLO", promql=per_slo)
    assert recorded(tmp_path)[series]["expr"] == per_slo

    # Without a PromQL the alert still has its series, from the KPI values the portal exports.
    services.change_definition(kpi, actor=None, reason="Measured elsewhere", promql="")
    assert recorded(tmp_path)[series] == {
        "record": series, "expr": 'max by (company) (companyos_kpi_value{slug="error-budget-burn-rate"})'
    }


def test_the_file_has_the_health_models_cascade_engagement_and_monthly_active_users(catalogue, tmp_path):
    rules = recorded(tmp_path)
    assert "companyos:product:monthly_active_users:count" in rules["companyos:finops:cost_per_mau:usd"]["expr"]
    assert "session_events_total" in rules["companyos:product:monthly_active_users:count"]["expr"]
    assert "service_domain_mapping" in rules["companyos:domain:reliability_score:ratio"]["expr"]
    assert rules["companyos:company:reliability_score:ratio"]["expr"] == (
        "avg by (company) (companyos:domain:reliability_score:ratio)"
    )
    assert "by (company, cohort)" in rules["companyos:product:engagement_score:gauge"]["expr"]


def test_every_recorded_series_keeps_the_companies_apart(catalogue, tmp_path):
    """promtool evaluates every recording rule over the series of two companies: each record has both."""
    slo_definition()
    path = rules_file(tmp_path)
    records = sorted({rule["record"] for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]
                      if "record" in rule})
    per_company = [
        ('slo:error_budget_consumed:ratio{{company="{company}", service="api"}}', "1+1x20"),
        ('slo:error_budget_total:ratio{{company="{company}", service="api"}}', "100+0x20"),
        ('feature_flag_evaluations_total{{company="{company}", feature="search", result="enabled"}}', "0+6x20"),
        ('feature_flag_evaluations_total{{company="{company}", feature="search", result="disabled"}}', "0+4x20"),
        ('billing_revenue_usd{{company="{company}", period="current"}}', "1200+0x20"),
        ('billing_revenue_usd{{company="{company}", period="previous"}}', "1000+0x20"),
        ('billing_expansion_usd{{company="{company}"}}', "100+0x20"),
        ('billing_churn_usd{{company="{company}"}}', "50+0x20"),
        ('aws_cur_cost_usd{{company="{company}", service="EC2"}}', "300+0x20"),
        ('deployment_total{{company="{company}", service="api"}}', "0+2x20"),
        ('deployment_failures_total{{company="{company}", service="api"}}', "0+0x20"),
        ('commit_to_deploy_seconds_bucket{{company="{company}", service="api", le="3600"}}', "0+1x20"),
        ('commit_to_deploy_seconds_bucket{{company="{company}", service="api", le="+Inf"}}', "0+2x20"),
        ('incident_resolution_seconds{{company="{company}", service="api"}}', "1800+0x20"),
        ('session_events_total{{company="{company}", tenant_id="t1", user_id="u1", event="active"}}', "0+1x20"),
        ('service_domain_mapping{{company="{company}", domain="platform", service="api"}}', "1+0x20"),
        ('user_actions_total{{company="{company}", cohort="smb"}}', "0+60x20"),
        ('session_duration_seconds{{company="{company}", cohort="smb"}}', "900+0x20"),
        ('http_requests_total{{job="checkout", company="{company}", service="api", code="200"}}', "0+99x20"),
        ('http_requests_total{{job="checkout", company="{company}", service="api", code="500"}}', "0+1x20"),
        *[(f'companyos_kpi_value{{{{company="{{company}}", slug="{slug}"}}}}', "5+0x20")
          for slug in ("critical-cve-age", "abac-policy-coverage")],
        *[(f'companyos_dimension_score{{{{company="{{company}}", dimension="{dimension}"}}}}', "80+0x20")
          for dimension in ("reliability", "security", "product_adoption", "financials", "efficiency")],
    ]
    companies = ("comp-acme", "comp-globex")
    test = {
        "interval": "1m",
        "input_series": [{"series": series.format(company=company), "values": values}
                         for series, values in per_company for company in companies],
        "promql_expr_test": [
            {"expr": f"count by (company) (count by (company) ({record}))", "eval_time": "15m",
             "exp_samples": [{"labels": f'{{company="{company}"}}', "value": 1} for company in companies]}
            for record in records
        ],
    }
    test_file = tmp_path / "companies.test.yml"
    test_file.write_text(yaml.safe_dump({"rule_files": [str(path)], "evaluation_interval": "1m", "tests": [test]}))
    result = subprocess.run(["promtool", "test", "rules", str(test_file)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(records) >= 30


def test_a_kpi_promql_that_mixes_companies_is_warned_about(catalogue, tmp_path, capsys):
    kpi = KpiDefinition.objects.get(slug="mttr")
    services.change_definition(kpi, actor=None, reason="Per team", promql="avg(incident_resolution_seconds) by (team)")
    rules_file(tmp_path)
    assert "the PromQL of 'mttr' aggregates without the company label" in capsys.readouterr().err


def test_an_slo_has_its_burn_rate_windows_scaled_to_its_period(tmp_path):
    slo_definition()
    slo_definition("search-availability", slo_period_days=7, slo_objective=99.5)
    groups = {group["name"]: group["rules"] for group in yaml.safe_load(rules_file(tmp_path).read_text())["groups"]}
    monthly = [(rule["labels"]["severity"], rule["labels"]["long_window"], rule["labels"]["short_window"], rule["for"])
               for rule in groups["companyos.slo.checkout-availability"] if "alert" in rule]
    assert monthly == [("page", "1h", "5m", "2m"), ("page", "6h", "30m", "12m"),
                       ("ticket", "1d", "2h", "48m"), ("ticket", "3d", "6h", "2h24m")]
    weekly = [(rule["labels"]["long_window"], rule["labels"]["short_window"], rule["for"], rule["expr"].split(" > ")[1].split("\n")[0])
              for rule in groups["companyos.slo.search-availability"] if "alert" in rule]
    assert weekly == [("14m", "1m10s", "1m", "0.072"), ("1h24m", "7m", "2m48s", "0.03"),
                      ("5h36m", "28m", "11m12s", "0.015"), ("16h48m", "1h24m", "33m36s", "0.005")]
    remaining = next(rule for rule in groups["companyos.slo.search-availability"]
                     if rule.get("record") == "companyos:slo_error_budget_remaining:ratio")
    assert remaining["expr"] == '1 - companyos:slo_error:ratio_rate7d{slo="search-availability"} / 0.005'
