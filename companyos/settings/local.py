"""Development settings: the embedded default of `make run` (SQLite, eager Celery, console e-mail)."""
import os

from .base import *  # noqa: F401,F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
# Only for local development; production.py refuses to start without a real key.
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
