"""
The scanners' JSON reports, read into rows. Every refusal names the position at fault, e.g.
`Results[0].Vulnerabilities[3].Severity`.

- Trivy: `trivy image|fs --format json` (SchemaVersion 2): Results[].Vulnerabilities[]; its CreatedAt is the scan time.
- Snyk: `snyk test --json`: one project's result, or with --all-projects an array of them; vulnerabilities[]
  lists an issue once per dependency path, and license issues, which are not vulnerabilities, are skipped.
- Gitleaks: `gitleaks detect --report-format json`: an array of findings. A finding carries the secret in
  `Secret`, `Match` (and `Line`); `redact_gitleaks` replaces it by REDACTED, as `gitleaks --redact` does,
  before the report is stored or read, so no table ever holds a secret.
"""
import copy
import datetime
import json
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from companyos.api.parsers import JsonTooDeep, load_json

from .choices import Scanner, Severity
from .models import SecretFinding, Vulnerability

REDACTED = "REDACTED"

# Trivy's UNKNOWN (not rated yet) counts as low: tracked with the longest deadline rather than dropped.
TRIVY_SEVERITIES = {
    "CRITICAL": Severity.CRITICAL, "HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW,
    "UNKNOWN": Severity.LOW,
}
SNYK_SEVERITIES = {severity.value: severity for severity in Severity}
MAX_LINE = 2**31 - 1  # what a PositiveIntegerField holds on every database
# What each column holds: a longer identifier is refused, a longer title or description shortened.
VULNERABILITY_LENGTHS = {field.name: field.max_length for field in Vulnerability._meta.fields if field.max_length}
SECRET_LENGTHS = {field.name: field.max_length for field in SecretFinding._meta.fields if field.max_length}


class VulnerabilityRow(NamedTuple):
    vulnerability_id: str
    package: str
    installed_version: str
    fixed_version: str
    severity: str
    title: str
    aliases: str

    @property
    def key(self):
        return self.vulnerability_id, self.package


class SecretRow(NamedTuple):
    fingerprint: str
    rule_id: str
    description: str
    file: str
    line: int
    commit: str
    match: str
    committed_at: object  # an aware datetime, or None when the report has no commit date

    @property
    def key(self):
        return self.fingerprint


class Report(NamedTuple):
    scanned_at: object  # the report's own time (an aware datetime) or None
    findings: list  # VulnerabilityRow or SecretRow, each key once


# --- Reading values, naming the position of what is wrong ------------------------------------------------


def _refuse(path, message):
    raise ValidationError({path or "body": message})


def _json_type(value):
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _at(path, key):
    return f"{path}.{key}" if path else key


def _object(value, path):
    if not isinstance(value, dict):
        _refuse(path, f"Expected an object, got {_json_type(value)}.")
    return value


def _array(value, path, *, optional=False):
    """A JSON array; a missing or null one is empty when `optional` (Trivy omits empty ones)."""
    if value is None and optional:
        return []
    if not isinstance(value, list):
        _refuse(path, f"Expected an array, got {_json_type(value)}.")
    return value


def _text(item, key, path, *, max_length, required=True, truncate=False):
    value = item.get(key)
    where = _at(path, key)
    if value is None or value == "":
        if required:
            _refuse(where, "This field is required.")
        return ""
    if not isinstance(value, str):
        _refuse(where, f"Expected a string, got {_json_type(value)}.")
    if len(value) > max_length:
        if not truncate:
            _refuse(where, f"At most {max_length} characters; this one has {len(value)}.")
        value = value[: max_length - 1] + "…"
    return value


def _strings(item, key, path):
    """An optional array of strings, e.g. Snyk's fixedIn."""
    values = _array(item.get(key), _at(path, key), optional=True)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            _refuse(f"{_at(path, key)}[{index}]", f"Expected a string, got {_json_type(value)}.")
    return values


