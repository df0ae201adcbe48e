from rest_framework.pagination import CursorPagination


class ObservationCursorPagination(CursorPagination):
    """Observations are a large append-only table: a cursor on (observed_at, id) avoids COUNT(*) and deep OFFSET."""

    ordering = ("observed_at", "id")
    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000
