"""Settings shared by every environment. Values that differ come from the environment."""
import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from .env import env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "tenancy",
    "connectors",
    "incidents",
    "kpis",
    "scoring",
    "delivery",
    "security",
    "finance",
    "product",
    "pipeline",
    "cockpit",
    "reports",
    "notifications",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the path: /api/kpis is served as /api/kpis/ (companyos.api.trailing_slash).
    "companyos.api.trailing_slash.ApiTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "companyos.replica.ReadsFromReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Gives django-simple-history the acting user for every change made in a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "companyos.content_security_policy.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

ROOT_URLCONF = "companyos.urls"
WSGI_APPLICATION = "companyos.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL switches to PostgreSQL; the default is an SQLite file so `make run` needs no server.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# DATABASE_REPLICA_URL adds a streaming read replica: the cockpit's and the API's GET requests read from it
# (companyos.replica); writes, the admin, tasks and commands use the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
READS_FROM_REPLICA = "replica" in DATABASES
# DATABASE_TRANSACTION_POOLING: the database URLs point at PgBouncer in transaction pooling mode, which hands a server
# connection to another client between transactions. A server-side cursor (Django's iterator(), which streams the
# CSV exports) would be lost with it, so queries fetch in chunks on the client instead; Django already leaves
# psycopg's prepared statements off. Everything else the portal does on one connection (temporary tables, advisory
# locks) lives inside one transaction.
if env_bool("DATABASE_TRANSACTION_POOLING"):
    for database in DATABASES.values():
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
DATABASE_ROUTERS = ["companyos.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cockpit:home"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "companyos@localhost")
# Who hears of a breach of a KPI with neither an owner nor members in the group named as its owner role.
BREACH_NOTIFY_EMAIL = os.environ.get("BREACH_NOTIFY_EMAIL", "")
# The State of DevOps report whose performance clusters the DORA tiers use (delivery.dora.REPORTS: 2023 or 2024).
DORA_REPORT_YEAR = env_int("DORA_REPORT_YEAR", 2024)
# Notifications (the notifications app): links in messages start with PORTAL_URL (e.g. https://kpi.example.com).
PORTAL_URL = os.environ.get("PORTAL_URL", "").rstrip("/")
# Chat and webhook URLs must reach a public address, never this network's own (private, loopback, link-local)
# unless this is on: a request the portal sends must not be turned against services behind its firewall.
NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE = env_bool("NOTIFICATION_WEBHOOKS_ALLOW_PRIVATE", False)
NOTIFICATION_WEBHOOK_TIMEOUT = env_int("NOTIFICATION_WEBHOOK_TIMEOUT", 10)

