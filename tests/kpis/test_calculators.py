"""Each calculator against values computed by hand, including the worked examples of the KPI methodology."""
import datetime
import statistics

import pytest

from incidents.choices import Phase, Severity
from incidents.models import Alert, Incident
from kpis.calculators import CALCULATORS, UnknownCalculator, get_calculator
from kpis.calculators.incident_kpis import (
    mttr_reduction_evidence,
    noise_reduction_evidence,
    self_healed_evidence,
)
from kpis.choices import ObservationSource
from kpis.models import Observation
from kpis.observations import compute_observations
from security.patch_compliance import patch_compliance_evidence
from tests.companyos.factories import BASE_TIME
from tests.incidents.factories import (
    AlertFactory,
    IncidentFactory,
    MilestoneFactory,
    PatchComplianceSnapshotFactory,
    PhaseTransitionFactory,
    RunbookExecutionFactory,
    SurveyResponseFactory,
)
from tests.tenancy.factories import CompanyFactory, ServiceFactory

DAY = BASE_TIME.date()  # 2024-01-15
NEXT_DAY = DAY + datetime.timedelta(days=1)


def at(hour, minute=0, days=0):
    return BASE_TIME + datetime.timedelta(days=days, hours=hour, minutes=minute)


@pytest.fixture
def service(db):
    return ServiceFactory(domain__company=CompanyFactory(slug="comp-acme"))


@pytest.fixture
def company(service):
    return service.domain.company


def compute(slug, since=DAY, until=NEXT_DAY, company=None):
    """Run the calculator of `slug` over [since, until) and return its stored values by incident (or day)."""
    compute_observations(slug, since=since, until=until, company=company, source=ObservationSource.BACKFILL, run="test")
    return list(Observation.objects.filter(kpi__slug=slug).order_by("observed_at", "incident_id"))


def make_incidents(count, service, **fields):
    """`count` incidents of the service's company, bulk-inserted (the worked examples need hundreds)."""
    company = service.domain.company
    start = Incident.objects.count()
    return Incident.objects.bulk_create(
        Incident(company=company, service=service, external_id=f"BULK-{start + n}", title="Disk full", severity=Severity.P3, **fields)
        for n in range(count)
    )


def test_every_kpi_the_issue_names_has_a_calculator():
    assert set(CALCULATORS) >= {
        "mttr", "mtta", "cadence-adherence", "stakeholder-satisfaction", "p1-incident-count",
        "noise-reduction", "mttr-reduction", "self-healed", "patch-compliance",
    }


def test_a_slug_without_a_calculator_is_refused_naming_it():
    with pytest.raises(UnknownCalculator, match="'nps'"):
        get_calculator("nps")


def test_mttr_is_minutes_from_detection_to_resolution_per_resolved_incident(computed_kpis, service):
    resolved = IncidentFactory(service=service, detected_at=at(10), resolved_at=at(10, 45))
    IncidentFactory(service=service, detected_at=at(11), resolved_at=None, status="open")
    IncidentFactory(service=service, detected_at=at(23), resolved_at=at(1, days=1))  # resolved the next day

    [observation] = compute("mttr")

    assert observation.value == 45.0
    assert observation.observed_at == at(10, 45)
    assert (observation.incident, observation.company, observation.domain, observation.service) == (
        resolved, service.domain.company, service.domain, service
    )


