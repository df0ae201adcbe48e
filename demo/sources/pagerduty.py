"""
Demo PagerDuty history: one PagerDuty account per company with every service linked, and one or two
incidents a day, each a sequence of v3 webhook payloads (triggered, acknowledged, sometimes a priority
update, resolved) delivered through incidents.pagerduty.deliver, the webhook's own path.

Every value comes from random.Random seeded with the seed, "pagerduty" and the company, and every time
from the period, so the same arguments give the same payloads (a second run is all redeliveries).
Events that would occur after `end` are not delivered: those incidents are still open.
"""
import datetime
import math
import random
from collections import Counter

from connectors.choices import IntegrationKind
from connectors.models import Integration, ServiceLink
from connectors.services import save_integration
from incidents import pagerduty
from tenancy.models import Service

from ..registry import demo_source

INCIDENTS_PER_DAY = (1, 2)
# PagerDuty priority names (None: the account set no priority, the urgency decides) and their weights.
PRIORITY_MIX = {"P1": 3, "P2": 12, "P3": 35, "P4": 35, "P5": 5, None: 10}
HIGH_URGENCY_PRIORITIES = {"P1", "P2", "P3"}
# Median minutes from trigger to acknowledgement, and from acknowledgement to resolution (log-normal).
ACK_MEDIAN_MINUTES = {"P1": 2, "P2": 3, "P3": 5, "P4": 8, "P5": 10, None: 6}
RESOLVE_MEDIAN_MINUTES = {"P1": 28, "P2": 32, "P3": 35, "P4": 40, "P5": 45, None: 38}
ACK_SIGMA, RESOLVE_SIGMA = 0.6, 0.7
PRIORITY_UPDATE_SHARE = 0.15
# Share resolved by the monitoring tool before anyone acknowledged (no gather phase, no mtta).
AUTO_RESOLVED_SHARE = 0.05

PROBLEMS = [
    "p99 latency above 2s",
    "Error rate above 5%",
    "Disk usage above 90% on {host}",
    "Pod crash-looping: {host}",
    "Replication lag above 30s",
    "TLS certificate expires in 7 days",
    "Memory usage above 95% on {host}",
    "Queue depth above 10k messages",
]
RESPONDERS = ["Dana Whitfield", "Ravi Menon", "Sofia Lindqvist", "Kwame Mensah", "Mei Tanaka", "Lucas Moreau"]
MONITORS = ["Prometheus Alertmanager", "Datadog"]
RESPONDER_CLIENTS = ["PagerDuty", "PagerDuty Mobile", "Slack"]
PD_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32


def _pd_id(rng, prefix, length):
    return prefix + "".join(rng.choices(PD_ID_ALPHABET, k=length - 1))


def _ulid(rng, at):
    """An event id as PagerDuty writes them: a ULID (48-bit milliseconds, then 80 random bits)."""
    millis = int(at.timestamp() * 1000)
    time_part = "".join(ULID_ALPHABET[(millis >> shift) & 31] for shift in range(45, -5, -5))
    return time_part + "".join(rng.choices(ULID_ALPHABET, k=16))


def _iso(at):
    return at.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _reference(kind, pd_id, summary, subdomain, path, api_path=None):
    return {
        "html_url": f"https://{subdomain}.pagerduty.com/{path}/{pd_id}",
        "id": pd_id,
        "self": f"https://api.pagerduty.com/{api_path or path}/{pd_id}",
        "summary": summary,
        "type": kind,
    }


def _priority(name, subdomain):
    if name is None:
        return None
    pd_id = f"PRI{name[1]}DMO"
    return {
        "html_url": f"https://{subdomain}.pagerduty.com/account/incident_priorities",
        "id": pd_id,
        "self": f"https://api.pagerduty.com/priorities/{pd_id}",
        "summary": name,
        "type": "priority_reference",
    }


def _minutes(rng, median, sigma):
    return datetime.timedelta(minutes=median * math.exp(rng.gauss(0, sigma)))


class _Account:
    """One company's PagerDuty account: its integration, services, responders and escalation policies."""

    def __init__(self, company, rng):
        self.subdomain = company.slug.removeprefix("comp-")
        secret = "".join(rng.choices(PD_ID_ALPHABET.lower(), k=64))
        name = f"PagerDuty {company.slug}"
        self.integration = Integration.objects.filter(kind=IntegrationKind.PAGERDUTY, name=name).first() or save_integration(
            Integration(kind=IntegrationKind.PAGERDUTY, name=name, company=company),
            actor=None, reason="Demo data", secret=secret,
        )
        self.responders = [
            _reference("user_reference", _pd_id(rng, "P", 7), person, self.subdomain, "users") for person in RESPONDERS
        ]
        self.services = []  # (service reference, escalation policy reference, team reference)
        for service in Service.objects.filter(domain__company=company).select_related("domain").order_by("pk"):
            pd_service_id = _pd_id(rng, "P", 7)
            ServiceLink.objects.get_or_create(
                integration=self.integration, external_id=pd_service_id, defaults={"service": service}
            )
            self.services.append((
                _reference("service_reference", pd_service_id, service.name, self.subdomain, "service-directory", "services"),
                _reference("escalation_policy_reference", _pd_id(rng, "P", 7), f"{service.domain.name} on-call",
                           self.subdomain, "escalation_policies"),
                _reference("team_reference", _pd_id(rng, "P", 7), service.domain.name, self.subdomain, "teams"),
            ))


