"""
Demo product usage, written as the real exports and imported through connectors.csv_import like an upload:
per company an analytics export of daily active users (a few hundred users in a few dozen tenants, more
every month, fewer on weekends; each tenant in a cohort, Enterprise, SMB or Free) and a daily feature-flag
evaluation export of four key features split by cohort, both from
60 days before `start` (so month-over-month KPIs have a previous month on every demo day). Deterministic for
a seed; importing the same demo twice changes nothing.
"""
import datetime
import random
import string
import zlib
from collections import Counter

from connectors.csv_import import import_records
from kpis.calculators import ROLLING_WINDOW

from ..registry import demo_source

ACTIVE_USER_COLUMNS = ["date", "tenant_id", "user_id", "platform", "cohort"]
FLAG_COLUMNS = [
    "date", "project_key", "environment_key", "flag_key", "variation", "result", "evaluations", "contexts", "tenant_id", "cohort",
]
# The customer cohorts of the health model and the share of tenants in each.
COHORTS = (("Enterprise", 0.2), ("SMB", 0.5), ("Free", 0.3))
# flag key -> (variations as (name, turns the feature on), share of the day's users evaluating it,
# share served an enabled variation on the first day, the same on the last day: rollouts progress)
FLAGS = {
    "new-checkout-flow": ((("true", True), ("false", False)), 0.55, 0.35, 0.75),
    "bulk-export": ((("csv-v2", True), ("off", False)), 0.25, 0.5, 0.6),
    "ai-summaries": ((("gpt-summary", True), ("classic-summary", False), ("off", False)), 0.4, 0.3, 0.55),
    "dark-mode": ((("true", True), ("false", False)), 0.8, 0.6, 0.65),
}
ONE_DAY = datetime.timedelta(days=1)


@demo_source("product", order=60)
def seed_product(companies, start, end, seed):
    """Import demo active users and feature-flag evaluations for each company over [start, end); returns counts."""
    summary = Counter()
    first_day = (start - 2 * ROLLING_WINDOW).date()
    days = [first_day + ONE_DAY * n for n in range(((end - datetime.timedelta(microseconds=1)).date() - first_day).days + 1)]
    for company in companies:
        rng = random.Random(f"{seed}:product:{company.slug}")
        users = _users(rng, days)
        active = [(day, tenant, user, platform) for day in days for tenant, user, platform in _active_on(rng, users, day)]
        summary["active users"] += import_records("active-users", company, ACTIVE_USER_COLUMNS, (
            {"date": f"{day}", "tenant_id": tenant, "user_id": user, "platform": platform, "cohort": cohort_of(tenant)}
            for day, tenant, user, platform in active
        ))
        daily_users = Counter(day for day, *_ in active)
        cohort_users = Counter((day, cohort_of(tenant)) for day, tenant, *_ in active)
        summary["feature flag evaluations"] += import_records(
            "feature-flags", company, FLAG_COLUMNS, _by_cohort(_flag_rows(rng, days, daily_users), daily_users, cohort_users)
        )
    return dict(summary)


def cohort_of(tenant):
    """A tenant's cohort, fixed by its id (not drawn from the generator, so the rest of the demo stays as it was)."""
    position, floor = zlib.crc32(tenant.encode()) % 100 / 100, 0.0
    for cohort, share in COHORTS:
        floor += share
        if position < floor:
            return cohort
    return COHORTS[-1][0]


def _by_cohort(rows, daily_users, cohort_users):
    """Each flag row split by cohort in proportion to the day's active users of each, as a cohort-segmented export is."""
    split = []
    for row in rows:
        day = datetime.date.fromisoformat(row["date"])
        for cohort, _ in COHORTS:
            share = cohort_users[day, cohort] / daily_users[day] if daily_users[day] else 0
            contexts = round(row["contexts"] * share)
            if contexts:
                split.append({**row, "tenant_id": "", "cohort": cohort, "contexts": contexts,
                              "evaluations": max(contexts, round(row["evaluations"] * share))})
    return split


def _users(rng, days):
    """(tenant, user, platform, daily activity, first day): a few dozen tenants, a sixth of them onboarded during the period."""
    users = []
    for _ in range(rng.randint(30, 45)):
        tenant = "tnt_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=10))
        onboarded = days[0] if rng.random() < 0.85 else rng.choice(days)
        for _ in range(rng.randint(3, 12)):
            joined = max(onboarded, rng.choice(days)) if rng.random() < 0.1 else onboarded
            user = "usr_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))
            users.append((tenant, user, rng.choice(["web", "web", "ios", "android"]), rng.uniform(0.25, 0.8), joined))
    return users


def _active_on(rng, users, day):
    weekend = 0.45 if day.weekday() >= 5 else 1.0
    return [(tenant, user, platform) for tenant, user, platform, activity, joined in users
            if joined <= day and rng.random() < activity * weekend]


def _flag_rows(rng, days, daily_users):
    rows = []
    for index, day in enumerate(days):
        progress = index / max(len(days) - 1, 1)
        for flag, (variations, reach, enabled_first, enabled_last) in FLAGS.items():
            contexts = round(daily_users[day] * reach * rng.uniform(0.9, 1.1))
            enabled_share = enabled_first + (enabled_last - enabled_first) * progress
            enabled = [name for name, on in variations if on]
            disabled = [name for name, on in variations if not on]
            served = {name: round(contexts * enabled_share / len(enabled)) for name in enabled}
            served.update({name: round(contexts * (1 - enabled_share) / len(disabled)) for name in disabled})
            for name, on in variations:
                rows.append({
                    "date": f"{day}", "project_key": "companyos-app", "environment_key": "production", "flag_key": flag,
                    "variation": name, "result": "enabled" if on else "disabled",
                    "evaluations": round(served[name] * rng.uniform(3, 12)), "contexts": served[name],
                })
    return rows
