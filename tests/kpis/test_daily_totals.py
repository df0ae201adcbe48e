"""
/api/metrics/kpis/ reads the whole days of a period from the stored per-company daily totals and its partial days
from the rows: the payload is the recomputation's from the rows, for any period, and follows the writes.
"""
import dataclasses
import datetime
import json
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from incidents.models import Alert, Incident
from kpis import daily_totals
from kpis.models import AlertDayTotals, DailyTotalsDay, IncidentsCreatedDayTotals, ResolvedDayTotals
from kpis.proof import methodology_kpis
from kpis.tasks.daily_totals import refresh_changed_days, refresh_daily_totals
from tests.companyos.factories import UserFactory
from tests.helpers import client_for, sqlite_manage
from tests.kpis.factories import KpiDefinitionFactory
from tests.kpis.helpers import build_runbook_example
from tests.tenancy.factories import CompanyFactory

UTC = datetime.timezone.utc
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
METHODOLOGY = ["noise-reduction", "mttr-reduction", "self-healed"]


def payloads(company, start, end):
    """The proof's "kpis" of [start, end) from the stored totals, and recomputed from the rows."""
    from_totals = methodology_kpis(company, start=start, end=end, visible_slugs=METHODOLOGY)
    from_rows = methodology_kpis(
        company, start=start, end=end, visible_slugs=METHODOLOGY, read_figures=daily_totals.figures_from_rows
    )
    return from_totals, from_rows


def figures(company, start, end):
    """The unrounded figures of [start, end) from the stored totals and from the rows, counts exact."""
    stored, raw = daily_totals.proof_figures(company, start, end), daily_totals.figures_from_rows(company, start, end)
    return dataclasses.asdict(stored), dataclasses.asdict(raw)


# --- On the demo --------------------------------------------------------------------------------------------------


def demo_periods(now):
    yesterday = now.replace(hour=0, minute=0, second=0, microsecond=0) - DAY
    return {
        "24h": (now - 24 * HOUR, now),
        "7d": (now - 7 * DAY, now),
        "30d": (now - 30 * DAY, now),
        "90d": (now - 90 * DAY, now),
        "partial days at both ends": (yesterday - 2 * DAY + datetime.timedelta(hours=5, minutes=17), yesterday + 19 * HOUR),
        "from a midnight to a mid-day": (yesterday - 2 * DAY, yesterday + datetime.timedelta(hours=11, seconds=7)),
        "one partial day": (yesterday + 3 * HOUR, yesterday + 21 * HOUR),
    }


def test_the_demo_leaves_its_days_totals_stored(scored_demo):
    company, last_day = scored_demo
    stored_days = set(DailyTotalsDay.objects.filter(company=company).values_list("day", flat=True))
    demo_days = {last_day - datetime.timedelta(days=offset) for offset in range(3)}
    assert demo_days <= stored_days
    alerts = Alert.objects.filter(company=company, issued_at__gte=daily_totals.midnight(min(demo_days)), issued_at__lt=daily_totals.midnight(last_day) + DAY)
    assert sum(AlertDayTotals.objects.filter(company=company).values_list("raw_alerts", flat=True)) == alerts.count() > 0


def test_the_payload_from_stored_totals_is_the_recomputation_from_the_rows(scored_demo):
    company, _ = scored_demo
    for period, (start, end) in demo_periods(timezone.now()).items():
        from_totals, from_rows = payloads(company, start, end)
        assert from_totals == from_rows, period
        stored, raw = figures(company, start, end)
        assert _same_figures(stored, raw)


def _same_figures(stored, raw):
    """Counts equal, means and percents equal to the last bits a different order of adding may change."""
    for section in ("noise", "resolved"):
        assert (stored[section] is None) == (raw[section] is None), section
        for name, value in (raw[section] or {}).items():
            if isinstance(value, float):
                assert stored[section][name] == pytest.approx(value, rel=1e-12), name
            else:
                assert stored[section][name] == value, name
    assert (stored["runbook_table"], stored["medians"]) == (raw["runbook_table"], raw["medians"])
    return True