def parse_time(value):
    """An ISO 8601 time with a time zone as an aware UTC datetime; None for anything else."""
    try:
        moment = parse_datetime(value)
        return moment.astimezone(datetime.timezone.utc) if moment and moment.tzinfo else None
    except (ValueError, OverflowError):  # well formed but no such time, e.g. a 13th month
        return None


def _time(item, key, path):
    """An optional ISO 8601 time with a time zone; None when missing or empty."""
    value = item.get(key)
    if value is None or value == "":
        return None
    moment = parse_time(value) if isinstance(value, str) else None
    if moment is None:
        _refuse(_at(path, key), f"Expected an ISO 8601 time with a time zone, got {json.dumps(value)}.")
    return moment


def read_json(content, field="body"):
    """The report's bytes as JSON (no deeper than settings.JSON_MAX_DEPTH); a syntax error is refused with its line and column."""
    try:
        return load_json(content)
    except JsonTooDeep as error:
        raise ValidationError({field: str(error)}) from None
    except UnicodeDecodeError as error:
        raise ValidationError({field: f"Not UTF-8 text: {error}."}) from None
    except json.JSONDecodeError as error:
        raise ValidationError({field: f"Not JSON: {error.msg} at line {error.lineno} column {error.colno}."}) from None


# --- Trivy ------------------------------------------------------------------------------------------------


def parse_trivy(payload):
    """The vulnerabilities of a Trivy JSON report (SchemaVersion 2) and its CreatedAt."""
    _object(payload, "")
    if payload.get("SchemaVersion") != 2:
        _refuse("SchemaVersion", f"Expected 2 (trivy --format json), got {json.dumps(payload.get('SchemaVersion'))}.")
    rows = {}
    for r, result in enumerate(_array(payload.get("Results"), "Results", optional=True)):
        path = f"Results[{r}]"
        _object(result, path)
        for v, found in enumerate(_array(result.get("Vulnerabilities"), f"{path}.Vulnerabilities", optional=True)):
            where = f"{path}.Vulnerabilities[{v}]"
            _object(found, where)
            severity = found.get("Severity")
            if severity not in TRIVY_SEVERITIES:
                _refuse(f"{where}.Severity", f"{json.dumps(severity)} is not one of {', '.join(TRIVY_SEVERITIES)}.")
            row = VulnerabilityRow(
                vulnerability_id=_text(found, "VulnerabilityID", where, max_length=VULNERABILITY_LENGTHS["vulnerability_id"]),
                package=_text(found, "PkgName", where, max_length=VULNERABILITY_LENGTHS["package"]),
                installed_version=_text(
                    found, "InstalledVersion", where, required=False, max_length=VULNERABILITY_LENGTHS["installed_version"]
                ),
                fixed_version=_text(found, "FixedVersion", where, required=False, max_length=VULNERABILITY_LENGTHS["fixed_version"]),
                severity=TRIVY_SEVERITIES[severity],
                title=_text(found, "Title", where, required=False, truncate=True, max_length=VULNERABILITY_LENGTHS["title"]),
                aliases="",
            )
            # A package found in several targets (two lock files, two layers) is one vulnerability.
            rows.setdefault(row.key, row)
    return Report(_time(payload, "CreatedAt", ""), list(rows.values()))


# --- Snyk -------------------------------------------------------------------------------------------------


def _snyk_row(found, where):
    severity = found.get("severity")
    if severity not in SNYK_SEVERITIES:
        _refuse(f"{where}.severity", f"{json.dumps(severity)} is not one of {', '.join(SNYK_SEVERITIES)}.")
    identifiers = _object(found.get("identifiers") or {}, f"{where}.identifiers")
    return VulnerabilityRow(
        vulnerability_id=_text(found, "id", where, max_length=VULNERABILITY_LENGTHS["vulnerability_id"]),
        package=_text(found, "packageName", where, max_length=VULNERABILITY_LENGTHS["package"]),
        installed_version=_text(found, "version", where, required=False, max_length=VULNERABILITY_LENGTHS["installed_version"]),
        fixed_version=", ".join(_strings(found, "fixedIn", where))[: VULNERABILITY_LENGTHS["fixed_version"]],
        severity=SNYK_SEVERITIES[severity],
        title=_text(found, "title", where, required=False, truncate=True, max_length=VULNERABILITY_LENGTHS["title"]),
        aliases=", ".join(_strings(identifiers, "CVE", f"{where}.identifiers"))[: VULNERABILITY_LENGTHS["aliases"]],
    )


