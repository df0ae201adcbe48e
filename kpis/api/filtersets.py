import django_filters

from companyos.api.filters import UtcDateTimeFilter
from tenancy.access import visible_companies
from tenancy.models import Company
from kpis.choices import Dimension, ProposalStatus, Status, Visibility
from kpis.models import KpiChangeProposal, KpiDefinition, Observation


class KpiDefinitionFilterSet(django_filters.FilterSet):
    dimension = django_filters.ChoiceFilter(choices=Dimension.choices)
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)
    owner = django_filters.CharFilter(field_name="owner__username", help_text="The owner's username.")

    class Meta:
        model = KpiDefinition
        fields = ["dimension", "visibility", "status", "owner"]


def _callers_companies(request):
    """The companies a filter may name: the caller's (another one is refused like an unknown slug)."""
    return visible_companies(request.user) if request is not None else Company.objects.none()


class ObservationFilterSet(django_filters.FilterSet):
    since = UtcDateTimeFilter(field_name="observed_at", lookup_expr="gte", help_text="Inclusive, ISO 8601.")
    until = UtcDateTimeFilter(field_name="observed_at", lookup_expr="lt", help_text="Exclusive, ISO 8601.")
    company = django_filters.ModelChoiceFilter(queryset=_callers_companies, to_field_name="slug")
    domain = django_filters.CharFilter(field_name="domain__slug", help_text="A domain slug (combine with company).")
    service = django_filters.CharFilter(field_name="service__slug", help_text="A service slug (combine with company).")

    class Meta:
        model = Observation
        fields = ["since", "until", "company", "domain", "service"]


class KpiChangeProposalFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    kpi = django_filters.CharFilter(field_name="kpi__slug", help_text="The KPI's slug.")

    class Meta:
        model = KpiChangeProposal
        fields = ["status", "kpi"]