def test_the_demo_payload_has_figures_to_compare(scored_demo):
    company, _ = scored_demo
    now = timezone.now()
    from_totals, _ = payloads(company, now - 7 * DAY, now)
    assert from_totals["noise_reduction"]["raw_alerts"] > 0
    assert from_totals["mttr_reduction"]["sample_size"]["manual"] > 0
    assert from_totals["self_healed"]["runbook_table"]


def test_whole_days_are_read_from_the_stored_totals(scored_demo):
    company, last_day = scored_demo
    now = timezone.now()
    before, _ = payloads(company, now - 7 * DAY, now)
    AlertDayTotals.objects.filter(company=company, day=last_day).update(raw_alerts=1_000_000)
    after, from_rows = payloads(company, now - 7 * DAY, now)
    assert after["noise_reduction"]["raw_alerts"] > before["noise_reduction"]["raw_alerts"] + 900_000
    assert from_rows["noise_reduction"] == before["noise_reduction"]


# --- Incidents across midnight and the period's edges ----------------------------------------------------------

# The 2nd of the month before last: past, and in a month that retention may drop when it keeps alerts 0 days.
FIRST_DAY = daily_totals.midnight((timezone.now().astimezone(UTC).date().replace(day=1) - 40 * DAY).replace(day=2))
STORED_DAYS = ["--since", (FIRST_DAY - DAY).date().isoformat(), "--until", (FIRST_DAY + 6 * DAY).date().isoformat()]


def at(day, hour, minute=0):
    return FIRST_DAY + day * DAY + datetime.timedelta(hours=hour, minutes=minute)


@pytest.fixture
def spanning(db):
    return build_spanning()


def build_spanning():
    """
    comp-acme's alerts over five days, their totals stored: incidents whose alerts span midnight, whole days, the
    period's edges, one incident correlation did not make, and the methodology's runbook example on the third day.
    """
    company = CompanyFactory(slug="comp-acme")
    for slug in METHODOLOGY:
        KpiDefinitionFactory(slug=slug, units="percent", direction="higher", target=None, critical_threshold=None, weight=0)
    alerts_of = {
        "across-midnight": [at(0, 23, 50), at(1, 0, 10)],
        "day-apart": [at(0, 10), at(2, 10)],
        "edge-only": [at(1, 5), at(1, 5, 30)],
        "whole-span": [at(0, 22), at(2, 12), at(4, 1)],
        "late-evening": [at(3, 23, 59), at(4, 0, 1), at(4, 23)],
    }
    for number, (name, moments) in enumerate(alerts_of.items()):
        incident = Incident.objects.create(
            company=company, external_id=f"alert-{name}", title=name, severity="P3", detected_at=moments[0],
            resolved_at=moments[-1] + 30 * datetime.timedelta(minutes=number + 1), automation_used=number % 2 == 1,
            correlation_key=f"host-{number}|{name}",
        )
        Alert.objects.bulk_create(
            Alert(company=company, asset=f"host-{number}", signature=name, severity="high", source="test", issued_at=moment,
                  incident=incident)
            for moment in moments
        )
    sent_by_hand = Incident.objects.create(company=company, external_id="PD-1", title="x", severity="P2", detected_at=at(1, 8))
    Alert.objects.create(company=company, asset="h", signature="s", severity="high", source="test", issued_at=at(1, 8), incident=sent_by_hand)
    build_runbook_example(company, at(2, 0))
    call_command("kpi", "daily-totals", *STORED_DAYS, stdout=StringIO())
    return company


SPANNING_PERIODS = [
    (at(0, 0), at(5, 0)),
    (at(0, 21), at(4, 2)),
    (at(1, 0), at(3, 0)),
    (at(1, 0, 5), at(2, 11)),
    (at(0, 23, 55), at(4, 0, 30)),
    (at(0, 23, 0), at(1, 0, 5)),
    (at(1, 4), at(1, 6)),
    (at(2, 1), at(4, 0)),
    (at(3, 23, 59), at(4, 0, 0)),
    (at(0, 12), at(3, 12)),
]


@pytest.mark.parametrize("start, end", SPANNING_PERIODS)
def test_incidents_across_midnight_and_the_edges_are_counted_once(spanning, start, end):
    from_totals, from_rows = payloads(spanning, start, end)
    assert from_totals == from_rows
    stored, raw = figures(spanning, start, end)
    assert _same_figures(stored, raw)


