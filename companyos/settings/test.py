"""Test settings: the real PostgreSQL and Redis of this machine unless the environment says otherwise."""
import os

import dj_database_url

from .base import *  # noqa: F401,F403
from .env import env_bool

DEBUG = False
SECRET_KEY = "test-only-secret-key"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/companyos"),
    )
}
# A suffix lets several test runs on one machine use separate databases.
DATABASES["default"]["TEST"] = {"NAME": "test_companyos" + os.environ.get("TEST_DB_SUFFIX", "")}
# A second connection to the same test database stands in for a read replica; reads use it only where a test
# turns READS_FROM_REPLICA on (and allows the `replica` alias).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
READS_FROM_REPLICA = False

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
# Tasks run in-process; a real worker started by a test sets CELERY_TASK_ALWAYS_EAGER=0 so its tasks queue theirs.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The tests' stand-in chat and webhook receivers listen on 127.0.0.1.
NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Generous API rates, so no test is throttled by another's requests; the throttling tests set their own.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"user": "100000/minute", "failed_token": "100000/minute"},
}
