"""
Applying a scanner's report to a service. The API upload, the admin upload page and the demo all call
`apply_report`, which keeps the file as a connectors.SourceEvent and applies it once, all or nothing.
"""
import datetime
import json

from django.core.exceptions import ValidationError
from django.core.validators import slug_re
from django.utils import timezone

from connectors.services import Ignored, receive, upload_delivery_id
from tenancy.models import Service

from .choices import VULNERABILITY_SCANNERS, Scanner
from .models import ScanReport, SecretFinding, Vulnerability
from .scanners import PARSERS, read_json, redact_gitleaks

# A report's scan time may run ahead of our clock by this much (the scanner's clock is not ours).
CLOCK_SKEW = datetime.timedelta(minutes=5)
# The model permission whoever uploads a scanner's reports needs (a data source's token, an admin user).
UPLOAD_PERMISSIONS = {
    Scanner.TRIVY: "security.add_vulnerability",
    Scanner.SNYK: "security.add_vulnerability",
    Scanner.GITLEAKS: "security.add_secretfinding",
}
BATCH_SIZE = 500  # rows per bulk statement: a large report stays a handful of statements


def service_named(company, reference):
    """
    The service `reference` (`<service>`, or `<domain>/<service>` when several domains have one of that
    slug) of `company`; a ValidationError names what is missing, unknown or ambiguous.
    """
    if not reference:
        raise ValidationError({"service": "Name the service, e.g. service=gateway or service=api-gateway/gateway."})
    domain_slug, _, service_slug = reference.rpartition("/")
    if not slug_re.match(service_slug) or (domain_slug and not slug_re.match(domain_slug)):
        raise ValidationError({"service": f"{json.dumps(reference)} is not <service> or <domain>/<service>."})
    services = Service.objects.filter(domain__company=company, slug=service_slug).select_related("domain__company")
    if domain_slug:
        services = services.filter(domain__slug=domain_slug)
    found = list(services.order_by("domain__slug"))
    if not found:
        raise ValidationError({"service": f"'{company.slug}' has no service '{reference}'."})
    if len(found) > 1:
        named = ", ".join(f"{service.domain.slug}/{service.slug}" for service in found)
        raise ValidationError({"service": f"Several domains of '{company.slug}' have a service '{reference}': name one of {named}."})
    return found[0]


def _refuse_future(moment, field):
    if moment > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: f"{moment.isoformat()} is in the future."})


def apply_report(service, scanner, content, *, scanned_at=None, user=None):
    """
    Apply the report `content` (the file's bytes) of `scanner` to `service` and return connectors'
    Received (the event and what it produced: the scan report and the findings opened, reopened,
    fixed (resolved) and unchanged).

    The report is the service's full current state for that scanner. Its scan time is `scanned_at` when
    given, else the report's own (Trivy's CreatedAt), else the upload time. A report older than the
    latest one applied for the service and scanner changes nothing (ignored, saying why).

    The same file for the same service (and the same explicit `scanned_at`) is one delivery: uploading it
    again changes nothing. A Gitleaks report is redacted before anything is kept (see security.scanners):
    the stored payload, its delivery ID and the findings never hold a secret.

    Raises ValidationError naming the field or position at fault: the body when it is not JSON (nothing
    is kept), a report field otherwise (the event is kept as failed).
    """
    payload = read_json(content)
    if scanner == Scanner.GITLEAKS:
        payload = redact_gitleaks(payload)
        content = json.dumps(payload, sort_keys=True).encode()
    scope = [service.pk]
    if scanned_at is not None:
        _refuse_future(scanned_at, "scanned_at")
        scope.append(scanned_at.isoformat())

    def apply(event):
        report = PARSERS[scanner](event.payload)
        if report.scanned_at is not None:
            _refuse_future(report.scanned_at, "CreatedAt")
        at = scanned_at or report.scanned_at or event.received_at
        # One report of a service at a time: the latest-report check and the findings' keys stay consistent.
        Service.objects.select_for_update().filter(pk=service.pk).first()
        latest = (
            ScanReport.objects.filter(service=service, scanner=scanner)
            .order_by("-scanned_at").values_list("scanned_at", flat=True).first()
        )
        if latest is not None and at < latest:
            raise Ignored(
                f"A newer {Scanner(scanner).label} report of {service} (scanned at {latest.isoformat()}) already gives "
                f"its state; this one (scanned at {at.isoformat()}) changes nothing."
            )
        scan = ScanReport.objects.create(
            service=service, scanner=scanner, scanned_at=at, findings=len(report.findings), source_event=event
        )
        if scanner in VULNERABILITY_SCANNERS:
            produced = {"security.vulnerability": _apply_vulnerabilities(service, scanner, report.findings, at, event)}
        else:
            produced = {"security.secretfinding": _apply_secrets(service, report.findings, at, event)}
        return {"security.scanreport": [scan.pk], **produced}

    return receive(
        scanner, upload_delivery_id(content, *scope), apply, event_type="scan-report", payload=payload,
        company=service.domain.company, user=user,
    )


