"""
Demo scanner history: for every service a Trivy image scan and a Snyk test about weekly, and a Gitleaks
scan every ten days or so, each a report in the tool's JSON format applied through
security.services.apply_report, the upload's own path.

Vulnerabilities appear between scans and are mostly fixed well within their SLA; a few are late and the
occasional critical lingers for weeks. Gitleaks reports are mostly empty; a rare committed secret is
usually gone by the next scan. Every value comes from random.Random seeded with the seed, "scanners", the
company and the service, and every time from the period, so the same arguments give the same reports (a
second run is all redeliveries). Reports that would be scanned after `end` (or now) are not applied.
"""
import datetime
import json
import random
import string
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from security.choices import SLA_DAYS, Scanner, Severity
from security.services import apply_report
from tenancy.models import Service

from ..registry import demo_source

VULNERABILITY_SCAN_DAYS = (6.0, 7.0)  # days between two Trivy or Snyk scans of a service
GITLEAKS_SCAN_DAYS = (9.0, 11.0)
INITIAL_VULNERABILITIES = (2, 4)  # open when the period starts
NEW_VULNERABILITIES_PER_DAY = 0.18  # per service and scanner
# Fix delays as a share of the severity's SLA: most well within, a few late, the occasional critical left for weeks.
ON_TIME, LATE, LINGERING = (0.1, 0.7), (1.05, 1.5), (1.3, 2.2)
LATE_SHARE, LINGERING_CRITICAL_SHARE = 0.07, 0.2
SECRET_SHARE = 0.05  # Gitleaks reports that find a newly committed secret
SECRET_REMOVED_SHARE = 0.9  # found secrets gone (history rewritten, allowlisted) by the next report


@dataclass(frozen=True)
class Advisory:
    vulnerability_id: str
    package: str
    installed: str
    fixed: tuple
    severity: str
    cwe: str
    title: str
    cve: str = ""
    go: bool = False  # Trivy: in the service's Go binary, not an Alpine package


TRIVY_ADVISORIES = [
    Advisory("CVE-2023-45853", "zlib", "1.3-r2", ("1.3.1-r0",), Severity.CRITICAL, "CWE-190",
             "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6"),
    Advisory("CVE-2024-0727", "libcrypto3", "3.1.4-r2", ("3.1.4-r5",), Severity.MEDIUM, "CWE-476",
             "openssl: denial of service via null dereference"),
    Advisory("CVE-2024-0727", "libssl3", "3.1.4-r2", ("3.1.4-r5",), Severity.MEDIUM, "CWE-476",
             "openssl: denial of service via null dereference"),
    Advisory("CVE-2023-6237", "libcrypto3", "3.1.4-r2", ("3.1.4-r4",), Severity.LOW, "CWE-606",
             "openssl: Excessive time spent checking invalid RSA public keys"),
    Advisory("CVE-2024-2511", "libssl3", "3.1.4-r5", ("3.1.4-r6",), Severity.LOW, "CWE-1325",
             "openssl: Unbounded memory growth with session handling in TLSv1.3"),
    Advisory("CVE-2024-4603", "libcrypto3", "3.1.4-r6", ("3.1.5-r0",), Severity.MEDIUM, "CWE-834",
             "openssl: Excessive time spent checking DSA keys and parameters"),
    Advisory("CVE-2024-6119", "libssl3", "3.1.6-r0", ("3.1.7-r0",), Severity.HIGH, "CWE-843",
             "openssl: Possible denial of service in X.509 name checks"),
    Advisory("CVE-2024-5535", "libcrypto3", "3.1.5-r0", ("3.1.6-r0",), Severity.CRITICAL, "CWE-200",
             "openssl: SSL_select_next_proto buffer overread"),
    Advisory("CVE-2023-42363", "busybox", "1.36.1-r15", ("1.36.1-r17",), Severity.MEDIUM, "CWE-416",
             "busybox: use-after-free in awk"),
    Advisory("CVE-2023-42366", "busybox", "1.36.1-r15", ("1.36.1-r16",), Severity.MEDIUM, "CWE-122",
             "busybox: a heap-buffer-overflow"),
    Advisory("CVE-2024-45491", "expat", "2.6.2-r0", ("2.6.3-r0",), Severity.CRITICAL, "CWE-190",
             "libexpat: Integer Overflow or Wraparound"),
    Advisory("CVE-2024-45492", "expat", "2.6.2-r0", ("2.6.3-r0",), Severity.HIGH, "CWE-190",
             "libexpat: integer overflow"),
    Advisory("CVE-2024-2398", "curl", "8.5.0-r0", ("8.7.1-r0",), Severity.MEDIUM, "CWE-772",
             "curl: HTTP/2 push headers memory-leak"),
    Advisory("CVE-2024-2004", "curl", "8.5.0-r0", ("8.7.1-r0",), Severity.LOW, "CWE-434",
             "curl: Usage of disabled protocol"),
    Advisory("CVE-2023-39325", "golang.org/x/net", "v0.15.0", ("0.17.0",), Severity.HIGH, "CWE-770",
             "golang: net/http, x/net/http2: rapid stream resets can cause excessive work (CVE-2023-44487)", go=True),
    Advisory("CVE-2023-45288", "golang.org/x/net", "v0.17.0", ("0.23.0",), Severity.MEDIUM, "CWE-400",
             "golang: net/http, x/net/http2: unlimited number of CONTINUATION frames causes DoS", go=True),
    Advisory("CVE-2024-24790", "stdlib", "1.21.5", ("1.21.11", "1.22.4"), Severity.CRITICAL, "CWE-115",
             "golang: net/netip: Unexpected behavior from Is methods for IPv4-mapped IPv6 addresses", go=True),
    Advisory("CVE-2024-24791", "stdlib", "1.21.5", ("1.21.12", "1.22.5"), Severity.HIGH, "CWE-400",
             "net/http: Denial of service due to improper 100-continue handling in net/http", go=True),
    Advisory("CVE-2023-48795", "golang.org/x/crypto", "v0.14.0", ("0.17.0",), Severity.MEDIUM, "CWE-354",
             "ssh: Prefix truncation attack on Binary Packet Protocol (BPP)", go=True),
]

