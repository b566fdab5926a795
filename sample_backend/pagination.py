"""DRF's PageNumberPagination (page_size 20, ``page_size`` parameter, max_page_size 100).

::

    page = paginate(items, {"page": "2", "page_size": "10"}, "http://h/api/v1/badges/?page=2")
    page.next       # "http://h/api/v1/badges/?page=3&page_size=10" (or None)
    page.render([badge_json(b) for b in page.items])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar
from urllib import parse

import orjson

from sample_backend.responses import ApiError

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "get_page_size", "paginate"]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
_LAST_PAGE_STRINGS = ("last",)

T = TypeVar("T")


def get_page_size(params: Mapping[str, str]) -> int:
    """``page_size`` when it is a positive integer (cut to 100), else the default."""
    raw = params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        return DEFAULT_PAGE_SIZE
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


@lru_cache(maxsize=4096)
def _encode_pair(key: str, value: str) -> str:
    return f"{parse.quote_plus(key)}={parse.quote_plus(value)}"


class _LinkBuilder:
    """DRF's replace_query_param/remove_query_param for one URL, parsing it only once.

    Like DRF: the query is parsed with ``parse_qs``, ``page`` is replaced or removed, and
    the parameters are written back sorted by name.
    """

    def __init__(self, url: str) -> None:
        scheme, netloc, path, query, fragment = parse.urlsplit(url)
        self._parts = (scheme, netloc, path, fragment)
        self._params = parse.parse_qs(query, keep_blank_values=True)
        self._params.pop("page", None)

    def with_page(self, number: int | None) -> str:
        params = dict(self._params)
        if number is not None:
            params["page"] = [str(number)]
        query = "&".join(
            _encode_pair(key, value) for key, values in sorted(params.items()) for value in values
        )
        scheme, netloc, path, fragment = self._parts
        return parse.urlunsplit((scheme, netloc, path, query, fragment))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the links around it."""

    count: int
    items: Sequence[T]
    next: str | None
    previous: str | None

    def render(self, results: list[bytes]) -> bytes:
        """The response body, with already-rendered JSON ``results``."""
        head = orjson.dumps({"count": self.count, "next": self.next, "previous": self.previous})
        return b"".join((head[:-1], b',"results":[', b",".join(results), b"]}"))


def paginate(items: Sequence[T], params: Mapping[str, str], url: str) -> Page[T]:
    """The requested page of ``items``; ApiError 404 "Invalid page." when there is none.

    ``url`` is the request's absolute URL, from which next/previous are built the way DRF
    builds them (query parameters sorted, ``page`` dropped for the first page).
    """
    size = get_page_size(params)
    count = len(items)
    num_pages = max(1, math.ceil(count / size))
    raw = params.get("page") or "1"
    if raw in _LAST_PAGE_STRINGS:
        number = num_pages
    else:
        try:
            number = int(raw)
        except ValueError:
            raise ApiError.detail(404, "Invalid page.") from None
        if number < 1 or number > num_pages:
            raise ApiError.detail(404, "Invalid page.")
    start = (number - 1) * size
    next_url = previous_url = None
    if num_pages > 1:
        links = _LinkBuilder(url)
        if number < num_pages:
            next_url = links.with_page(number + 1)
        if number > 1:
            previous_url = links.with_page(None if number == 2 else number - 1)
    return Page(count, items[start : start + size], next_url, previous_url)
