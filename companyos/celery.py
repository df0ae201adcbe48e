"""The Celery app. Tasks are discovered in each app's ``tasks.py``."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companyos.settings.local")

app = Celery("companyos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