def test_mtta_runs_from_the_first_alert_falling_back_to_the_alert_phase_then_detection(computed_kpis, service):
    with_alerts = IncidentFactory(service=service, detected_at=at(10, 1))
    AlertFactory(company=service.domain.company, incident=with_alerts, issued_at=at(10, 2))
    AlertFactory(company=service.domain.company, incident=with_alerts, issued_at=at(10))
    PhaseTransitionFactory(incident=with_alerts, phase=Phase.GATHER, entered_at=at(10, 12))
    with_alert_phase = IncidentFactory(service=service, detected_at=at(11, 5))
    PhaseTransitionFactory(incident=with_alert_phase, phase=Phase.ALERT, entered_at=at(11))
    PhaseTransitionFactory(incident=with_alert_phase, phase=Phase.GATHER, entered_at=at(11, 20))
    detected_only = IncidentFactory(service=service, detected_at=at(12))
    PhaseTransitionFactory(incident=detected_only, phase=Phase.GATHER, entered_at=at(12, 30))
    IncidentFactory(service=service, detected_at=at(13))  # never gathered: not acknowledged yet

    observations = compute("mtta")

    assert [(o.incident, o.value, o.observed_at) for o in observations] == [
        (with_alerts, 12.0, at(10, 12)),
        (with_alert_phase, 20.0, at(11, 20)),
        (detected_only, 30.0, at(12, 30)),
    ]


def test_cadence_adherence_is_the_share_of_milestones_delivered_by_their_eta(computed_kpis, service):
    mostly_on_time = IncidentFactory(service=service, detected_at=at(9))
    MilestoneFactory(incident=mostly_on_time, committed_eta=at(9, 30), delivered_at=at(9, 20))
    MilestoneFactory(incident=mostly_on_time, committed_eta=at(10), delivered_at=at(10))  # exactly on time
    MilestoneFactory(incident=mostly_on_time, committed_eta=at(10, 30), delivered_at=at(10, 10))
    MilestoneFactory(incident=mostly_on_time, committed_eta=at(11), delivered_at=at(11, 1))  # late
    half = IncidentFactory(service=service, detected_at=at(12))
    MilestoneFactory(incident=half, committed_eta=at(12, 30), delivered_at=at(12, 30))
    MilestoneFactory(incident=half, committed_eta=at(13), delivered_at=None)  # never delivered

    observations = compute("cadence-adherence")

    assert [(o.incident, o.value, o.observed_at) for o in observations] == [
        (mostly_on_time, 75.0, at(11)),
        (half, 50.0, at(13)),
    ]


def test_stakeholder_satisfaction_is_the_mean_survey_score_at_the_last_response(computed_kpis, service):
    incident = IncidentFactory(service=service, detected_at=at(1))
    for score, hour in [(4, 9), (5, 10), (3, 14)]:
        SurveyResponseFactory(incident=incident, score=score, submitted_at=at(hour))

    [observation] = compute("stakeholder-satisfaction")

    assert (observation.incident, observation.value, observation.observed_at) == (incident, 4.0, at(14))


def test_p1_incident_count_counts_p1s_detected_in_the_30_days_ending_with_the_day(computed_kpis, service, company):
    IncidentFactory(service=service, severity=Severity.P1, detected_at=at(23, 59))
    IncidentFactory(service=service, severity=Severity.P1, detected_at=at(0, days=-29))  # first day of the window
    IncidentFactory(service=service, severity=Severity.P1, detected_at=at(23, days=-30))  # the day before it
    IncidentFactory(service=service, severity=Severity.P2, detected_at=at(8))
    other = ServiceFactory(domain__company=CompanyFactory(slug="comp-beta"))
    IncidentFactory(service=other, severity=Severity.P2, detected_at=at(8))  # incidents, but no P1
    CompanyFactory(slug="comp-quiet")  # no incidents at all: no value, not a fake 0

    observations = compute("p1-incident-count")

    assert sorted((o.company.slug, o.value) for o in observations) == [("comp-acme", 2.0), ("comp-beta", 0.0)]
    assert all(o.observed_at == BASE_TIME and o.incident is None and o.service is None for o in observations)


def test_noise_reduction_of_1000_alerts_into_350_incidents_is_65_percent(computed_kpis, service, company):
    incidents = make_incidents(350, service, detected_at=at(9), correlation_key="web-1|disk_full")
    Alert.objects.bulk_create(
        AlertFactory.build(company=company, incident=incidents[n % 350], issued_at=at(9, n % 60)) for n in range(1000)
    )
    AlertFactory(company=company, issued_at=at(9, days=1))  # the next day

    [observation] = compute("noise-reduction")

    assert observation.value == pytest.approx(65.0)
    assert (observation.company, observation.observed_at, observation.incident) == (company, BASE_TIME, None)
    evidence = noise_reduction_evidence(company, BASE_TIME, at(0, days=1))
    assert evidence == {"raw_alerts": 1000, "incidents_created": 350, "noise_reduction_pct": pytest.approx(65.0)}


