import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kpis.models import Observation
from tests.kpis.factories import KpiDefinitionFactory, ObservationFactory
from tests.tenancy.factories import CompanyFactory


@pytest.mark.django_db
def test_an_observation_without_incident_is_unique_per_kpi_scope_and_time():
    kpi = KpiDefinitionFactory(slug="noise-reduction")
    company = CompanyFactory(slug="comp-acme")
    ObservationFactory(kpi=kpi, company=company)
    with pytest.raises(IntegrityError), transaction.atomic():
        ObservationFactory(kpi=kpi, company=company)
    ObservationFactory(kpi=kpi, company=CompanyFactory(slug="comp-beta"))
    assert Observation.objects.filter(kpi=kpi).count() == 2


@pytest.mark.django_db
def test_a_critical_threshold_on_the_wrong_side_is_refused_naming_the_field():
    with pytest.raises(ValidationError) as refused:
        KpiDefinitionFactory(slug="mttr", direction="lower", target=30, critical_threshold=20)
    assert "critical_threshold" in refused.value.message_dict
