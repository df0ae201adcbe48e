import datetime

import django_filters


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """
    An ISO 8601 time, compared in UTC. ISO 8601 allows offsets up to +/-23:59 but PostgreSQL only +/-15:59, so a
    valid request could otherwise fail in the database.
    """

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(datetime.timezone.utc) if value else value)
