"""factory_boy factories of tenancy's models: companies, their domains and services, memberships."""
import factory

from tenancy import models as tenancy_models


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tenancy_models.Company
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"comp-{n}")
    name = factory.LazyAttribute(lambda company: company.slug.replace("comp-", "").title())


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tenancy_models.Domain

    company = factory.SubFactory(CompanyFactory)
    slug = factory.Sequence(lambda n: f"domain-{n}")
    name = factory.LazyAttribute(lambda domain: domain.slug.title())


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = tenancy_models.Service

    domain = factory.SubFactory(DomainFactory)
    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.LazyAttribute(lambda service: service.slug.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    """A user's membership of a company."""

    class Meta:
        model = tenancy_models.Membership
        django_get_or_create = ("user", "company")

    user = factory.SubFactory("tests.companyos.factories.UserFactory")
    company = factory.SubFactory(CompanyFactory)
