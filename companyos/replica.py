"""
A read replica for the pages and API reads that tolerate its lag: with DATABASE_REPLICA_URL set, the cockpit's
and the API's GET and HEAD requests read from the `replica` alias; every write, the admin, the tasks and the
commands use `default`. A GET that must see its own writes does not exist here: writes are POST, PATCH and PUT.
"""
from contextvars import ContextVar

from django.conf import settings

REPLICA = "replica"
# The paths whose reads may lag the primary by the replica's delay.
REPLICA_READ_PREFIXES = ("/api/", "/cockpit/")
READ_ONLY_METHODS = ("GET", "HEAD")
# Who is asking is always read from the primary: a session or token made a moment ago may not have reached the
# replica yet, and a lagging read would log its user out.
PRIMARY_ONLY_APPS = ("sessions", "auth", "authtoken", "axes", "tenancy")

_reading_from_replica = ContextVar("reading_from_replica", default=False)


def replica_configured():
    return bool(getattr(settings, "READS_FROM_REPLICA", False)) and REPLICA in settings.DATABASES


class ReplicaRouter:
    """Reads go to the replica inside a request ReadsFromReplicaMiddleware marked; everything else to default."""

    def db_for_read(self, model, **hints):
        if _reading_from_replica.get() and model._meta.app_label not in PRIMARY_ONLY_APPS:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # One database seen twice: rows read from the replica may be related to rows of the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives the schema by replication.
        return db != REPLICA


class ReadsFromReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reads_replica = (
            request.method in READ_ONLY_METHODS and request.path.startswith(REPLICA_READ_PREFIXES) and replica_configured()
        )
        marker = _reading_from_replica.set(reads_replica)
        try:
            return self.get_response(request)
        finally:
            _reading_from_replica.reset(marker)
