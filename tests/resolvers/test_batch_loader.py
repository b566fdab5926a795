"""The batch loader: one call per turn of the loop, each key once, failures where they belong."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from resolvers.batch_loader import BatchLoader, WrongNumberOfValues


class Source:
    """A batch function that records its calls: key -> "value of <key>"."""

    def __init__(self, *, failing: frozenset[int] = frozenset()) -> None:
        self.calls: list[list[int]] = []
        self.failing = failing

    async def fetch(self, keys: list[int]) -> Sequence[str | BaseException]:
        self.calls.append(list(keys))
        await asyncio.sleep(0)
        return [KeyError(key) if key in self.failing else f"value of {key}" for key in keys]


async def test_loads_of_one_turn_are_one_call_each_key_once() -> None:
    source = Source()
    loader = BatchLoader(source.fetch)
    values = await asyncio.gather(loader.load(1), loader.load(2), loader.load(1), loader.load(3))
    assert list(values) == ["value of 1", "value of 2", "value of 1", "value of 3"]
    assert source.calls == [[1, 2, 3]]
    assert await loader.load(2) == "value of 2"  # cached: no second call
    assert await loader.load_many([4, 1, 5]) == ["value of 4", "value of 1", "value of 5"]
    assert source.calls == [[1, 2, 3], [4, 5]]


async def test_batches_are_cut_at_the_maximum_size() -> None:
    source = Source()
    loader = BatchLoader(source.fetch, max_batch_size=2)
    assert await loader.load_many(range(5)) == [f"value of {key}" for key in range(5)]
    assert source.calls == [[0, 1], [2, 3], [4]]


async def test_loads_a_turn_apart_still_share_a_batch() -> None:
    """The batch goes out when its task first runs, as Strawberry's did: a field resolved
    one turn after its sibling joins the same backend call."""
    source = Source()
    loader = BatchLoader(source.fetch)
    first = loader.load(1)
    await asyncio.sleep(0)
    second = loader.load(2)
    assert list(await asyncio.gather(first, second)) == ["value of 1", "value of 2"]
    assert source.calls == [[1, 2]]


async def test_cancel_stops_a_running_batch_and_sends_no_more() -> None:
    started, stopped = asyncio.Event(), asyncio.Event()

    async def fetch(keys: list[int]) -> list[str]:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return []

    loader = BatchLoader(fetch)
    waiting = loader.load(1)
    await started.wait()
    unsent = BatchLoader(Source().fetch)
    never = unsent.load(2)
    loader.cancel()
    unsent.cancel()
    await asyncio.wait_for(stopped.wait(), 5)  # the backend call was cancelled, not left to run
    assert waiting.cancelled()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert not never.done()  # nobody reads it: the request is answered
    assert unsent._running == set()


async def test_an_exception_value_fails_its_key_alone() -> None:
    loader = BatchLoader(Source(failing=frozenset({2})).fetch)
    one, two, three = await asyncio.gather(
        loader.load(1), loader.load(2), loader.load(3), return_exceptions=True
    )
    assert (one, three) == ("value of 1", "value of 3")
    assert isinstance(two, KeyError)


async def test_a_failing_batch_function_fails_every_key_of_its_batch_only() -> None:
    calls: list[list[int]] = []

    async def fetch(keys: list[int]) -> list[str]:
        calls.append(keys)
        if 3 in keys:
            raise RuntimeError("backend down")
        return [str(key) for key in keys]

    loader = BatchLoader(fetch, max_batch_size=2)
    results = await asyncio.gather(*(loader.load(k) for k in (1, 2, 3, 4)), return_exceptions=True)
    assert results[:2] == ["1", "2"]
    assert all(isinstance(r, RuntimeError) and str(r) == "backend down" for r in results[2:])


async def test_the_wrong_number_of_values_fails_the_batch() -> None:
    async def fetch(keys: list[int]) -> list[str]:
        return ["only one"]

    loader = BatchLoader(fetch)
    results = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert all(isinstance(r, WrongNumberOfValues) for r in results)
    assert "1 values for 2 keys" in str(results[0])


async def test_a_batch_function_cancelled_from_inside_cancels_its_loads() -> None:
    async def fetch(keys: list[int]) -> list[str]:
        raise asyncio.CancelledError

    loader = BatchLoader(fetch)
    future = loader.load(1)
    with pytest.raises(asyncio.CancelledError):
        await future  # not left waiting forever


async def test_keys_nobody_waits_for_are_not_fetched_and_are_fetched_again_later() -> None:
    source = Source()
    loader = BatchLoader(source.fetch)
    abandoned = loader.load(1)
    abandoned.cancel()  # the caller gave up before the batch went out
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert source.calls == []
    assert await loader.load(1) == "value of 1"
    assert source.calls == [[1]]


async def test_a_batch_still_answers_the_callers_left_when_one_gives_up() -> None:
    source = Source()
    loader = BatchLoader(source.fetch)
    gone, kept = loader.load(1), loader.load(2)
    gone.cancel()
    assert await kept == "value of 2"
    assert source.calls == [[1, 2]]
    with pytest.raises(asyncio.CancelledError):
        await gone
