"""A per-request batch loader: the part of Strawberry's DataLoader the gateway uses, leaner.

Loads asked for in the same turn of the event loop become one call of the batch function
(in chunks of ``max_batch_size``), and each key is fetched at most once per loader::

    loader = BatchLoader(fetch_badges, max_batch_size=100)   # fetch_badges(ids) -> records
    await loader.load(42)               # the record (or what the batch function put there)
    await loader.load_many([1, 2, 3])   # one call, if none of them is cached
    loader.prime(7, record)             # known already: never fetched

Strawberry's ``DataLoader`` does the same through a batch object, a task object per key,
a pluggable cache and a closure per dispatch; on a one-badge request that machinery was
~5.7% of the gateway's instructions (docs/performance.md). Semantics kept: a batch
function answers one value per key, in order (an exception instance fails that key
alone); a batch function that raises, or answers the wrong number of values, fails every
key of its batch; a key whose caller gave up (a cancelled future) is not fetched if no
one else waits for its batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

__all__ = ["BatchLoader", "WrongNumberOfValues"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class WrongNumberOfValues(ValueError):
    """The batch function answered a number of values other than the keys it was given."""


class BatchLoader(Generic[K, V]):
    """Batches and caches loads of one kind for one request; see the module docstring."""

    __slots__ = ("_batch", "_cache", "_fetch", "_loop", "_max_batch_size", "_running")

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]],
        *,
        max_batch_size: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._max_batch_size = max_batch_size
        self._cache: dict[K, asyncio.Future[V]] = {}
        self._batch: list[K] = []  # keys asked for in this turn of the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Task[None]] = set()  # batches in flight, kept alive

    def load(self, key: K) -> asyncio.Future[V]:
        """The value for ``key``, fetched with the other keys asked for in this turn."""
        future = self._cache.get(key)
        if future is not None and not future.cancelled():
            return future
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future = self._cache[key] = loop.create_future()
        if not self._batch:
            loop.call_soon(self._dispatch)
        self._batch.append(key)
        return future

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        return asyncio.gather(*map(self.load, keys))

    def prime(self, key: K, value: V) -> None:
        """Remember ``value`` for ``key`` unless the key is known already."""
        if key in self._cache:
            return
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future = self._cache[key] = loop.create_future()
        future.set_result(value)

    def _dispatch(self) -> None:
        keys, self._batch = self._batch, []
        size = self._max_batch_size or len(keys)
        loop = self._loop
        assert loop is not None
        for start in range(0, len(keys), size):
            task = loop.create_task(self._run(keys[start : start + size]))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, keys: list[K]) -> None:
        futures = [self._cache[key] for key in keys]
        if all(future.done() for future in futures):
            return  # nobody waits for them (cancelled, or primed in the meantime)
        try:
            values = list(await self._fetch(keys))
            if len(values) != len(keys):
                raise WrongNumberOfValues(
                    f"the batch function answered {len(values)} values for {len(keys)} keys"
                )
        except Exception as error:  # every key of the batch fails with it
            for future in futures:
                if not future.done():
                    future.set_exception(error)
            return
        for future, value in zip(futures, values, strict=True):
            if future.done():
                continue
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)
