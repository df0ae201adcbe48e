from rest_framework.exceptions import ValidationError

# The most rows one ingestion request may carry; bigger loads are split by the sender.
MAX_ROWS_PER_REQUEST = 10_000


def rows_of(request, *, limit=MAX_ROWS_PER_REQUEST):
    """The request body as a list of objects: one object or a list of up to `limit`."""
    rows = request.data if isinstance(request.data, list) else [request.data]
    if not all(isinstance(row, dict) for row in rows):
        raise ValidationError({"non_field_errors": ["Send one JSON object or a list of objects."]})
    if len(rows) > limit:
        raise ValidationError({"non_field_errors": [f"At most {limit} rows per request; this one has {len(rows)}."]})
    return rows
