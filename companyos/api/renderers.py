import csv
import io

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    """
    `?format=csv`. Views stream their own CSV body for data; this renders what reaches it otherwise
    (an error) as a one-row CSV, so a CSV client never gets a page it cannot parse.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        error = (data or {}).get("error", {}) if isinstance(data, dict) else {}
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["status", "code", "message"])
        writer.writerow([error.get("status", ""), error.get("code", ""), error.get("message", "")])
        return buffer.getvalue().encode(self.charset)


class Echo:
    """A file-like object whose write returns the line, for csv.writer inside a streaming response."""

    def write(self, value):
        return value


def stream_csv(columns, rows):
    """CSV lines for a header and an iterable of dicts, produced lazily."""
    writer = csv.DictWriter(Echo(), fieldnames=columns, extrasaction="ignore")
    yield writer.writerow(dict(zip(columns, columns)))
    for row in rows:
        yield writer.writerow(row)
