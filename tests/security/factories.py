"""factory_boy factories of security's models: scan reports, vulnerabilities, secret findings, and the reports they came from."""
import factory

from tests.companyos.factories import BASE_TIME
from tests.tenancy.factories import CompanyFactory, ServiceFactory


class ScanEventFactory(factory.django.DjangoModelFactory):
    """The received report a scan report or finding came from."""

    class Meta:
        model = "connectors.SourceEvent"

    source = "trivy"
    delivery_id = factory.Sequence(lambda n: f"scan-{n}")
    event_type = "scan-report"
    company = factory.SubFactory(CompanyFactory)
    payload = factory.LazyFunction(dict)


class ScanReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.ScanReport"

    service = factory.SubFactory(ServiceFactory)
    scanner = "trivy"
    scanned_at = BASE_TIME
    findings = 0
    source_event = factory.SubFactory(
        ScanEventFactory, source=factory.SelfAttribute("..scanner"), company=factory.SelfAttribute("..service.domain.company")
    )


class VulnerabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.Vulnerability"

    service = factory.SubFactory(ServiceFactory)
    scanner = "trivy"
    vulnerability_id = factory.Sequence(lambda n: f"CVE-2024-{1000 + n}")
    package = "openssl"
    installed_version = "3.1.4-r2"
    fixed_version = "3.1.4-r5"
    severity = "high"
    title = "openssl: denial of service"
    first_seen_at = BASE_TIME
    last_seen_at = factory.LazyAttribute(lambda vulnerability: vulnerability.fixed_at or vulnerability.first_seen_at)
    fixed_at = None
    last_seen_event = factory.SubFactory(ScanEventFactory, company=factory.SelfAttribute("..service.domain.company"))


class SecretFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.SecretFinding"

    service = factory.SubFactory(ServiceFactory)
    fingerprint = factory.Sequence(lambda n: f"{n:040x}:config/settings.py:aws-access-token:{n + 1}")
    rule_id = "aws-access-token"
    file = "config/settings.py"
    line = factory.Sequence(lambda n: n + 1)
    match = "AWS_ACCESS_KEY_ID = REDACTED"
    found_at = BASE_TIME
    detected_at = BASE_TIME
    resolved_at = None
    source_event = factory.SubFactory(
        ScanEventFactory, source="gitleaks", company=factory.SelfAttribute("..service.domain.company")
    )
