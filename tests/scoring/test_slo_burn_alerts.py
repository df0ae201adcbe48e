"""
The SLO burn-rate alerts fire when they should: `promtool test rules` runs the generated rules file over request
counters of four services of a 99.9 % / 30-day SLO (error budget 0.1 %), each after three healthy days so that
even the longest window (3 days) has history. Each service's story is its own test group:

- a fast burn (5 % errors, 50x) pages within its first half hour through the 1h/5m pair, then through 6h/30m too;
- a slow burn (0.5 % errors, 5x) never pages (5x is below 6x) and opens both tickets once a day and three days'
  windows are burning;
- a short spike (10 % errors for 5 minutes) burns the short windows but no long one, so nothing fires;
- a steady healthy service (0.05 % errors, 0.5x) fires nothing and has half its budget left.
"""
import shutil
import subprocess

import pytest
import yaml
from django.core.management import call_command

from tests.kpis.helpers import slo_definition

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

HEALTHY_DAYS_MINUTES = 3 * 24 * 60  # three days of one-minute samples before anything happens
REQUESTS_PER_MINUTE = 2000
CATALOG_LABELS = '{company="comp-acme", kpi="checkout-availability", service="catalog", slo="checkout-availability"}'


def counter(*segments):
    """promtool's expanding notation for a counter growing by `per_minute` for `minutes`, segment after segment."""
    parts, value = [], 0
    for index, (minutes, per_minute) in enumerate(segments):
        if index == 0:
            parts.append(f"{value}+{per_minute}x{minutes}")
        else:
            parts.append(f"{value + per_minute}+{per_minute}x{minutes - 1}")
        value += per_minute * minutes
    return " ".join(parts)


def requests(service, *segments):
    """The good and failing request counters of `service`; each segment is (minutes, error share)."""
    good = [(minutes, round(REQUESTS_PER_MINUTE * (1 - errors))) for minutes, errors in segments]
    failing = [(minutes, round(REQUESTS_PER_MINUTE * errors)) for minutes, errors in segments]
    labels = f'job="checkout", company="comp-acme", service="{service}"'
    return [
        {"series": f'http_requests_total{{{labels}, code="200"}}', "values": counter(*good)},
        {"series": f'http_requests_total{{{labels}, code="500"}}', "values": counter(*failing)},
    ]


def at(minutes_after_healthy_days):
    return f"{HEALTHY_DAYS_MINUTES + minutes_after_healthy_days}m"


@pytest.fixture
def rules(tmp_path):
    slo_definition()
    path = tmp_path / "companyos.rules.yml"
    call_command("kpi", "recording-rules", "--output", str(path))
    return path


def burn_alerts(rules_path, service, *pairs):
    """The SLOErrorBudgetBurn alerts `service` should have firing, one per (long, short) window pair."""
    alerts = [
        rule for group in yaml.safe_load(rules_path.read_text())["groups"] for rule in group["rules"]
        if rule.get("alert") == "SLOErrorBudgetBurn"
    ]
    firing = []
    for long, short in pairs:
        rule = next(rule for rule in alerts if (rule["labels"]["long_window"], rule["labels"]["short_window"]) == (long, short))
        annotations = {
            name: text.replace("{{ $labels.service }}", service).replace("{{ $labels.company }}", "comp-acme")
            for name, text in rule["annotations"].items()
        }
        labels = {**rule["labels"], "company": "comp-acme", "service": service}
        firing.append({"exp_labels": labels, "exp_annotations": annotations})
    return firing


def promtool_test(tmp_path, rules_path, tests):
    test_file = tmp_path / "burn_alerts.test.yml"
    # Rules every 5 minutes over one-minute samples: every window keeps its samples, at a fifth of the evaluations.
    test_file.write_text(yaml.safe_dump({"rule_files": [str(rules_path)], "evaluation_interval": "5m", "tests": tests}))
    assert shutil.which("promtool"), "promtool comes from Debian's prometheus package (.ci/setup)"
    return subprocess.run(["promtool", "test", "rules", str(test_file)], capture_output=True, text=True, timeout=300)


def alert_checks(rules_path, service, expected_by_minute):
    return [
        {"eval_time": at(minute), "alertname": "SLOErrorBudgetBurn", "exp_alerts": burn_alerts(rules_path, service, *pairs)}
        for minute, pairs in expected_by_minute
    ]


def test_the_burn_rate_alerts_fire_for_fast_and_slow_burns_and_not_for_a_spike_or_a_healthy_service(rules, tmp_path):
    fast = {
        "interval": "1m",
        "input_series": requests("payments", (HEALTHY_DAYS_MINUTES, 0), (240, 0.05)),
        "alert_rule_test": alert_checks(rules, "payments", [
            (10, []),  # the 5m window burns, the 1h one not yet (5 % x 10/60 < 1.44 %)
            (30, [("1h", "5m")]),  # 1h > 1.44 % from minute 18, held 2 minutes
            (65, [("1h", "5m"), ("6h", "30m")]),  # 6h > 0.6 % from minute 44, held 12 minutes
        ]),
    }
    slow = {
        "interval": "1m",
        "input_series": requests("search", (HEALTHY_DAYS_MINUTES, 0), (20 * 60, 0.005)),
        "alert_rule_test": alert_checks(rules, "search", [
            (12 * 60, []),  # the 2h and 6h windows burn above 3x and 1x; the 1d and 3d ones not yet
            (16 * 60, [("1d", "2h")]),  # 1d > 0.3 % from 14h24m, held 48 minutes
            (18 * 60, [("1d", "2h"), ("3d", "6h")]),  # 3d > 0.1 % from 14h24m, held 2h24m
        ]),
    }
    spike = {
        "interval": "1m",
        "input_series": requests("catalog", (HEALTHY_DAYS_MINUTES, 0), (5, 0.10), (120, 0)),
        "alert_rule_test": alert_checks(rules, "catalog", [(minute, []) for minute in (5, 10, 30, 60, 120)]),
        "promql_expr_test": [
            {   # the short window burns far beyond 14.4x ...
                "expr": 'round(companyos:slo_error:ratio_rate5m{service="catalog"}, 0.001) > 0.0144',
                "eval_time": at(5),
                "exp_samples": [{"labels": CATALOG_LABELS, "value": 0.1}],
            },
            {   # ... but the long one stays under it, so there is no page
                "expr": 'round(companyos:slo_error:ratio_rate1h{service="catalog"}, 0.001)',
                "eval_time": at(10),
                "exp_samples": [{"labels": CATALOG_LABELS, "value": 0.008}],
            },
        ],
    }
    healthy = {
        "interval": "1m",
        "input_series": requests("accounts", (HEALTHY_DAYS_MINUTES + 12 * 60, 0.0005)),
        "alert_rule_test": alert_checks(rules, "accounts", [(minute, []) for minute in (0, 6 * 60, 12 * 60)]),
        "promql_expr_test": [
            {
                "expr": 'round(companyos:slo_error_budget_remaining:ratio{service="accounts"}, 0.01)',
                "eval_time": at(12 * 60),
                "exp_samples": [{"labels": '{company="comp-acme", kpi="checkout-availability", service="accounts", '
                                           'slo="checkout-availability"}', "value": 0.5}],
            },
        ],
    }
    result = promtool_test(tmp_path, rules, [fast, slow, spike, healthy])
    assert result.returncode == 0, result.stdout + result.stderr

