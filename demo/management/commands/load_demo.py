"""`manage.py load_demo`: the whole demo, as `make run` loads it."""
import datetime

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.companies import company_identities
from demo.governance import seed_demo_governance
from demo.owners import assign_demo_owners
from demo.period import demo_period
from demo.users import DEMO_PASSWORD, give_development_logins, seed_demo_users


class Command(BaseCommand):
    help = (
        "Load the demo end to end, as `make run` does: the KPI catalogue, demo incident data, every "
        "connector's payloads (Prometheus, PagerDuty, GitHub, scanners, finance and product imports), the demo users "
        "and their companies, a KPI owner per owner role, a proposal approved and one awaiting approval, correlation, a backfill of every computed KPI and the "
        "scores of every demo day. With DEBUG on, the demo users' development password (and the data source's "
        "token), printed once. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, default=2)
        parser.add_argument("--incidents", type=int, default=400)
        parser.add_argument("--alerts", type=int, default=4000)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, companies, incidents, alerts, days, seed, **options):
        call_command("kpi", "load-catalogue", stdout=self.stdout)
        call_command(
            "seed_demo", companies=companies, incidents=incidents, alerts=alerts, days=days, seed=seed, stdout=self.stdout
        )
        call_command("seed_demo_sources", companies=companies, days=days, seed=seed, stdout=self.stdout)
        users = seed_demo_users([slug for slug, _ in company_identities(companies)])
        owners = assign_demo_owners([slug for slug, _ in company_identities(companies)])
        self.stdout.write(f"Demo users: {', '.join(users)}; KPI owners, one per owner role, own its definitions: {', '.join(owners)}.")
        for proposal in seed_demo_governance():
            self.stdout.write(f"Demo proposal #{proposal.pk} of {proposal.kpi.slug} by {proposal.author}: {proposal.status}.")
        call_command("correlate_alerts", stdout=self.stdout)
        # The demo period only: imports reach further back so that rolling and yearly KPIs have a value on day one.
        start, end = (moment.date() for moment in demo_period(days))
        last = end - datetime.timedelta(days=1)
        call_command("kpi", "backfill", "--all", "--since", start.isoformat(), "--until", end.isoformat(), stdout=self.stdout)
        call_command("compute_scores", "--date", start.isoformat(), "--until", last.isoformat(), stdout=self.stdout)
        # Last, so the logins are the end of what `make run` prints before the server starts.
        self._give_development_logins([*users, *owners])

    def _give_development_logins(self, usernames):
        """With DEBUG on, the demo users' development password (and a data source's token), printed when first set."""
        if not settings.DEBUG:
            self.stdout.write("Demo users have no password (DEBUG is off): set one in the admin.")
            return
        given = give_development_logins(usernames)
        if not given:
            return
        self.stdout.write(f"Demo logins for development, shown once (log in at /accounts/login/, password {DEMO_PASSWORD}):")
        width = max(len(username) for username, _, _ in given)
        for username, roles, token in given:
            self.stdout.write(f"  {username:<{width}}  {roles}{f'  (API token {token})' if token else ''}")
