"""The Celery app. Tasks are discovered in each app's ``tasks.py``."""
import os

from celery import Celery
from django.db import InterfaceError, OperationalError

# Production unless told otherwise, like manage.py and wsgi: a worker never runs with development settings by mistake.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companyos.settings.production")

app = Celery("companyos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The one retry policy of every database-bound task. Tasks are acknowledged late (a worker killed mid-task
# has it redelivered) and every task is idempotent, so a lost connection or a lock timeout, which roll the
# step back, is retried cleanly with backoff.
DATABASE_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 5,
}
