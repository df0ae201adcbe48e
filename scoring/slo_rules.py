"""
Multi-window, multi-burn-rate alerting of the definitions' SLOs, as the SRE workbook ("Alerting on SLOs") does it.

Per SLO (a definition with `slo_objective`, `slo_period_days`, `sli_good_promql`, `sli_total_promql`), one rule group:
- the error ratio `1 - good/total` over each window, per company and service, recorded as
  `companyos:slo_error:ratio_rate<window>` with the labels `slo` (the definition's slug) and `kpi`;
- the error budget left over the SLO's period, `companyos:slo_error_budget_remaining:ratio`
  (1 untouched, 0 spent, below 0 overspent);
- `SLOErrorBudgetBurn` alerts: each fires when both its long and its short window burn the budget faster than its
  factor (burn rate = error ratio / (1 - objective)); the long window makes it significant, the short one makes
  it stop soon after the burning does.

For a 30-day SLO the windows are the workbook's (BURN_ALERTS). Another period scales every window (and `for:`)
by period / 30 days and keeps the factors: a factor f held over a window w * period/30d spends
f * w / 30d of the budget, so each alert still fires at the same share of its budget spent (2 %, 5 %, 10 %, 10 %).
Windows are whole seconds and at least MIN_WINDOW, so a rate always spans a few scrapes.
"""
import dataclasses
import datetime

from kpis.models import KpiDefinition

REFERENCE_PERIOD = datetime.timedelta(days=30)
# A rate needs two samples in its window: a minute holds several at the usual 15-30 s scrape intervals.
MIN_WINDOW = datetime.timedelta(minutes=1)
ERROR_RATIO_SERIES = "companyos:slo_error:ratio_rate{window}"
BUDGET_REMAINING_SERIES = "companyos:slo_error_budget_remaining:ratio"
ALERT_NAME = "SLOErrorBudgetBurn"


@dataclasses.dataclass(frozen=True)
class BurnAlert:
    """Fire at `severity` while the burn rate exceeds `factor` over both windows for `wait` (30-day SLO values)."""

    severity: str
    factor: float
    long: datetime.timedelta
    short: datetime.timedelta
    wait: datetime.timedelta

    def budget_spent(self):
        """The share of the period's error budget that burning at `factor` for the long window spends."""
        return self.factor * self.long / REFERENCE_PERIOD


_HOUR = datetime.timedelta(hours=1)
_MINUTE = datetime.timedelta(minutes=1)
# `wait` (the alert's `for:`) is a thirtieth of the long window: long enough that one bad scrape does not page.
BURN_ALERTS = (
    BurnAlert("page", 14.4, _HOUR, 5 * _MINUTE, 2 * _MINUTE),
    BurnAlert("page", 6, 6 * _HOUR, 30 * _MINUTE, 12 * _MINUTE),
    BurnAlert("ticket", 3, 24 * _HOUR, 2 * _HOUR, 48 * _MINUTE),
    BurnAlert("ticket", 1, 72 * _HOUR, 6 * _HOUR, 144 * _MINUTE),
)


def scaled(window, period_days):
    """`window` (of a 30-day SLO) for an SLO of `period_days`, in whole seconds, at least MIN_WINDOW."""
    seconds = round(window.total_seconds() * period_days / REFERENCE_PERIOD.days)
    return max(datetime.timedelta(seconds=seconds), MIN_WINDOW)


def promql_duration(window):
    """A duration as PromQL writes it, from days down to seconds: 3d, 6h, 16h48m, 1m10s."""
    seconds, parts = int(window.total_seconds()), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _number(value):
    return f"{value:.12g}"


def slo_windows(period_days):
    """Every window a period's rules record: each alert's long and short window, and the period itself."""
    windows = {scaled(window, period_days) for alert in BURN_ALERTS for window in (alert.long, alert.short)}
    return sorted(windows | {datetime.timedelta(days=period_days)})


def _error_ratio_rule(kpi, window):
    span = promql_duration(window)
    good, total = kpi.sli_good_promql.strip(), kpi.sli_total_promql.strip()
    return {
        "record": ERROR_RATIO_SERIES.format(window=span),
        "expr": (
            f"1 - (\n  sum by (company, service) (rate({good}[{span}]))\n  /\n"
            f"  sum by (company, service) (rate({total}[{span}]))\n)"
        ),
        "labels": {"slo": kpi.slug, "kpi": kpi.slug},
    }


def _burn_alert(kpi, alert, budget):
    long, short = scaled(alert.long, kpi.slo_period_days), scaled(alert.short, kpi.slo_period_days)
    threshold = _number(alert.factor * budget)
    selector = f'{{slo="{kpi.slug}"}}'
    long_series = ERROR_RATIO_SERIES.format(window=promql_duration(long)) + selector
    short_series = ERROR_RATIO_SERIES.format(window=promql_duration(short)) + selector
    spent = f"{alert.budget_spent() * 100:g} %"
    return {
        "alert": ALERT_NAME,
        "expr": f"{long_series} > {threshold}\nand\n{short_series} > {threshold}",
        "for": promql_duration(scaled(alert.wait, kpi.slo_period_days)),
        "labels": {
            "severity": alert.severity,
            "slo": kpi.slug,
            "kpi": kpi.slug,
            "dimension": kpi.dimension,
            "long_window": promql_duration(long),
            "short_window": promql_duration(short),
            "burn_rate": _number(alert.factor),
        },
        "annotations": {
            "summary": (
                f"{{{{ $labels.service }}}} of {{{{ $labels.company }}}} burns the error budget of {kpi.name} "
                f"{alert.factor:g}x as fast as its {kpi.slo_objective:g} % objective allows"
            ),
            "description": (
                f"The error ratio is above {alert.factor * budget * 100:.4g} % over both {promql_duration(long)} and "
                f"{promql_duration(short)}: at this rate {spent} of the {kpi.slo_period_days}-day error budget goes "
                f"in {promql_duration(long)}."
            ),
        },
    }


def slo_rule_group(kpi):
    """The rule group of one definition's SLO: error ratios, the budget left, and its burn-rate alerts."""
    budget = 1 - kpi.slo_objective / 100
    period = datetime.timedelta(days=kpi.slo_period_days)
    records = [_error_ratio_rule(kpi, window) for window in slo_windows(kpi.slo_period_days)]
    period_series = ERROR_RATIO_SERIES.format(window=promql_duration(period))
    records.append(
        {
            "record": BUDGET_REMAINING_SERIES,
            "expr": f'1 - {period_series}{{slo="{kpi.slug}"}} / {_number(budget)}',
            "labels": {"slo": kpi.slug, "kpi": kpi.slug},
        }
    )
    alerts = [_burn_alert(kpi, alert, budget) for alert in BURN_ALERTS]
    return {"name": f"companyos.slo.{kpi.slug}", "rules": records + alerts}


def slo_rule_groups():
    """One rule group per active definition with an SLO, by slug."""
    with_slo = KpiDefinition.objects.active().filter(slo_objective__isnull=False).order_by("slug")
    return [slo_rule_group(kpi) for kpi in with_slo]
