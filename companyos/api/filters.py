import datetime

import django_filters
import django_filters.rest_framework
from django import forms
from django.db import models
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework.exceptions import ValidationError

from .dates import read_moment


class AwareIsoDateTimeField(forms.DateTimeField):
    """An ISO 8601 time with its UTC offset, within the supported years (`companyos.api.dates`)."""

    def to_python(self, value):
        if value is None:  # the parameter is absent
            return None
        if not str(value).strip():
            raise forms.ValidationError("Give an ISO 8601 time, e.g. 2024-01-15T10:00:00Z, or leave the parameter out.", code="invalid")
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


class StrictBooleanField(forms.Field):
    """`true` or `false` (as the schema's boolean is sent); anything else, even empty, is refused rather than read as no filter."""

    VALUES = {"true": True, "True": True, "false": False, "False": False}

    def to_python(self, value):
        if value is None:  # the parameter is absent
            return None
        if value not in self.VALUES:
            raise forms.ValidationError(f"'{str(value)[:40]}' is not true or false.", code="invalid")
        return self.VALUES[value]


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class FilterSet(django_filters.rest_framework.FilterSet):
    """The API's filter sets: a boolean filter takes only true or false."""

    FILTER_DEFAULTS = {
        **django_filters.rest_framework.FilterSet.FILTER_DEFAULTS,
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }


class DjangoFilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """
    django-filter's backend, with the API's filter sets (FilterSet) for a view's `filterset_fields`. A filter given
    empty (`?status=`) is refused naming it, as the schema says (NonBlankFilterExtension), rather than read as no filter.
    """

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            empty = [name for name in filterset.filters if request.query_params.get(name) == ""]
            if empty:
                raise ValidationError({name: ["Give a value, or leave the parameter out."] for name in empty})
        return super().filter_queryset(request, queryset, view)


class NonBlankFilterExtension(DjangoFilterExtension):
    """The schema of DjangoFilterBackend's parameters: a string one refuses the empty string (minLength 1)."""

    target_class = "companyos.api.filters.DjangoFilterBackend"
    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        for parameter in parameters:
            if parameter["schema"].get("type") == "string" and "enum" not in parameter["schema"]:
                parameter["schema"].setdefault("minLength", 1)
        return parameters
