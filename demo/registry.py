"""
The demo's data sources. Each module of demo.sources feeds one tool's demo history through that tool's own
connector and registers its seeding function with @demo_source; `seed_demo_sources` discovers them all, so a
new module there is all it takes to have a source seeded.
"""
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class DemoSource:
    name: str
    order: int  # sources are seeded (and report) in increasing order
    seed: Callable  # seed(companies, start, end, seed) -> counts of what it delivered


_registered = {}


def demo_source(name, *, order):
    """Register the decorated `seed(companies, start, end, seed)` as the demo source `name`, seeded in `order`."""

    def register(seed):
        if name in _registered:
            raise ImproperlyConfigured(f"Two demo sources are named '{name}'.")
        _registered[name] = DemoSource(name, order, seed)
        return seed

    return register


def discover_sources():
    """Import every module of demo.sources (each registers itself); return the registered sources in order."""
    from . import sources

    for module in pkgutil.iter_modules(sources.__path__, f"{sources.__name__}."):
        importlib.import_module(module.name)
    return sorted(_registered.values(), key=lambda source: source.order)
