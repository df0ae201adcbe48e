import datetime

import django_filters
from django import forms

from .dates import read_moment


class AwareIsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 time with its UTC offset, within the supported years (`companyos.api.dates`)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return read_moment(str(value).strip())
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """
    An ISO 8601 time with its offset, compared in UTC. ISO 8601 allows offsets up to +/-23:59 but PostgreSQL only
    +/-15:59, so a valid request could otherwise fail in the database.
    """

    field_class = AwareIsoDateTimeField

    def filter(self, qs, value):
        return super().filter(qs, value.astimezone(datetime.timezone.utc) if value else value)
