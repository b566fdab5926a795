"""A per-request batch loader: the part of Strawberry's DataLoader the gateway uses, leaner.

Loads asked for before the batch goes out (the next turns of the event loop) become one
call of the batch function, in chunks of ``max_batch_size``, and each key is fetched at
most once per loader::

    loader = BatchLoader(fetch_badges, max_batch_size=100)   # fetch_badges(ids) -> records
    await loader.load(42)               # the record (or what the batch function put there)
    await loader.load_many([1, 2, 3])   # one call, if none of them is cached
    loader.cancel()                     # the request is answered: stop what still runs

Strawberry's ``DataLoader`` does the same through a batch object, a task object per key,
a pluggable cache, a done-callback per key and a closure per dispatch; on a one-badge
request that machinery was ~5.7% of the gateway's instructions (docs/performance.md).
Kept from it: the batching window (a batch goes out when its task first runs, two turns
of the loop after its first load), one value per key in order (an exception instance fails its key
alone), a batch function that raises or answers the wrong number of values fails every
key of its batch, and a batch whose callers have all given up before it went out is not
sent. Not kept: a batch already sent is not cancelled when its last caller gives up; the
endpoint cancels whatever is still running once the request is answered (:meth:`cancel`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["BatchLoader", "WrongNumberOfValues"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class WrongNumberOfValues(ValueError):
    """The batch function answered a number of values other than the keys it was given."""


class BatchLoader(Generic[K, V]):
    """Batches and caches loads of one kind for one request; see the module docstring."""

    __slots__ = (
        "_cache",
        "_closed",
        "_fetch",
        "_loop",
        "_max_batch_size",
        "_pending",
        "_running",
    )

    def __init__(
        self,
        fetch: Callable[[list[K]], Awaitable[Sequence[V | BaseException]]],
        *,
        max_batch_size: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._max_batch_size = max_batch_size
        self._cache: dict[K, asyncio.Future[V]] = {}
        self._pending: list[K] = []  # keys of the batch not sent yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[asyncio.Task[None]] = set()  # batches, kept alive until done
        self._closed = False

    def load(self, key: K) -> asyncio.Future[V]:
        """The value for ``key``, fetched with the other keys of its batch."""
        future = self._cache.get(key)
        if future is not None and not future.cancelled():
            return future
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future = self._cache[key] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._schedule)
        self._pending.append(key)
        return future

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        return asyncio.gather(*map(self.load, keys))

    def cancel(self) -> None:
        """Cancel the batches still running and send no more (their loads are cancelled)."""
        self._closed = True
        for task in list(self._running):
            task.cancel()

    def _schedule(self) -> None:
        if not self._closed:
            self._start(self._send())

    def _start(self, batch: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(batch)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _send(self) -> None:
        """The batch: the keys asked for until this task first runs, in chunks."""
        keys, self._pending = self._pending, []
        size = self._max_batch_size or len(keys)
        for start in range(size, len(keys), size):  # chunks after the first: tasks of their own
            self._start(self._run(keys[start : start + size]))
        await self._run(keys[:size])

    async def _run(self, keys: list[K]) -> None:
        futures = [self._cache[key] for key in keys]
        if all(future.done() for future in futures):
            return  # every caller gave up before the batch went out
        try:
            values = list(await self._fetch(keys))
            if len(values) != len(keys):
                raise WrongNumberOfValues(
                    f"the batch function answered {len(values)} values for {len(keys)} keys"
                )
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
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
