"""Cursor pagination for every list (docs/api.md, "Lists"): a page is one query however deep, and a cursor stays
valid while rows are added. `page_size` up to MAX_PAGE_SIZE."""

from rest_framework.pagination import CursorPagination

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Cursor(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "-id"
    invalid_cursor_message = "翻页游标无效。"


def cursor_ordered(ordering):
    """A Cursor paginator class ordered by `ordering` (a tuple; the last field must be unique)."""
    return type("Cursor", (Cursor,), {"ordering": ordering})
