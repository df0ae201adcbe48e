"""
Production settings, the default of manage.py, wsgi, asgi and Celery: everything secret or site-specific comes from
the environment. Local development names companyos.settings.local, the tests companyos.settings.test.
"""
import os

from .base import *  # noqa: F401,F403
from .base import CELERY_BROKER_URL
from .env import env_bool, env_int, env_list, env_required

DEBUG = False
SECRET_KEY = env_required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or [env_required("ALLOWED_HOSTS")]
# Production never falls back to SQLite or eager Celery.
env_required("DATABASE_URL")
if not CELERY_BROKER_URL:
    env_required("CELERY_BROKER_URL")

# The portal runs behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The proxy appends the client's address to X-Forwarded-For; without the proxy count every client would be the
# proxy's own address (loopback on the same host).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1)
# /metrics needs Authorization: Bearer $METRICS_TOKEN (no token set: 403 to everyone); a network is trusted only
# when METRICS_ALLOWED_NETWORKS names it.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")
# API throttles count across every web process: in Redis (CACHE_URL, default the broker's).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("CACHE_URL") or CELERY_BROKER_URL,
    }
}
