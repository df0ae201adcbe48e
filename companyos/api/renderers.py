from rest_framework.renderers import BaseRenderer

from companyos.csv_export import SpreadsheetSafeWriter


class CSVRenderer(BaseRenderer):
    """`?format=csv`: views that offer it stream their own CSV body (see `stream_csv`); errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("CSV bodies are streamed by the view; errors are rendered as JSON.")


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
