"""Development settings: the embedded default of `make run` (SQLite, eager Celery, console e-mail)."""
import os

from .base import *  # noqa: F401,F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# Only for local development; production.py refuses to start without a real key.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
# A chat server or webhook receiver under development usually runs on this machine.
NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE = env_bool("NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE", True)

if CELERY_TASK_ALWAYS_EAGER:
    # Eager tasks still take a producer from the broker pool: kombu's in-memory transport, not its default
    # amqp://localhost, which warns "No hostname was supplied" on the first task.
    CELERY_BROKER_URL = "memory://localhost/"
