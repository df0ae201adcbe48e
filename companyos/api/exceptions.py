"""
One JSON shape for every API error:

    {"error": {"status": 400, "code": "invalid", "message": "slug: ...", "fields": {"slug": ["..."]}}}

`message` always starts with the field or slug at fault when there is one, so a client can show it as is.
"""
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from .payloads import MAX_ROWS_PER_REQUEST


class Conflict(exceptions.APIException):
    """The request would duplicate something that exists (e.g. an observation key)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This already exists."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    """The request body is larger than settings.DATA_UPLOAD_MAX_MEMORY_SIZE."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    field = "body"


def _flatten(detail, prefix=""):
    """{"rows": [{"slug": ["x"]}]} -> {"rows[0].slug": ["x"]}: one path per message."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            if isinstance(key, int):  # a list serializer's errors, keyed by row position
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, path))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def _first_message(fields):
    for path, messages in fields.items():
        if messages:
            return messages[0] if path == "non_field_errors" else f"{path}: {messages[0]}"
    return "Invalid input."


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            # A model's own clean() reports under "__all__": the request as a whole, named as DRF names it.
            detail = {"non_field_errors" if name == NON_FIELD_ERRORS else name: messages for name, messages in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    if isinstance(exc, DataError):
        # The database refused a value no validator caught (a NUL character, a number out of range).
        exc = exceptions.ValidationError({"non_field_errors": ["A value in the request cannot be stored: " + str(exc).splitlines()[0]]})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        exc = PayloadTooLarge(f"Larger than {limit:g} MB; split the batch (at most {MAX_ROWS_PER_REQUEST:,} rows per request).")
    elif isinstance(exc, SuspiciousOperation):
        # Django's request limits (e.g. more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS): a 400 like any other.
        exc = exceptions.ValidationError({"non_field_errors": [str(exc)]})
    if isinstance(exc, exceptions.ParseError):
        # The body as a whole is at fault: named like a field, so the message says where.
        exc = exceptions.ValidationError({"body": [str(exc.detail)]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _first_message(fields)
    else:
        detail = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        field = getattr(exc, "field", None)  # set by an error about one part of the request (PayloadTooLarge: the body)
        fields = {field: [detail]} if field else {}
        message = f"{field}: {detail}" if field else detail
    code = getattr(exc, "default_code", "error")
    response.data = {"error": {"status": response.status_code, "code": code, "message": message, "fields": fields}}
    return response
