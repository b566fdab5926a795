"""Cursor pagination over the backend's page-number pagination.

A cursor is an opaque, versioned offset. ``first`` items after a cursor become one
backend page whenever some page size in ``[first, 100]`` holds the whole window (which
is nearly always), else two pages::

    window = PageWindow.from_arguments(first=20, after=None, max_page_size=100)
    records, total = await fetch_window(window, fetch_page)
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from errors import BackendNotFound, BadUserInput

__all__ = [
    "PageWindow",
    "backend_pages",
    "decode_cursor",
    "encode_cursor",
    "fetch_window",
]

_CURSOR_PREFIX = "v1:"
_MAX_CURSOR = 64  # the longest cursor given out (offset 10**9 - 1) is 16 characters
_BACKEND_MAX_PAGE_SIZE = 100

FetchPage = Callable[[int, int], Awaitable[dict[str, Any]]]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The offset of a cursor :func:`encode_cursor` made, spelt exactly as it made it.

    base64 decoding skips characters outside its alphabet and ``int`` reads spaces,
    signs and underscores: a cursor must re-encode to itself, so none of those pass.
    """
    if len(cursor) <= _MAX_CURSOR:
        try:
            text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
            if text.startswith(_CURSOR_PREFIX):
                offset = int(text.removeprefix(_CURSOR_PREFIX))
                if 0 <= offset < 10**9 and encode_cursor(offset) == cursor:
                    return offset
        except (ValueError, UnicodeError):
            pass
    raise BadUserInput("`after` is not a cursor this API gave out.", field="after")


@dataclass(frozen=True, slots=True)
class PageWindow:
    """Items ``[offset, offset + first)`` of a list."""

    offset: int
    first: int

    @classmethod
    def from_arguments(cls, first: int, after: str | None, *, max_page_size: int) -> PageWindow:
        if not 1 <= first <= max_page_size:
            raise BadUserInput(
                f"`first` must be between 1 and {max_page_size}; ask for more pages with `after`.",
                field="first",
            )
        offset = 0 if after is None else decode_cursor(after) + 1
        return cls(offset=offset, first=first)


def backend_pages(offset: int, first: int) -> list[tuple[int, int]]:
    """The ``(page, page_size)`` requests that cover ``[offset, offset + first)``."""
    last = offset + first - 1
    for size in range(first, _BACKEND_MAX_PAGE_SIZE + 1):
        if offset // size == last // size:
            return [(offset // size + 1, size)]
    page = offset // first + 1
    return [(page, first), (page + 1, first)]


async def fetch_window(
    window: PageWindow, fetch_page: FetchPage
) -> tuple[Sequence[dict[str, Any]], int]:
    """The records in the window and the list's total count."""
    records: list[dict[str, Any]] = []
    total = 0
    first_index = None
    for page, size in backend_pages(window.offset, window.first):
        try:
            body = await fetch_page(page, size)
        except BackendNotFound:  # DRF's "Invalid page.": the window starts past the end
            if first_index is None:
                return [], (await fetch_page(1, 1))["count"]
            break
        if first_index is None:
            first_index = (page - 1) * size
        records.extend(body["results"])
        total = body["count"]
        if body.get("next") is None:
            break
    start = window.offset - (first_index or 0)
    return records[start : start + window.first], total
