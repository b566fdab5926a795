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


def _replace_query_param(url: str, key: str, value: int) -> str:
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict[key] = [str(value)]
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


def _remove_query_param(url: str, key: str) -> str:
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict.pop(key, None)
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
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
        return orjson.dumps(
            {
                "count": self.count,
                "next": self.next,
                "previous": self.previous,
                "results": [orjson.Fragment(result) for result in results],
            }
        )


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
    next_url = _replace_query_param(url, "page", number + 1) if number < num_pages else None
    if number <= 1:
        previous_url = None
    elif number == 2:
        previous_url = _remove_query_param(url, "page")
    else:
        previous_url = _replace_query_param(url, "page", number - 1)
    return Page(count, items[start : start + size], next_url, previous_url)