def test_noise_reduction_counts_only_incidents_created_by_correlation(computed_kpis, service, company):
    correlated = IncidentFactory(service=service, correlation_key="web-1|disk_full")
    declared_by_hand = IncidentFactory(service=service, correlation_key="")
    for incident in [correlated, correlated, correlated, declared_by_hand]:
        AlertFactory(company=company, incident=incident, issued_at=at(10))

    [observation] = compute("noise-reduction")

    assert observation.value == pytest.approx(75.0)  # (1 - 1/4) * 100


def test_manual_45_minutes_against_automated_8_minutes_is_an_82_2_percent_mttr_reduction(computed_kpis, service, company):
    make_incidents(261, service, detected_at=at(8, days=-10), resolved_at=at(8, 45, days=-10))
    make_incidents(89, service, detected_at=at(9, days=-3), resolved_at=at(9, 8, days=-3), automation_used=True)
    make_incidents(5, service, detected_at=at(9, days=-40), resolved_at=at(12, days=-40))  # outside the 30 days
    for runbook, executions in [("SSM-DiskCleanup-001", 45), ("SSM-ServiceRestart-002", 32), ("SSM-LogRotation-003", 12)]:
        RunbookExecutionFactory.create_batch(executions, company=company, runbook_id=runbook, started_at=at(9, days=-3))

    [observation] = compute("mttr-reduction")

    assert observation.value == pytest.approx(82.2, abs=0.05)
    assert observation.observed_at == BASE_TIME
    evidence = mttr_reduction_evidence(company, at(0, days=-29), at(0, days=1))
    assert evidence["manual_mttr_minutes"] == pytest.approx(45.0)
    assert evidence["automated_mttr_minutes"] == pytest.approx(8.0)
    assert (evidence["manual_incidents"], evidence["automated_incidents"]) == (261, 89)
    assert [(runbook["runbook_id"], runbook["executions"]) for runbook in evidence["runbooks_used"]] == [
        ("SSM-DiskCleanup-001", 45), ("SSM-ServiceRestart-002", 32), ("SSM-LogRotation-003", 12)
    ]


def test_89_self_healed_of_350_resolved_incidents_is_25_4_percent(computed_kpis, service, company):
    make_incidents(261, service, detected_at=at(8, days=-10), resolved_at=at(8, 45, days=-10))
    make_incidents(89, service, detected_at=at(9, days=-3), resolved_at=at(9, 8, days=-3), automation_used=True)
    make_incidents(7, service, detected_at=at(9, days=-2))  # open: not resolved, not counted

    [observation] = compute("self-healed")

    assert observation.value == pytest.approx(25.4, abs=0.05)
    evidence = self_healed_evidence(company, at(0, days=-29), at(0, days=1))
    assert (evidence["automated_incidents"], evidence["total_incidents"]) == (89, 350)


def test_mttr_reduction_needs_both_manual_and_automated_incidents(computed_kpis, service):
    make_incidents(3, service, detected_at=at(8), resolved_at=at(9))

    assert compute("mttr-reduction") == []
    assert [o.value for o in compute("self-healed")] == [0.0]  # a real 0: incidents were resolved, none by runbook


