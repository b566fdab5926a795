"""Per-request loaders: one batch per tick, scoped to the organization, freed with the request."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any, cast

import pytest

from backend.api import CredentialsApi
from resolvers.loaders import Loaders


class _Badges:
    """The one backend call the badge loader makes, recorded."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def list_badges(self, *, organization: int, ids: list[int], **_: Any) -> dict[str, Any]:
        self.calls.append(list(ids))
        owners = {1: organization, 2: organization, 3: organization + 1}
        return {"results": [{"id": i, "organization": owners[i]} for i in ids if i in owners]}


class _WeaklyReferenced(Loaders):
    """A subclass without __slots__, so a test can hold a weak reference to one."""


@pytest.fixture
def no_collector() -> Iterator[None]:
    """Only reference counting frees anything: what survives is in a reference cycle."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_loads_in_one_tick_share_one_call_and_see_only_their_organization() -> None:
    backend = _Badges()
    loaders = Loaders(cast(CredentialsApi, backend), organization_id=7)

    async def load() -> list[Any]:
        return list(await asyncio.gather(*(loaders.badge(i) for i in (1, 2, 3, 9))))

    found = asyncio.run(load())
    assert backend.calls == [[1, 2, 3, 9]]
    assert found == [{"id": 1, "organization": 7}, {"id": 2, "organization": 7}, None, None]


def test_a_requests_loaders_are_freed_without_the_garbage_collector(no_collector: None) -> None:
    backend = _Badges()
    loaders = _WeaklyReferenced(cast(CredentialsApi, backend), organization_id=7)
    gone = weakref.ref(loaders)

    async def load(request_loaders: Loaders) -> None:
        assert await request_loaders.badge(1) == {"id": 1, "organization": 7}

    asyncio.run(load(loaders))
    del loaders
    # A batch function bound to the Loaders that holds its DataLoader kept them alive
    # until the next collection: every request's loaders, caches and backend records.
    assert gone() is None
