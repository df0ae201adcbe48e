import pkgutil
from importlib import import_module

from django.core.management.base import BaseCommand

from kpis.management import subcommands


def _subcommand_modules():
    for module_info in sorted(pkgutil.iter_modules(subcommands.__path__), key=lambda info: info.name):
        yield module_info.name.replace("_", "-"), import_module(f"{subcommands.__name__}.{module_info.name}")


class Command(BaseCommand):
    help = "Work with the KPI registry: list, load-catalogue, history, audit-export, backfill, ..."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, module in _subcommand_modules():
            summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
            subparser = commands.add_parser(name, help=summary, description=module.__doc__)
            module.add_arguments(subparser)
            subparser.set_defaults(subcommand_module=module)

    def handle(self, *args, subcommand_module, subcommand, **options):
        return subcommand_module.handle(self, **options)
