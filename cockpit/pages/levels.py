"""
The cascade's other levels in the cockpit: a company's teams, tenants and cohorts scored like services (their
composite, dimensions and parts, scoring.levels), and the DORA tiers of the company, a team or a service
(delivery.dora) with their daily history.
"""
import datetime

from django.core.exceptions import ValidationError
from django.http import Http404

from delivery import dora
from kpis.models import KpiDefinition
from scoring.levels import LEVEL_RULE, LEVELS, level_scores
from tenancy.models import Service

from ..formatting import DIMENSION_LABELS, band_of, format_score, format_value
from ..scopes import LEVEL_NAMES, company_url, snapshot_on
from .parts import composite_breakdown, dimension_breakdown

# The DORA history shows this many days, ending with the day.
DORA_DAYS = 30
# A tier's colour is the band of the same rank.
TIER_BANDS = {dora.ELITE: "excellent", dora.HIGH: "healthy", dora.MEDIUM: "attention", dora.LOW: "critical"}
METRIC_UNITS = {
    dora.DEPLOYMENT_FREQUENCY: "per_day", dora.LEAD_TIME: "hours", dora.CHANGE_FAILURE_RATE: "percent",
    dora.TIME_TO_RESTORE: "minutes",
}


def _day(scope, day):
    """The day asked for, else the company's latest scored day, else yesterday."""
    if day:
        return day
    latest = snapshot_on(scope, None)
    return latest.day if latest else datetime.date.today() - datetime.timedelta(days=1)


def _member_detail(scope, scores, definitions):
    return {
        "member": scores.member,
        "composite": format_score(scores.composite),
        "band": band_of(scores.composite),
        "composite_parts": composite_breakdown(scores.dimensions),
        "dimensions": [
            {"label": DIMENSION_LABELS[name], "score": format_score(data["score"]), "band": band_of(data["score"]),
             "parts": dimension_breakdown(scope, name, data, definitions)}
            for name, data in scores.dimensions.items()
        ],
        "kpis": [
            {"name": definitions[slug].name, "value": format_value(data["value"], definitions[slug].units),
             "target": format_value(data["target"], definitions[slug].units), "score": format_score(data["score"]),
             "url": scope.url("kpi", slug)}
            for slug, data in scores.kpis.items() if slug in definitions
        ],
    }


def level_page(user, scope, level_name, member, day):
    """Every member of a level of the scope's company on a day, and one member's scores with their parts."""
    day = _day(scope, day)
    level = LEVELS[level_name]
    definitions = {definition.slug: definition for definition in KpiDefinition.objects.visible_to(user)}
    scored = level_scores(level, scope.company, day)
    selected = next((scores for scores in scored if scores.member == member), None)
    if member and selected is None:
        raise Http404(f"member: '{scope.company.slug}' has no {level_name} '{member}' with data on {day}.")
    return {
        "scope": scope,
        "day": day,
        "level": level,
        "rule": LEVEL_RULE,
        "levels": [(name, LEVELS[name].label, company_url(scope, "levels", level=name, day=day)) for name in LEVEL_NAMES],
        "members": [
            {"member": scores.member, "url": company_url(scope, "levels", level=level_name, member=scores.member, day=day),
             "composite": format_score(scores.composite), "band": band_of(scores.composite),
             "current": scores.member == member,
             "dimensions": ", ".join(f"{DIMENSION_LABELS[name]} {format_score(data['score'])}"
                                     for name, data in scores.dimensions.items())}
            for scores in scored
        ],
        "selected": _member_detail(scope, selected, definitions) if selected else None,
        "dora_url": company_url(scope, "dora", day=day, team=member if selected and level_name == "team" else None),
    }


def _strip(history, metric, days):
    tiers_by_day = {entry["day"]: entry[metric]["tier"] for entry in history if metric in entry}
    return [
        {"day": day.isoformat(), "tier": tiers_by_day.get(day.isoformat()),
         "band": TIER_BANDS.get(tiers_by_day.get(day.isoformat()), "none")}
        for day in days
    ]


def dora_page(scope, params, day):
    """The DORA tiers of the company, a `team` or a `service` (<domain>/<service>): the latest and each day's."""
    until = _day(scope, day)
    since = until - datetime.timedelta(days=DORA_DAYS - 1)
    team, service = params.get("team") or None, params.get("service") or None
    try:
        history = dora.scope_history(scope.company, since, until, team=team, service=service)
    except ValidationError as refused:
        field, messages = next(iter(refused.message_dict.items()))
        raise Http404(f"{field}: {messages[0]}") from None
    days = [since + datetime.timedelta(days=offset) for offset in range(DORA_DAYS)]
    metrics = []
    for metric in dora.METRICS:
        latest = history["latest"].get(metric)
        tier = latest["tier"] if latest else None
        metrics.append({
            "key": metric,
            "label": dora.METRIC_LABELS[metric],
            "value": format_value(latest["value"], METRIC_UNITS[metric]) if latest else "–",
            "day": latest["day"] if latest else None,
            "tier": dora.TIER_LABELS.get(tier, "No data"),
            "band": TIER_BANDS.get(tier, "none"),
            "published": history["thresholds"][metric][tier]["published"] if tier else "",
            "strip": _strip(history["history"], metric, days),
            "thresholds": [(dora.TIER_LABELS[name], bound["bound"], bound["published"])
                           for name, bound in history["thresholds"][metric].items()],
        })
    services = Service.objects.filter(domain__company=scope.company).select_related("domain").order_by("domain__slug", "slug")
    return {
        "scope": scope,
        "history": history,
        "since": since,
        "until": until,
        "metrics": metrics,
        "pickers": [
            {"name": scope.company.name, "url": company_url(scope, "dora", day=until), "current": not team and not service},
            *({"name": f"Team {name}", "url": company_url(scope, "dora", day=until, team=name), "current": name == team}
              for name in dora.company_teams(scope.company)),
            *({"name": path, "url": company_url(scope, "dora", day=until, service=path), "current": path == service}
              for path in (f"{each.domain.slug}/{each.slug}" for each in services)),
        ],
    }
