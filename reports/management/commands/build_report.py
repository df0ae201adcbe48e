"""`manage.py build_report`: build and store a company's health report, optionally writing its PDF (or HTML) to a file."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.services import company_named

from reports.choices import Audience
from reports.periods import read_month
from reports.services import monthly_report


class Command(BaseCommand):
    help = (
        "Build a company's monthly health report (stored once: a second run for the same month returns the stored "
        "one) and write its PDF, or its HTML with an .html output, to --output."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="The company's slug, e.g. comp-acme.")
        parser.add_argument("--month", required=True, help="The month, YYYY-MM.")
        parser.add_argument("--audience", choices=Audience.values, default=Audience.EXEC)
        parser.add_argument("--output", help="Write the report here: .html writes the HTML page, anything else the PDF.")

    def handle(self, *args, company, month, audience, output, **options):
        try:
            company = company_named(company)
            period = read_month(month)
        except ValidationError as refused:
            raise CommandError("; ".join(f"{field}: {' '.join(errors)}" for field, errors in refused.message_dict.items())) from None
        report, created = monthly_report(company, period, audience=audience)
        self.stdout.write(f"{'Built' if created else 'Already stored'}: report #{report.pk}, {report}.")
        if output:
            path = Path(output)
            path.write_bytes(report.html.encode() if path.suffix == ".html" else bytes(report.pdf))
            self.stdout.write(f"Wrote {path}.")
