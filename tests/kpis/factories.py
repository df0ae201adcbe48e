"""factory_boy factories of the registry: definitions (created through the audited service) and observations."""
import factory
from django.utils import timezone

from kpis import services
from kpis.choices import Dimension, Direction, ObservationSource, Status, Units, Visibility
from kpis.models import KpiDefinition, Observation
from tests.companyos.factories import BASE_TIME
from tests.tenancy.factories import CompanyFactory


class KpiDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiDefinition
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"kpi-{n}")
    name = factory.LazyAttribute(lambda kpi: kpi.slug.replace("-", " ").title())
    description = "Measures something that matters."
    formula = "avg(value)"
    units = Units.MINUTES
    direction = Direction.LOWER_IS_BETTER
    target = 30.0
    critical_threshold = 60.0
    visibility = Visibility.EXEC
    owner_role = "Ops Leader"
    dimension = Dimension.RELIABILITY
    weight = 1.0
    status = Status.ACTIVE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_definition(actor=None, reason="Created by a test factory", **kwargs)


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    kpi = factory.SubFactory(KpiDefinitionFactory)
    company = factory.SubFactory(CompanyFactory)
    observed_at = BASE_TIME
    value = 42.0
    source = ObservationSource.API
    computed_at = factory.LazyFunction(timezone.now)
