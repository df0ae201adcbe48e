import pkgutil
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand


def _subcommand_modules():
    """
    The subcommands, by name: each module of an app's `management.kpi_subcommands` package. The registry's own live
    in kpis; an app above it (scoring's rules file) adds its own without kpis importing it.
    """
    modules = {}
    for app in apps.get_app_configs():
        try:
            package = import_module(f"{app.name}.management.kpi_subcommands")
        except ModuleNotFoundError as missing:
            if missing.name.startswith(app.name):
                continue
            raise
        for module_info in pkgutil.iter_modules(package.__path__):
            modules[module_info.name.replace("_", "-")] = import_module(f"{package.__name__}.{module_info.name}")
    return sorted(modules.items())
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