def spanning_comparison():
    """Over each of SPANNING_PERIODS, whether the payload from the stored totals is the one from the rows, as JSON."""
    company = build_spanning()
    compared = (payloads(company, start, end) for start, end in SPANNING_PERIODS)
    return json.dumps([from_totals == from_rows for from_totals, from_rows in compared])


SQLITE_SCRIPT = "from tests.kpis.test_daily_totals import spanning_comparison; print(spanning_comparison())"


@pytest.mark.slow  # migrations and the comparison through manage.py on SQLite
def test_the_stored_totals_give_the_same_payload_on_sqlite(db, tmp_path):
    manage = sqlite_manage(tmp_path)
    manage("migrate", "--no-input")
    assert json.loads(manage("shell", "--no-imports", "-c", SQLITE_SCRIPT)) == [True] * len(SPANNING_PERIODS)


def test_an_incident_on_both_sides_of_the_stored_days_is_counted_once(spanning):
    # whole-span has alerts on day 0 and day 4 (edges) and day 2 (stored); edge-only only on the left edge's day.
    start, end = at(0, 21), at(4, 2)
    from_totals, _ = payloads(spanning, start, end)
    in_period = {"alerts__issued_at__gte": start, "alerts__issued_at__lt": end}
    assert from_totals["noise_reduction"]["incidents_created"] == Incident.objects.filter(correlation_key__gt="", **in_period).distinct().count()
    assert from_totals["noise_reduction"]["raw_alerts"] == Alert.objects.filter(issued_at__gte=start, issued_at__lt=end).count()
    assert Incident.objects.filter(external_id__in=["alert-whole-span", "alert-edge-only"], **in_period).distinct().count() == 2


def test_stored_days_count_an_incident_on_its_first_day_of_the_period(spanning):
    rows = IncidentsCreatedDayTotals.objects.filter(company=spanning, day=at(2, 0).date(), previous_day=at(0, 0).date())
    assert sum(row.incidents for row in rows) == 2  # day-apart and whole-span, seen before on day 0


def test_an_alert_awaiting_correlation_leaves_noise_reduction_without_a_value(spanning):
    Alert.objects.create(company=spanning, asset="h", signature="s", severity="high", source="test", issued_at=at(2, 9))
    daily_totals.refresh([at(2, 0).date()], [spanning.pk])
    from_totals, from_rows = payloads(spanning, at(0, 12), at(4, 12))
    assert from_totals["noise_reduction"]["value"] is None
    assert from_totals == from_rows


def test_rebuilding_the_totals_twice_stores_the_same_rows(spanning):
    def rows():
        return sorted(AlertDayTotals.objects.values_list("company_id", "day", "raw_alerts", "uncorrelated_alerts")), sorted(
            IncidentsCreatedDayTotals.objects.values_list("day", "previous_day", "incidents"), key=str
        )

    first = rows()
    call_command("kpi", "daily-totals", *STORED_DAYS, "--company", "comp-acme", stdout=StringIO())
    assert rows() == first


def test_a_period_with_a_day_never_stored_is_read_from_the_rows_not_as_zero(spanning):
    DailyTotalsDay.objects.filter(day=at(2, 0).date()).delete()
    AlertDayTotals.objects.filter(day=at(2, 0).date()).delete()
    from_totals, from_rows = payloads(spanning, at(0, 12), at(4, 12))
    assert from_totals == from_rows
    assert from_totals["noise_reduction"]["raw_alerts"] == Alert.objects.filter(issued_at__gte=at(0, 12), issued_at__lt=at(4, 12)).count()


def test_the_nightly_refresh_stores_the_recent_days(db):
    company = CompanyFactory()
    yesterday = timezone.now().astimezone(UTC).date() - datetime.timedelta(days=1)
    Alert.objects.create(
        company=company, asset="h", signature="s", severity="high", source="test",
        issued_at=daily_totals.midnight(yesterday) + HOUR,
    )
    refresh_daily_totals(yesterday.isoformat())
    assert AlertDayTotals.objects.get(company=company, day=yesterday).raw_alerts == 1
    assert DailyTotalsDay.objects.filter(company=company).count() == daily_totals.RECENT_DAYS