SNYK_ADVISORIES = [
    Advisory("SNYK-JS-LODASH-567746", "lodash", "4.17.15", ("4.17.19",), Severity.HIGH, "CWE-1321",
             "Prototype Pollution", "CVE-2020-8203"),
    Advisory("SNYK-JS-PROTOBUFJS-5756498", "protobufjs", "7.2.3", ("6.11.4", "7.2.5"), Severity.CRITICAL, "CWE-1321",
             "Prototype Pollution", "CVE-2023-36665"),
    Advisory("SNYK-JS-AXIOS-6032459", "axios", "1.5.1", ("0.28.0", "1.6.0"), Severity.MEDIUM, "CWE-352",
             "Cross-site Request Forgery (CSRF)", "CVE-2023-45857"),
    Advisory("SNYK-JS-SEMVER-3247795", "semver", "7.5.1", ("5.7.2", "6.3.1", "7.5.2"), Severity.MEDIUM, "CWE-1333",
             "Regular Expression Denial of Service (ReDoS)", "CVE-2022-25883"),
    Advisory("SNYK-JS-JSONWEBTOKEN-3180026", "jsonwebtoken", "8.5.1", ("9.0.0",), Severity.MEDIUM, "CWE-287",
             "Improper Restriction of Security Token Assignment", "CVE-2022-23540"),
    Advisory("SNYK-JS-FOLLOWREDIRECTS-6141137", "follow-redirects", "1.15.3", ("1.15.4",), Severity.MEDIUM, "CWE-20",
             "Improper Input Validation", "CVE-2023-26159"),
    Advisory("SNYK-JS-WS-7266574", "ws", "8.13.0", ("7.5.10", "8.17.1"), Severity.HIGH, "CWE-476",
             "Denial of Service (DoS)", "CVE-2024-37890"),
    Advisory("SNYK-JS-EXPRESS-7926867", "express", "4.18.2", ("4.20.0", "5.0.0"), Severity.MEDIUM, "CWE-79",
             "Cross-site Scripting", "CVE-2024-43796"),
    Advisory("SNYK-JS-BRACES-6838727", "braces", "3.0.2", ("3.0.3",), Severity.HIGH, "CWE-1050",
             "Excessive Platform Resource Consumption within a Loop", "CVE-2024-4068"),
    Advisory("SNYK-JS-PATHTOREGEXP-7925106", "path-to-regexp", "0.1.7", ("0.1.10", "3.3.0", "8.0.0"), Severity.HIGH, "CWE-1333",
             "Regular Expression Denial of Service (ReDoS)", "CVE-2024-45296"),
    Advisory("SNYK-JS-IP-6240864", "ip", "2.0.0", ("1.1.9", "2.0.1"), Severity.LOW, "CWE-918",
             "Server-side Request Forgery (SSRF)", "CVE-2023-42282"),
    Advisory("SNYK-JS-XML2JS-5414874", "xml2js", "0.4.23", ("0.5.0",), Severity.MEDIUM, "CWE-1321",
             "Prototype Pollution", "CVE-2023-0842"),
    Advisory("SNYK-JS-ELLIPTIC-8187303", "elliptic", "6.5.7", ("6.6.0",), Severity.CRITICAL, "CWE-347",
             "Improper Verification of Cryptographic Signature", "CVE-2024-48949"),
    Advisory("SNYK-JS-CROSSSPAWN-8303230", "cross-spawn", "7.0.3", ("6.0.6", "7.0.5"), Severity.HIGH, "CWE-1333",
             "Regular Expression Denial of Service (ReDoS)", "CVE-2024-21538"),
    Advisory("SNYK-JS-TOUGHCOOKIE-5672873", "tough-cookie", "4.1.2", ("4.1.3",), Severity.MEDIUM, "CWE-1321",
             "Prototype Pollution", "CVE-2023-26136"),
]

