"""`manage.py kpi backfill`: recomputes observations exactly, on PostgreSQL and on SQLite."""
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.choices import Severity
from kpis.choices import ObservationSource
from kpis.models import Observation
from tests.helpers import SINCE, UNTIL, build_sample_data, moment, observation_values, sqlite_manage
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory

# By hand, over [2024-01-01, 2024-01-20): the P1 counts on every day from the 10th (10 days); MTTR
# reduction (1 - 8/45) * 100 from the 12th, when both kinds are resolved (8 days); self-healed 0 % on
# the 10th and 11th, then 1 of 2 = 50 %.
EXPECTED_VALUES = {
    "cadence-adherence": [50.0],
    "mtta": [10.0],
    "mttr": [45.0, 8.0],
    "mttr-reduction": [82.222] * 8,
    "noise-reduction": [75.0],
    "p1-incident-count": [1.0] * 10,
    "patch-compliance": [87.5],
    "self-healed": [0.0] * 2 + [50.0] * 8,
    "stakeholder-satisfaction": [4.5],
}


def all_columns_but_provenance():
    return list(
        Observation.objects.order_by("pk").values_list(
            "pk", "kpi_id", "company_id", "domain_id", "service_id", "incident_id", "observed_at", "value", "source", "confidence"
        )
    )


def backfill(*args):
    out = StringIO()
    call_command("kpi", "backfill", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_backfill_computes_every_kpi_from_incidents_timeline_and_milestones(computed_kpis):
    build_sample_data()

    output = backfill("--all", "--since", SINCE, "--until", UNTIL)

    assert observation_values() == EXPECTED_VALUES
    assert "mttr: wrote 2, removed 0 stale observations from 2024-01-01 to 2024-01-20." in output
    assert "p1-incident-count: wrote 10," in output


def test_running_a_backfill_twice_gives_identical_rows(computed_kpis):
    build_sample_data()
    backfill("--all", "--since", SINCE, "--until", UNTIL)
    first = all_columns_but_provenance()

    output = backfill("--all", "--since", SINCE, "--until", UNTIL)

    assert all_columns_but_provenance() == first
    assert "removed 0 stale" in output


def test_a_stale_computed_observation_is_removed_while_an_api_one_in_the_period_stays(computed_kpis):
    company = build_sample_data()
    backfill("--kpi", "mttr", "--since", SINCE, "--until", UNTIL)
    manual = company.incidents.get(severity=Severity.P1)
    # Ingested before computed KPIs took no observations: such a row stays as it is.
    ingested = ObservationFactory(kpi=computed_kpis["mttr"], company=company, observed_at=moment(15, 12), value=30.0)
    manual.resolved_at, manual.status = None, "open"  # reopened: its MTTR is no longer known
    manual.save()

    output = backfill("--kpi", "mttr", "--since", SINCE, "--until", UNTIL)

    assert "mttr: wrote 1, removed 1 stale" in output
    assert sorted(Observation.objects.values_list("source", "value")) == [("api", 30.0), ("backfill", 8.0)]
    assert Observation.objects.filter(pk=ingested.pk, value=30.0).exists()


def test_a_backfill_never_overwrites_an_ingested_observation_with_the_same_key(computed_kpis):
    company = build_sample_data()
    ObservationFactory(
        kpi=computed_kpis["patch-compliance"], company=company, observed_at=moment(12, 0), value=90.0, source=ObservationSource.DEMO
    )

    backfill("--kpi", "patch-compliance", "--since", SINCE, "--until", UNTIL)

    assert list(Observation.objects.values_list("source", "value")) == [("demo", 90.0)]


def test_a_backfill_outside_the_period_or_of_another_company_leaves_observations_alone(computed_kpis):
    build_sample_data()
    build_sample_data("comp-beta")
    backfill("--kpi", "mttr", "--since", SINCE, "--until", UNTIL)
    Observation.objects.update(value=-1)

    backfill("--kpi", "mttr", "--since", "2024-01-12", "--until", UNTIL, "--company", "comp-acme")

    assert sorted(Observation.objects.values_list("company__slug", "value")) == [
        ("comp-acme", -1.0), ("comp-acme", 8.0), ("comp-beta", -1.0), ("comp-beta", -1.0)
    ]


@pytest.mark.parametrize(
    "args, named",
    [
        (["--kpi", "no-such-kpi"], "'no-such-kpi'"),
        (["--kpi", "nps"], "'nps'"),  # defined, but ingest-only
        (["--kpi", "mttr", "--company", "comp-nobody"], "'comp-nobody'"),
        (["--kpi", "mttr", "--since", "2024-02-01", "--until", "2024-01-01"], "--since"),
    ],
)
def test_bad_backfill_arguments_are_refused_naming_what_is_wrong(computed_kpis, args, named):
    KpiDefinitionFactory(slug="nps", units="score")

    with pytest.raises(CommandError, match=named):
        backfill(*args)


def test_a_computed_kpi_without_a_definition_is_refused_naming_it(db):
    with pytest.raises(CommandError, match="'mttr'"):
        backfill("--kpi", "mttr")


SQLITE_SCRIPT = """
import json
from kpis.calculators import CALCULATORS
from tests.conftest import CATALOGUE_UNITS
from tests.helpers import build_sample_data
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
for slug in CALCULATORS:
    KpiDefinitionFactory(slug=slug, units=CATALOGUE_UNITS[slug], target=None, critical_threshold=None, weight=0)
build_sample_data()
"""
NIGHTLY_SCRIPT = """
from kpis.models import Observation
from pipeline.tasks import start_nightly_run
start_nightly_run.delay("2024-01-12")
print(sorted(Observation.objects.filter(source="nightly").values_list("kpi__slug", flat=True)))
"""
PRINT_VALUES_SCRIPT = "import json; from tests.helpers import observation_values; print(json.dumps(observation_values()))"


@pytest.mark.slow
def test_the_same_calculators_backfill_and_nightly_run_work_on_sqlite(tmp_path):
    manage = sqlite_manage(tmp_path)
    manage("migrate", "--no-input")
    manage("shell", "--no-imports", "-c", SQLITE_SCRIPT)
    manage("kpi", "backfill", "--all", "--since", SINCE, "--until", UNTIL)
    first = manage("shell", "--no-imports", "-c", PRINT_VALUES_SCRIPT)
    manage("kpi", "backfill", "--all", "--since", SINCE, "--until", UNTIL)
    second = manage("shell", "--no-imports", "-c", PRINT_VALUES_SCRIPT)
    nightly = manage("shell", "--no-imports", "-c", NIGHTLY_SCRIPT)  # eager, as under `make run`
    after_nightly = manage("shell", "--no-imports", "-c", PRINT_VALUES_SCRIPT)

    assert json.loads(first) == EXPECTED_VALUES
    assert second == first
    assert after_nightly == first
    assert nightly.strip() == str(["mttr", "mttr-reduction", "p1-incident-count", "patch-compliance", "self-healed"])
