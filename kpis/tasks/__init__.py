"""Celery tasks of the kpis app, one module per concern; each task has an explicit name."""
from . import reviews  # noqa: F401
from . import prometheus  # noqa: F401
from . import daily_totals  # noqa: F401