GO_SOURCE = {"ID": "ghsa", "Name": "GitHub Security Advisory Go", "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Ago"}
ALPINE_SOURCE = {"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"}
SNYK_POLICY = "# Snyk (https://snyk.io) policy file, patches or ignores known vulnerabilities.\nversion: v1.25.0\nignore: {}\npatch: {}\n"
TRIVY_SEVERITY = {Severity.CRITICAL: "CRITICAL", Severity.HIGH: "HIGH", Severity.MEDIUM: "MEDIUM", Severity.LOW: "LOW"}
CVSS_SCORE = {Severity.CRITICAL: 9.8, Severity.HIGH: 7.5, Severity.MEDIUM: 5.3, Severity.LOW: 3.7}
SECRET_RULES = [
    ("aws-access-token", "Identified a pattern that may indicate AWS credentials.", "AWS_ACCESS_KEY_ID = \"{}\"",
     lambda rng: "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))),
    ("generic-api-key", "Detected a Generic API Key, potentially exposing access to various services.", "api_key: {}",
     lambda rng: f"{rng.getrandbits(160):040x}"),
    ("github-pat", "Uncovered a GitHub Personal Access Token, potentially leading to unauthorized repository access.",
     "GITHUB_TOKEN={}", lambda rng: "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))),
]
SECRET_FILES = ["deploy/values-staging.yaml", ".env.local", "scripts/backfill.py", "config/settings.py", "docker-compose.override.yml"]
AUTHORS = [("Maya Okafor", "maya.okafor"), ("Lin Zhao", "lin.zhao"), ("Tomas Novak", "tomas.novak"), ("Priya Raman", "priya.raman")]


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _scan_times(rng, start, end, spacing):
    moment = start + datetime.timedelta(days=rng.uniform(0, spacing[0] / 2))
    times = []
    while moment < end:
        times.append(moment)
        moment += datetime.timedelta(days=rng.uniform(*spacing))
    return times


def _fix_delay(rng, severity):
    """Days from a vulnerability's arrival to its fix."""
    if severity == Severity.CRITICAL and rng.random() < LINGERING_CRITICAL_SHARE:
        share = LINGERING
    else:
        share = LATE if rng.random() < LATE_SHARE else ON_TIME
    return SLA_DAYS[severity] * rng.uniform(*share)


def _episodes(rng, advisories, start, end):
    """(advisory, arrived, fixed) of the vulnerabilities a service has over the period, each advisory at most once."""
    pool = rng.sample(advisories, len(advisories))
    episodes = []
    for _ in range(rng.randint(*INITIAL_VULNERABILITIES)):
        advisory = pool.pop()
        arrived = start - datetime.timedelta(days=rng.uniform(0.5, 5))
        episodes.append((advisory, arrived, arrived + datetime.timedelta(days=_fix_delay(rng, advisory.severity))))
    arrived = start
    while pool:
        arrived += datetime.timedelta(days=rng.expovariate(NEW_VULNERABILITIES_PER_DAY))
        if arrived >= end:
            break
        advisory = pool.pop()
        episodes.append((advisory, arrived, arrived + datetime.timedelta(days=_fix_delay(rng, advisory.severity))))
    return episodes


def _present(episodes, moment):
    return [advisory for advisory, arrived, fixed in episodes if arrived <= moment < fixed]


def _trivy_vulnerability(advisory, layer):
    purl = f"pkg:golang/{advisory.package}@{advisory.installed}" if advisory.go else (
        f"pkg:apk/alpine/{advisory.package}@{advisory.installed}?arch=x86_64&distro=3.19.1"
    )
    return {
        "VulnerabilityID": advisory.vulnerability_id,
        "PkgID": f"{advisory.package}@{advisory.installed}",
        "PkgName": advisory.package,
        "PkgIdentifier": {"PURL": purl},
        "InstalledVersion": advisory.installed,
        "FixedVersion": ", ".join(advisory.fixed),
        "Status": "fixed",
        "Layer": layer,
        "SeveritySource": "ghsa" if advisory.go else "nvd",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{advisory.vulnerability_id.lower()}",
        "DataSource": GO_SOURCE if advisory.go else ALPINE_SOURCE,
        "Title": advisory.title,
        "Description": f"{advisory.title}.",
        "Severity": TRIVY_SEVERITY[advisory.severity],
        "CweIDs": [advisory.cwe],
        "CVSS": {"nvd": {"V3Score": CVSS_SCORE[advisory.severity]}},
        "References": [f"https://nvd.nist.gov/vuln/detail/{advisory.vulnerability_id}"],
    }


def _trivy_report(service, image_id, advisories, scanned_at):
    image = f"registry.{service.domain.company.slug}.example/{service.domain.slug}/{service.slug}:1.{scanned_at:%j}.0"
    os_layer = {"DiffID": f"sha256:{image_id[:32]}{'0' * 32}"}
    app_layer = {"DiffID": f"sha256:{image_id[32:]}{'1' * 32}"}
    results = [
        {"Target": f"{image} (alpine 3.19.1)", "Class": "os-pkgs", "Type": "alpine",
         "Vulnerabilities": [_trivy_vulnerability(a, os_layer) for a in advisories if not a.go]},
        {"Target": f"usr/local/bin/{service.slug}", "Class": "lang-pkgs", "Type": "gobinary",
         "Vulnerabilities": [_trivy_vulnerability(a, app_layer) for a in advisories if a.go]},
    ]
    for result in results:
        if not result["Vulnerabilities"]:
            del result["Vulnerabilities"]  # Trivy omits an empty list
    return {
        "SchemaVersion": 2,
        "CreatedAt": _iso(scanned_at),
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "alpine", "Name": "3.19.1"},
            "ImageID": f"sha256:{image_id}",
            "DiffIDs": [os_layer["DiffID"], app_layer["DiffID"]],
            "RepoTags": [image],
            "ImageConfig": {"architecture": "amd64", "os": "linux", "config": {"Cmd": [f"/usr/local/bin/{service.slug}"]}},
        },
        "Results": results,
    }