# Celery: CELERY_BROKER_URL switches to a real broker (Redis); without it tasks run eagerly in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Redis redelivers a task not acked within this time; every task is chunked to stay well under it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    "start-nightly-run": {
        "task": "pipeline.tasks.start_nightly_run",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "start-overdue-review-reminders": {
        "task": "kpis.tasks.start_overdue_review_reminders",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 12 * 3600},
    },
    # The month partitions of alerts and observations (PostgreSQL), created PARTITION_MONTHS_AHEAD ahead.
    "create-month-partitions": {
        "task": "pipeline.tasks.create_month_partitions",
        "schedule": crontab(hour=0, minute=30),
        "options": {"expires": 12 * 3600},
    },
    # Before the nightly run, so the rollup it prunes behind is complete.
    "start-retention": {
        "task": "scoring.tasks.start_retention",
        "schedule": crontab(hour=1, minute=0),
        "options": {"expires": 6 * 3600},
    },
    # KPIs with a PromQL, evaluated at the start of the hour (a few minutes in, so its rules have run).
    "collect-prometheus-kpis": {
        "task": "kpis.tasks.collect_prometheus_kpis",
        "schedule": crontab(minute=5),
        "options": {"expires": 50 * 60},
    },
    # Notifications held back by their channel's rate limit, or whose task was lost, are queued again.
    "start-pending-notifications": {
        "task": "notifications.tasks.start_pending_deliveries",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Breaches of today so far; the nightly chain evaluates the whole previous day after its snapshots.
    "start-breach-evaluation": {
        "task": "scoring.tasks.start_breach_evaluation",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 10 * 60},
    },
    # Last month's health reports, on the 1st once the nightly run has scored the month's last day.
    "start-monthly-reports": {
        "task": "reports.tasks.start_monthly_reports",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
        "options": {"expires": 18 * 3600},
    },
}
# Alerts and observations are partitioned by month on PostgreSQL: partitions exist this many months ahead.
PARTITION_MONTHS_AHEAD = env_int("PARTITION_MONTHS_AHEAD", 3)
# Alerts are kept this many days; retention then drops whole months of them.
ALERT_RETENTION_DAYS = env_int("ALERT_RETENTION_DAYS", 400)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous caller gets 401 with a WWW-Authenticate header. DRF's, slowed for bad tokens.
        "companyos.api.throttling.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads need a role (tenancy.permissions); what they reach is scoped to the caller's companies in each view.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "tenancy.permissions.ReadsNeedARole"],
    "DEFAULT_PARSER_CLASSES": ["companyos.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "companyos.api.renderers.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["companyos.api.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Each signed-in caller (a data source's token, a browser session); the bench's and a busy sender's bursts fit.
        "user": os.environ.get("API_USER_RATE", "1200/minute"),
        # Bad tokens from one client address, after which its tokens are refused until the minute has passed.
        "failed_token": os.environ.get("API_FAILED_TOKEN_RATE", "10/minute"),
    },
    "DEFAULT_FILTER_BACKENDS": [
        "companyos.api.filters.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "companyos.api.exceptions.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "companyos.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CompanyOS KPI API",
    "DESCRIPTION": "KPI definitions, observations and health scores.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its Swagger UI are for signed-in users; the UI's files come from drf-spectacular-sidecar
    # (collected into /static/), not a CDN, so it works offline and under the Content-Security-Policy.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A string field that refuses "" says so (minLength 1), so clients and schema-driven tests know.
    "ENFORCE_NON_BLANK_FIELDS": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "companyos.api.schema.add_error_responses",
        "companyos.api.schema.refuse_blank_required_parameters",
    ],
    "ENUM_NAME_OVERRIDES": {
        "KpiStatusEnum": "kpis.choices.Status",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "IncidentSeverityEnum": "incidents.choices.Severity",
        "AlertSeverityEnum": "incidents.choices.AlertSeverity",
    },
}

# /metrics answers a bearer token equal to METRICS_TOKEN, or a scraper inside these networks (none in production).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")
# It serves exec-visible KPIs only; this lets the token's scraper see the internal ones too.
METRICS_TOKEN_SEES_INTERNAL_KPIS = env_bool("METRICS_TOKEN_SEES_INTERNAL_KPIS", False)

# Limits of what the portal takes in (README, Security).
# A request body of up to 10,000 ingest rows (companyos.api.payloads.MAX_ROWS_PER_REQUEST) of up to about 2 KB each;
# a larger one is a 413 in the API's error shape. Uploaded files (multipart) have their own 50 MB limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 2**20
# JSON nested deeper than this is refused (the API's parser, the signed webhooks, the scanner reports): real
# payloads nest under 10 levels, and far deeper nesting exhausts the recursion of whatever walks it.
JSON_MAX_DEPTH = 32
# Proxies in front of the portal that append to X-Forwarded-For: the client's address is the entry they appended
# (companyos.client_address). 0 trusts the header not at all.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# A Prometheus query that returns no series (the data not there yet) is evaluated again, like a failed one, every
# hour until the time it evaluates is this old; after that an empty result is final (kept as ignored).
PROMETHEUS_EMPTY_RESULT_RETRY = datetime.timedelta(hours=env_int("PROMETHEUS_EMPTY_RESULT_RETRY_HOURS", 24))

# Login lockout (django-axes), for the cockpit's and the admin's login alike: after AXES_FAILURE_LIMIT wrong passwords
# for one username from one client address, that pair is refused (429) for AXES_COOLOFF_TIME, right password or not.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "companyos.client_address.client_address"
AXES_LOCKOUT_TEMPLATE = "locked_out.html"
AXES_VERBOSE = False

# Scripts only from the portal itself (the cockpit has none; the admin's and Swagger UI's are static files). Inline
# style attributes are allowed: the cockpit's bars are sized by them. Images may be data: URIs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
