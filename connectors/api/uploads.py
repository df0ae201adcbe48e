"""What the upload endpoints (scanner reports, CSV imports) share: the file as the body or a multipart `file`."""
import io

from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from connectors.services import MAX_UPLOAD_BYTES, read_upload


class RawBodyParser(BaseParser):
    """A body of the subclass's `media_type` as its bytes, as sent (hashed for its delivery ID, parsed by the connector)."""

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(MAX_UPLOAD_BYTES + 1) if stream is not None else b""


def uploaded_content(request):
    """The uploaded file: the multipart field `file`, or else the raw body (read by a RawBodyParser); a 400 when absent."""
    if request.content_type.startswith("multipart/"):
        if "file" not in request.FILES:
            raise ValidationError({"file": "Send the file as the request body or as the multipart field 'file'."})
        return read_upload(request.FILES["file"])
    # An empty body is not parsed at all: no bytes.
    return read_upload(io.BytesIO(request.data if isinstance(request.data, bytes) else b""))


def received_response(serializer_class, received):
    """201 for a new upload, 200 for the same file again (a redelivery that changed nothing)."""
    return Response(
        serializer_class(received).data, status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK
    )