def test_patch_compliance_of_42_compliant_of_48_instances_is_87_5_percent_from_the_latest_scan(computed_kpis, company):
    PatchComplianceSnapshotFactory(company=company, scanned_at=at(2), compliant_instances=40)
    PatchComplianceSnapshotFactory(company=company, scanned_at=at(14, 30), compliant_instances=42, critical_patches_missing=8)
    PatchComplianceSnapshotFactory(company=company, scanned_at=at(1, days=1), compliant_instances=10)  # next day

    [observation] = compute("patch-compliance")

    assert observation.value == 87.5
    evidence = patch_compliance_evidence(company, BASE_TIME, at(0, days=1))
    assert evidence["scanned_at"] == at(14, 30)
    assert (evidence["compliant_instances"], evidence["total_instances"], evidence["critical_patches_missing"]) == (42, 48, 8)


def test_daily_kpis_give_one_observation_per_day_with_data_and_none_for_empty_days(computed_kpis, company):
    PatchComplianceSnapshotFactory(company=company, scanned_at=at(9, days=-2), compliant_instances=24)
    PatchComplianceSnapshotFactory(company=company, scanned_at=at(9), compliant_instances=42)

    observations = compute("patch-compliance", since=DAY - datetime.timedelta(days=3), until=NEXT_DAY)

    assert [(o.observed_at.date(), o.value) for o in observations] == [
        (DAY - datetime.timedelta(days=2), 50.0),
        (DAY, 87.5),
    ]


def test_a_company_filter_computes_only_that_company(computed_kpis, service, company):
    IncidentFactory(service=service, detected_at=at(10), resolved_at=at(10, 30))
    IncidentFactory(service=ServiceFactory(), detected_at=at(10), resolved_at=at(11))

    observations = compute("mttr", company=company)

    assert [(o.company, o.value) for o in observations] == [(company, 30.0)]


def test_a_backfill_of_many_days_in_runs_gives_each_day_its_own_30_day_window(computed_kpis, service, company, monkeypatch):
    """Incidents on scattered days, with weeks of silence: every day of a 60-day backfill, in runs of 7, as counted by hand."""
    monkeypatch.setattr("kpis.calculators.registry.DAYS_PER_STATEMENT", 7)
    first = DAY - datetime.timedelta(days=59)
    incidents = []
    for offset, severity, automated, minutes in [
        (-3, Severity.P1, False, 60), (0, Severity.P2, True, 10), (0, Severity.P1, False, 30), (4, Severity.P3, True, 5),
        (20, Severity.P1, False, 90), (55, Severity.P1, True, 20), (59, Severity.P2, False, 40),
    ]:
        detected = BASE_TIME + datetime.timedelta(days=offset - 59, hours=23)
        resolved = detected + datetime.timedelta(minutes=minutes)  # past midnight: resolved the next day
        incidents.append((detected, resolved, severity, automated))
        IncidentFactory(service=service, severity=severity, detected_at=detected, resolved_at=resolved, automation_used=automated)

    def expected(day):
        window_start, end = BASE_TIME + datetime.timedelta(days=(day - DAY).days - 29), BASE_TIME + datetime.timedelta(days=(day - DAY).days + 1)
        detected = [i for i in incidents if window_start <= i[0] < end]
        resolved = [i for i in incidents if window_start <= i[1] < end]
        minutes = {kind: [(i[1] - i[0]).total_seconds() / 60 for i in resolved if i[3] == kind] for kind in (True, False)}
        mttr_reduction = 100 - 100 * statistics.mean(minutes[True]) / statistics.mean(minutes[False]) if all(minutes.values()) else None
        return {
            "p1-incident-count": float(sum(i[2] == Severity.P1 for i in detected)) if detected else None,
            "self-healed": 100.0 * len(minutes[True]) / len(resolved) if resolved else None,
            "mttr-reduction": mttr_reduction,
        }

    days = [first + datetime.timedelta(days=n) for n in range(60)]
    for slug in ("p1-incident-count", "self-healed", "mttr-reduction"):
        stored = {o.observed_at.date(): o.value for o in compute(slug, since=first, until=NEXT_DAY)}
        wanted = {day: value for day in days if (value := expected(day)[slug]) is not None}
        assert stored == pytest.approx(wanted), slug
        assert 0 < len(stored) < 60, slug  # days whose 30 days were silent have no value
