"""
The API's pagination: DRF's, with its query parameters read strictly. DRF falls back to the default on a value that
is not a number (`?offset=null` answered as if absent) and passes any size on to the database (`?limit=10**20` failed
there); here a value that is not a whole number within its bounds is a 400 naming the parameter, and the schema
states the bounds.
"""
import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

# The largest OFFSET the database takes (a bigint).
MAX_OFFSET = 2**63 - 1
DIGITS = re.compile(r"[0-9]+")


def bounded_int_param(params, name, default, *, minimum, maximum):
    """The query parameter `name` as a whole number from `minimum` to `maximum`, `default` when absent; else a 400 naming it."""
    text = params.get(name)
    if text is None:
        return default
    # Compared as text first: a number of thousands of digits is refused without converting it.
    if not DIGITS.fullmatch(text) or len(text.lstrip("0")) > len(str(maximum)) or not minimum <= int(text) <= maximum:
        raise ValidationError({name: [f"'{text[:40]}' is not a whole number from {minimum} to {maximum}."]})
    return int(text)


def with_bounds(parameters, bounds):
    """DRF's OpenAPI parameters of a paginator, each integer one given its (minimum, maximum) from `bounds`."""
    for parameter in parameters:
        if parameter["name"] in bounds:
            minimum, maximum = bounds[parameter["name"]]
            parameter["schema"] = {**parameter["schema"], "minimum": minimum, "maximum": maximum}
    return parameters


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` (1 to max_limit, default PAGE_SIZE) and `offset` (from 0); anything else a 400 naming the parameter."""

    max_limit = 1000

    def get_limit(self, request):
        return bounded_int_param(request.query_params, self.limit_query_param, self.default_limit, minimum=1, maximum=self.max_limit)

    def get_offset(self, request):
        return bounded_int_param(request.query_params, self.offset_query_param, 0, minimum=0, maximum=MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        return with_bounds(super().get_schema_operation_parameters(view), bounds)


class ObservationCursorPagination(pagination.CursorPagination):
    """Observations are a large append-only table: a cursor on (observed_at, id) avoids COUNT(*) and deep OFFSET."""

    ordering = ("observed_at", "id")
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000

    def get_page_size(self, request):
        return bounded_int_param(
            request.query_params, self.page_size_query_param, self.page_size, minimum=1, maximum=self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        return with_bounds(super().get_schema_operation_parameters(view), {self.page_size_query_param: (1, self.max_page_size)})
