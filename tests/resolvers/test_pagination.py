from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BackendNotFound, BadUserInput
from resolvers.pagination import (
    PageWindow,
    backend_pages,
    decode_cursor,
    encode_cursor,
    fetch_window,
)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=100))
def test_backend_pages_cover_exactly_the_window(offset: int, first: int) -> None:
    pages = backend_pages(offset, first)
    assert 1 <= len(pages) <= 2
    covered: set[int] = set()
    for page, size in pages:
        assert 1 <= size <= 100
        covered.update(range((page - 1) * size, page * size))
    assert set(range(offset, offset + first)) <= covered
    if len(pages) == 2:  # two pages only when no single page size can hold the window
        assert all(offset // s != (offset + first - 1) // s for s in range(first, 101))


def test_aligned_window_is_one_page_of_the_requested_size() -> None:
    assert backend_pages(40, 20) == [(3, 20)]


@given(st.integers(min_value=0, max_value=10**8))
def test_cursors_round_trip(offset: int) -> None:
    assert decode_cursor(encode_cursor(offset)) == offset


@pytest.mark.parametrize(
    "cursor",
    ["", "abc", "djE6LTE=", "eHg6MQ==", "v1:5", "🙂", "djE6IDU=", "djE6KzU=", "djE6MF81",
     "d!jE6NQ==", "djE6NQ", "djE6NQ==\n", "djE6NQ==" + "=" * 100, "djE6NQ==" * 1000],
)  # fmt: skip
def test_foreign_cursors_are_bad_input(cursor: str) -> None:
    with pytest.raises(BadUserInput, match="after"):
        decode_cursor(cursor)


@given(st.text() | st.text("djE6MTIzNDU2Nzg5=-_+/ ", max_size=24))
def test_any_text_is_a_cursor_given_out_or_bad_input(cursor: str) -> None:
    try:
        offset = decode_cursor(cursor)
    except BadUserInput as error:
        refused: BadUserInput | None = error
    else:
        refused = None
        assert encode_cursor(offset) == cursor  # only the exact spelling given out
    assert refused is None or refused.field == "after"


@pytest.mark.parametrize("first", [0, -1, 101])
def test_first_outside_the_cap_is_bad_input(first: int) -> None:
    with pytest.raises(BadUserInput, match="between 1 and 100"):
        PageWindow.from_arguments(first, None, max_page_size=100)


def _fake_list(total: int) -> Any:
    calls: list[tuple[int, int]] = []

    async def fetch(page: int, size: int) -> dict[str, Any]:
        calls.append((page, size))
        start = (page - 1) * size
        if start >= total and not (page == 1 and total == 0):
            raise BackendNotFound("Invalid page.")
        items = [{"n": i} for i in range(start, min(start + size, total))]
        return {"count": total, "results": items, "next": "x" if start + size < total else None}

    return fetch, calls


@given(
    total=st.integers(min_value=0, max_value=400),
    offset=st.integers(min_value=0, max_value=450),
    first=st.integers(min_value=1, max_value=100),
)
async def test_fetch_window_returns_the_exact_slice(total: int, offset: int, first: int) -> None:
    fetch, _calls = _fake_list(total)
    records, count = await fetch_window(PageWindow(offset, first), fetch)
    assert count == total
    assert [r["n"] for r in records] == list(range(offset, min(offset + first, total)))