def _incident_events(account, rng, number, created_at):
    """The v3 webhook payloads of one incident as (occurred_at, payload), in the order they occur."""
    created_at = created_at.replace(microsecond=0)
    service, policy, team = rng.choice(account.services)
    priority = rng.choices(list(PRIORITY_MIX), weights=list(PRIORITY_MIX.values()))[0]
    urgency = "high" if priority in HIGH_URGENCY_PRIORITIES or (priority is None and rng.random() < 0.4) else "low"
    incident_id = _pd_id(rng, "Q", 14)
    host = f"{service['summary'].lower().replace(' ', '-')}-{rng.randint(1, 6)}"
    responder = rng.choice(account.responders)
    monitor = {"name": rng.choice(MONITORS)}
    data = {
        "id": incident_id,
        "type": "incident",
        "self": f"https://api.pagerduty.com/incidents/{incident_id}",
        "html_url": f"https://{account.subdomain}.pagerduty.com/incidents/{incident_id}",
        "number": number,
        "status": "triggered",
        "incident_key": "".join(rng.choices("0123456789abcdef", k=32)),
        "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": f"{service['summary']}: {rng.choice(PROBLEMS).format(host=host)}",
        "service": service,
        "assignees": [responder],
        "escalation_policy": policy,
        "teams": [team],
        "priority": _priority(priority, account.subdomain),
        "urgency": urgency,
        "conference_bridge": None if priority not in ("P1", "P2") else {
            "conference_number": f"+1 415-555-{rng.randint(100, 9999):04d},,{rng.randint(10**8, 10**9 - 1)}#",
            "conference_url": f"https://meet.example.com/{incident_id.lower()}",
        },
        "resolve_reason": None,
    }
    acknowledged_at = created_at + _minutes(rng, ACK_MEDIAN_MINUTES[priority], ACK_SIGMA)
    resolved_at = acknowledged_at + _minutes(rng, RESOLVE_MEDIAN_MINUTES[priority], RESOLVE_SIGMA)
    auto_resolved = rng.random() < AUTO_RESOLVED_SHARE
    changes = [
        ("incident.triggered", created_at + datetime.timedelta(milliseconds=rng.randint(200, 900)), {},
         service, monitor),
    ]
    if not auto_resolved:
        changes.append(("incident.acknowledged", acknowledged_at, {"status": "acknowledged"}, responder,
                        {"name": rng.choice(RESPONDER_CLIENTS)}))
    if rng.random() < PRIORITY_UPDATE_SHARE:
        # Mostly escalated one step after a look; a P1 is downgraded, an incident without a priority gets P3.
        new_priority = {"P1": "P2", "P2": "P1", "P3": "P2", "P4": "P3", "P5": "P4", None: "P3"}[priority]
        updated_at = created_at + (resolved_at - created_at) * rng.uniform(0.2, 0.6)
        changes.append(("incident.priority_updated", updated_at, {"priority": _priority(new_priority, account.subdomain)},
                        responder, {"name": "PagerDuty"}))
    changes.append(("incident.resolved", resolved_at, {"status": "resolved"},
                    service if auto_resolved else responder, monitor if auto_resolved else {"name": "PagerDuty"}))
    events = []
    for event_type, occurred_at, change, agent, client in sorted(changes, key=lambda change: change[1]):
        data = {**data, **change}
        events.append((occurred_at, {
            "event": {
                "id": _ulid(rng, occurred_at),
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": _iso(occurred_at),
                "agent": agent,
                "client": client,
                "data": data,
            }
        }))
    return events


@demo_source("pagerduty", order=20)
def seed_pagerduty(companies, start, end, seed):
    """
    Deliver the demo's PagerDuty webhooks for `companies` over [start, end). Returns counts: integrations,
    service links, events delivered by status, and incidents.
    """
    counts = Counter()
    for company in companies:
        rng = random.Random(f"{seed}:pagerduty:{company.slug}")
        account = _Account(company, rng)
        counts["pagerduty integrations"] += 1
        counts["pagerduty service links"] += len(account.services)
        if not account.services:
            continue
        events = []
        number = rng.randint(1000, 5000)
        day = start
        while day < end:
            for _ in range(rng.randint(*INCIDENTS_PER_DAY)):
                created_at = day + datetime.timedelta(seconds=rng.randint(0, 86399))
                number += 1
                if created_at < end:
                    events.extend(_incident_events(account, rng, number, created_at))
            day += datetime.timedelta(days=1)
        events.sort(key=lambda event: event[0])
        incidents = set()
        for occurred_at, payload in events:
            if occurred_at >= end:
                continue
            received = pagerduty.deliver(account.integration, payload)
            counts[f"pagerduty events {received.event.status}"] += 1
            incidents.update(received.event.produced.get("incidents.incident", []))
        counts["pagerduty incidents"] += len(incidents)
    return dict(counts)