def parse_snyk(payload):
    """The vulnerabilities of `snyk test --json` output (one project, or an array of projects); Snyk has no scan time."""
    projects = payload if isinstance(payload, list) else [payload]
    rows = {}
    for p, project in enumerate(projects):
        path = f"[{p}]" if isinstance(payload, list) else ""
        _object(project, path)
        if "vulnerabilities" not in project and project.get("error"):
            _refuse(_at(path, "error"), f"Snyk reported an error instead of a test result: {project['error']}")
        for v, found in enumerate(_array(project.get("vulnerabilities"), _at(path, "vulnerabilities"))):
            where = f"{_at(path, 'vulnerabilities')}[{v}]"
            _object(found, where)
            if found.get("type") == "license":
                continue
            row = _snyk_row(found, where)
            rows.setdefault(row.key, row)
    return Report(None, list(rows.values()))


# --- Gitleaks ---------------------------------------------------------------------------------------------


def _redacted(text, secret):
    """`text` with `secret` replaced by REDACTED; all of it when the secret is unknown or not found in it."""
    if isinstance(text, str) and isinstance(secret, str) and secret and secret in text:
        return text.replace(secret, REDACTED)
    return REDACTED


def redact_gitleaks(payload):
    """A copy of a Gitleaks report with every finding's Secret, Match and Line redacted (idempotent)."""
    if not isinstance(payload, list):
        return payload
    redacted = copy.deepcopy(payload)
    for finding in redacted:
        if isinstance(finding, dict):
            secret = finding.get("Secret")
            for key in ("Match", "Line"):
                if key in finding:
                    finding[key] = _redacted(finding[key], secret)
            if "Secret" in finding:
                finding["Secret"] = REDACTED
    return redacted


def parse_gitleaks(payload):
    """The findings of a Gitleaks JSON report (an array); `match` comes redacted whatever the input."""
    if not isinstance(payload, list):
        _refuse("body", f"A Gitleaks JSON report is an array of findings, got {_json_type(payload)}.")
    rows = {}
    for index, finding in enumerate(payload):
        where = f"[{index}]"
        _object(finding, where)
        line = finding.get("StartLine")
        if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line <= MAX_LINE:
            _refuse(f"{where}.StartLine", f"Expected a line number, got {json.dumps(line)}.")
        rule_id = _text(finding, "RuleID", where, max_length=SECRET_LENGTHS["rule_id"])
        file = _text(finding, "File", where, max_length=SECRET_LENGTHS["file"])
        commit = _text(finding, "Commit", where, required=False, max_length=SECRET_LENGTHS["commit"])
        # Gitleaks' own fingerprint when the report has none (older versions): commit:file:rule:line.
        fingerprint = _text(finding, "Fingerprint", where, required=False, max_length=SECRET_LENGTHS["fingerprint"])
        row = SecretRow(
            fingerprint=fingerprint or ":".join(part for part in (commit, file, rule_id, str(line)) if part),
            rule_id=rule_id,
            description=_text(finding, "Description", where, required=False, truncate=True, max_length=SECRET_LENGTHS["description"]),
            file=file,
            line=line,
            commit=commit,
            match=_redacted(finding.get("Match"), finding.get("Secret")),
            committed_at=_time(finding, "Date", where),
        )
        rows.setdefault(row.key, row)
    return Report(None, list(rows.values()))


PARSERS = {Scanner.TRIVY: parse_trivy, Scanner.SNYK: parse_snyk, Scanner.GITLEAKS: parse_gitleaks}