def _reconcile(model, stored, rows, at, *, closed_field, closed, build, refresh=None, refreshed_fields=()):
    """
    Bring a service's stored findings (`stored`, by key) in line with a report's `rows`: a new key is built
    (`build(row)`), a returning one reopened (`closed_field` cleared) and refreshed (`refresh(finding, row)`), an
    absent open one closed at `at`. Saves them in bulk; returns the primary keys of each outcome ("opened",
    "reopened", `closed`, "unchanged").
    """
    outcome = {"opened": [], "reopened": [], closed: [], "unchanged": []}
    new, changed = [], []
    for row in rows:
        finding = stored.pop(row.key, None)
        if finding is None:
            new.append(build(row))
            continue
        returning = getattr(finding, closed_field) is not None
        outcome["reopened" if returning else "unchanged"].append(finding.pk)
        setattr(finding, closed_field, None)
        if refresh:
            refresh(finding, row)
        if returning or refresh:
            changed.append(finding)
    for finding in stored.values():
        if getattr(finding, closed_field) is None:
            setattr(finding, closed_field, at)
            changed.append(finding)
            outcome[closed].append(finding.pk)
    model.objects.bulk_create(new, batch_size=BATCH_SIZE)
    outcome["opened"] = [finding.pk for finding in new]
    model.objects.bulk_update(changed, [closed_field, *refreshed_fields], batch_size=BATCH_SIZE)
    return outcome


def _apply_vulnerabilities(service, scanner, rows, at, event):
    """Open the new, reopen the returning, fix the absent; the primary keys of each, by outcome."""

    def refresh(vulnerability, row):
        for field, value in row._asdict().items():
            setattr(vulnerability, field, value)
        vulnerability.last_seen_at, vulnerability.last_seen_event = at, event

    return _reconcile(
        Vulnerability,
        {(v.vulnerability_id, v.package): v for v in Vulnerability.objects.filter(service=service, scanner=scanner)},
        rows,
        at,
        closed_field="fixed_at",
        closed="fixed",
        build=lambda row: Vulnerability(
            service=service, scanner=scanner, first_seen_at=at, last_seen_at=at, last_seen_event=event, **row._asdict()
        ),
        refresh=refresh,
        refreshed_fields=(
            "installed_version", "fixed_version", "severity", "title", "aliases", "last_seen_at", "last_seen_event",
        ),
    )


def _apply_secrets(service, rows, at, event):
    """Open the new, reopen the returning, resolve the absent; the primary keys of each, by outcome."""

    def build(row):
        fields = row._asdict()
        found_at = fields.pop("committed_at") or at
        return SecretFinding(service=service, found_at=found_at, detected_at=at, source_event=event, **fields)

    return _reconcile(
        SecretFinding,
        {finding.fingerprint: finding for finding in SecretFinding.objects.filter(service=service)},
        rows,
        at,
        closed_field="resolved_at",
        closed="resolved",
        build=build,
    )
