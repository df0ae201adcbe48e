import shutil
import subprocess

import pytest
import yaml
from django.core.management import call_command

from kpis import services
from kpis.models import KpiDefinition

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
    } <= recorded
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