def _snyk_vulnerability(advisory, project):
    return {
        "id": advisory.vulnerability_id,
        "title": advisory.title,
        "severity": advisory.severity,
        "severityWithCritical": advisory.severity,
        "cvssScore": CVSS_SCORE[advisory.severity],
        "packageName": advisory.package,
        "moduleName": advisory.package,
        "name": advisory.package,
        "version": advisory.installed,
        "language": "js",
        "packageManager": "npm",
        "from": [f"{project}@1.0.0", f"{advisory.package}@{advisory.installed}"],
        "upgradePath": [False, f"{advisory.package}@{advisory.fixed[-1]}"],
        "isUpgradable": True,
        "isPatchable": False,
        "fixedIn": list(advisory.fixed),
        "identifiers": {"CVE": [advisory.cve], "CWE": [advisory.cwe]},
        "semver": {"vulnerable": [f"<{advisory.fixed[-1]}"]},
        "references": [{"title": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{advisory.cve}"}],
    }


def _snyk_result(service, advisories):
    project = f"{service.slug}-web"
    return {
        "vulnerabilities": [_snyk_vulnerability(advisory, project) for advisory in advisories],
        "ok": not advisories,
        "dependencyCount": 600 + 37 * len(service.slug),
        "org": service.domain.company.slug,
        "policy": SNYK_POLICY,
        "isPrivate": True,
        "packageManager": "npm",
        "ignoreSettings": None,
        "summary": f"{len(advisories)} vulnerable dependency paths" if advisories else "No known vulnerabilities",
        "filesystemPolicy": False,
        "filtered": {"ignore": [], "patch": []},
        "uniqueCount": len(advisories),
        "projectName": project,
        "displayTargetFile": "package-lock.json",
        "path": f"/builds/{service.domain.slug}/{service.slug}",
    }


def _gitleaks_finding(rng, service, scanned_at):
    rule_id, description, template, secret_of = rng.choice(SECRET_RULES)
    secret, file, (author, email) = secret_of(rng), rng.choice(SECRET_FILES), rng.choice(AUTHORS)
    commit, line = f"{rng.getrandbits(160):040x}", rng.randint(3, 120)
    match = template.format(secret)
    column = rng.randint(1, 12)
    return {
        "Description": description,
        "StartLine": line, "EndLine": line, "StartColumn": column, "EndColumn": column + len(match) - 1,
        "Match": match, "Secret": secret, "File": file, "SymlinkFile": "", "Commit": commit,
        "Link": f"https://git.{service.domain.company.slug}.example/{service.domain.slug}/{service.slug}/blob/{commit}/{file}#L{line}",
        "Entropy": round(rng.uniform(3.5, 5.2), 6), "Author": author, "Email": f"{email}@{service.domain.company.slug}.example",
        "Date": _iso(scanned_at - datetime.timedelta(hours=rng.uniform(1, 72))), "Message": "Wire up the new integration",
        "Tags": [], "RuleID": rule_id, "Fingerprint": f"{commit}:{file}:{rule_id}:{line}",
    }


def _apply(service, scanner, report, scanned_at, counts):
    received = apply_report(service, scanner, json.dumps(report).encode(), scanned_at=scanned_at)
    counts[f"{scanner} reports"] += 1
    if not received.created:
        counts["reports redelivered"] += 1
        return
    produced = received.event.produced
    noun = "secrets" if scanner == Scanner.GITLEAKS else "vulnerabilities"
    for outcome, keys in (produced.get("security.vulnerability") or produced.get("security.secretfinding") or {}).items():
        counts[f"{noun} {outcome}"] += len(keys)


@demo_source("scanners", order=40)
def seed_scanners(companies, start, end, seed):
    """
    Apply the demo's Trivy, Snyk and Gitleaks reports of every service of `companies` over [start, end).
    Returns counts: reports per scanner, and vulnerabilities and secrets opened, reopened, fixed (resolved).
    """
    counts = Counter()
    end = min(end, timezone.now())  # a report cannot be scanned in the future
    for company in companies:
        for service in Service.objects.filter(domain__company=company).select_related("domain__company").order_by("pk"):
            rng = random.Random(f"{seed}:scanners:{company.slug}:{service.slug}")
            image_id = f"{rng.getrandbits(256):064x}"
            with transaction.atomic():
                trivy = _episodes(rng, TRIVY_ADVISORIES, start, end)
                for scanned_at in _scan_times(rng, start, end, VULNERABILITY_SCAN_DAYS):
                    # Trivy's report carries its own scan time (CreatedAt).
                    report = _trivy_report(service, image_id, _present(trivy, scanned_at), scanned_at)
                    _apply(service, Scanner.TRIVY, report, None, counts)
                snyk = _episodes(rng, SNYK_ADVISORIES, start, end)
                for scanned_at in _scan_times(rng, start, end, VULNERABILITY_SCAN_DAYS):
                    _apply(service, Scanner.SNYK, _snyk_result(service, _present(snyk, scanned_at)), scanned_at, counts)
                leaks = []
                for scanned_at in _scan_times(rng, start, end, GITLEAKS_SCAN_DAYS):
                    leaks = [finding for finding in leaks if rng.random() >= SECRET_REMOVED_SHARE]
                    if rng.random() < SECRET_SHARE:
                        leaks.append(_gitleaks_finding(rng, service, scanned_at))
                    _apply(service, Scanner.GITLEAKS, leaks, scanned_at, counts)
    return dict(counts)
