"""`python -m demo.bench`: see the package's docstring."""
import argparse
import os
from urllib.parse import urlsplit

from .api import api_steps
from .config import SCALES
from .databases import recreate_database
from .report import Table
from .steps import run_steps
from .workers import parallel_nightly_work


def main(argv=None):
    parser = argparse.ArgumentParser(description="Benchmark the nightly work and the API on a large demo data set.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/companyos_bench"),
        help="The benchmark database; dropped and recreated (its name must start with companyos_bench).",
    )
    parser.add_argument(
        "--api-port",
        type=int,
        default=int(os.environ.get("BENCH_API_PORT", "0")),
        help="The port gunicorn serves the API steps on (default: any free port).",
    )
    options = parser.parse_args(argv)
    recreate_database(options.database_url)
    os.environ["DATABASE_URL"] = options.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "companyos.settings.local"
    os.environ["CELERY_BROKER_URL"] = ""  # the one-day nightly chain runs eagerly, in this process
    # As in production: with DEBUG on, Django keeps each connection's last 9,000 statements, whose text (the
    # calculators' statements, payloads' inserts) grows the process by a hundred megabytes and costs each query.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the table, not a line per eager task
    # Breaches are mailed to the demo owners as in production, into memory: the table, not hundreds of mails.
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    table = Table(options.scale)
    print(f"CompanyOS bench, scale {options.scale}: {SCALES[options.scale]}\n", flush=True)
    # The workers' copy: the benchmark database's URL with "_workers" after its name.
    address = urlsplit(options.database_url)
    workers_url = address._replace(path=f"{address.path}_workers").geturl()
    run_steps(options.scale, table, workers_url)
    parallel_nightly_work(options.scale, table, options.database_url, workers_url)
    api_steps(options.scale, table, options.database_url, options.api_port)
    print(f"\nCompanyOS bench, scale {options.scale}: {SCALES[options.scale]}\n")
    table.print()


if __name__ == "__main__":
    main()