# --- Writes through the API -----------------------------------------------------------------------------------------


def data_source(*permissions):
    user = UserFactory(is_staff=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    return client_for(user)


def test_a_late_alert_through_the_api_changes_the_stored_day_and_the_payload(spanning, django_capture_on_commit_callbacks):
    before, _ = payloads(spanning, at(0, 12), at(4, 12))
    client = data_source("add_alert")
    alert = {
        "company": "comp-acme", "asset": "host-9", "signature": "late", "severity": "high",
        "issued_at": at(2, 13).isoformat(), "source": "cloudwatch", "external_id": "late-1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/alerts/", [alert], format="json").status_code == 201
    stored = AlertDayTotals.objects.get(company=spanning, day=at(2, 0).date())
    assert stored.raw_alerts == Alert.objects.filter(issued_at__gte=at(2, 0), issued_at__lt=at(3, 0)).count()
    after, from_rows = payloads(spanning, at(0, 12), at(4, 12))
    assert after["noise_reduction"]["raw_alerts"] == before["noise_reduction"]["raw_alerts"] + 1
    assert after == from_rows


def test_an_incident_resolved_through_the_api_changes_the_stored_day_and_the_payload(spanning, django_capture_on_commit_callbacks):
    client = data_source("add_incident")
    body = {
        "company": "comp-acme", "external_id": "PD-7", "title": "Checkout down", "severity": "P1",
        "detected_at": at(1, 10).isoformat(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/incidents/", body, format="json").status_code == 201
    before, _ = payloads(spanning, at(0, 12), at(4, 12))
    with django_capture_on_commit_callbacks(execute=True):
        resolved = {**body, "status": "resolved", "resolved_at": at(3, 10).isoformat()}
        assert client.post("/api/incidents/", resolved, format="json").status_code == 200
    stored = ResolvedDayTotals.objects.get(company=spanning, day=at(3, 0).date())
    assert stored.manual_incidents == Incident.objects.filter(resolved_at__gte=at(3, 0), resolved_at__lt=at(4, 0), automation_used=False).count()
    after, from_rows = payloads(spanning, at(0, 12), at(4, 12))
    assert after["mttr_reduction"]["sample_size"]["manual"] == before["mttr_reduction"]["sample_size"]["manual"] + 1
    assert after == from_rows


def test_a_changed_day_is_read_from_the_rows_until_its_refresh_runs(spanning):
    """The receiver unstores a changed day at once and leaves its refresh to a task (here run by hand, later)."""
    day = at(2, 0).date()
    Alert.objects.create(company=spanning, asset="host-9", signature="late", severity="high", source="test", issued_at=at(2, 13))
    assert daily_totals.unstore({day, timezone.now().astimezone(UTC).date()}, spanning.pk) == [day]
    assert not DailyTotalsDay.objects.filter(company=spanning, day=day).exists()
    unrefreshed, from_rows = payloads(spanning, at(0, 12), at(4, 12))
    assert unrefreshed == from_rows
    refresh_changed_days(spanning.pk, [day.isoformat()])
    assert AlertDayTotals.objects.get(company=spanning, day=day).raw_alerts == Alert.objects.filter(
        issued_at__gte=at(2, 0), issued_at__lt=at(3, 0)
    ).count()
    assert payloads(spanning, at(0, 12), at(4, 12))[0] == unrefreshed


def test_days_whose_alerts_retention_dropped_keep_their_stored_figures(spanning, settings):
    whole_days, with_partial_day = (at(1, 0), at(4, 0)), (at(0, 12), at(4, 0))
    before, _ = payloads(spanning, *whole_days)
    settings.ALERT_RETENTION_DAYS = 0  # the spanning days' month is past it
    Alert.objects.all().delete()
    call_command("kpi", "daily-totals", *STORED_DAYS, "--company", "comp-acme", stdout=StringIO())
    after, _ = payloads(spanning, *whole_days)
    assert after["noise_reduction"] == before["noise_reduction"] and before["noise_reduction"]["raw_alerts"] > 0
    partial, _ = payloads(spanning, *with_partial_day)
    assert partial["noise_reduction"]["value"] is None
