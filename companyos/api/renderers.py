from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from companyos.csv_export import SpreadsheetSafeWriter


class CSVRenderer(BaseRenderer):
    """`?format=csv`: views that offer it stream their own CSV body (see `stream_csv`); errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("CSV bodies are streamed by the view; errors are rendered as JSON.")


class StreamsItsOwnBody:
    """
    A view mixin for views that stream their own body (a CSV, `?format=csv`): what DRF renders for them (errors,
    OPTIONS) keeps the API's JSON whatever format was asked for.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response


class Echo:
    """A file-like object whose write returns the line, for csv.writer inside a streaming response."""

    def write(self, value):
        return value


def stream_csv(columns, rows):
    """CSV lines for a header and an iterable of dicts (a missing key an empty cell), produced lazily, spreadsheet-safe."""
    writer = SpreadsheetSafeWriter(Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([row.get(column) for column in columns])


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's, except that `?format=` given empty is refused naming it (DRF reads it as absent; the schema lists the formats)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.query_params.get(api_settings.URL_FORMAT_OVERRIDE) == "":
            raise ValidationError({api_settings.URL_FORMAT_OVERRIDE: ["Name a format, or leave the parameter out."]})
        return super().select_renderer(request, renderers, format_suffix)
