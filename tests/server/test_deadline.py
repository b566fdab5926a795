"""Deadlines: overdue tasks are cancelled and told so; others are left alone."""

from __future__ import annotations

import asyncio

import pytest

from server.deadline import Deadlines


async def _answer(deadlines: Deadlines, work: float) -> str:
    watch = deadlines.watch()
    try:
        await asyncio.sleep(work)
    except asyncio.CancelledError:
        if not deadlines.expired(watch):
            raise
        return "timed out"
    finally:
        deadlines.release(watch)
    return "done"


async def test_an_overdue_task_is_cancelled_and_answers() -> None:
    deadlines = Deadlines(0.05, resolution=0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _answer(deadlines, work=30) == "timed out"
    assert loop.time() - started < 5  # the deadline, not the work


async def test_a_task_within_its_deadline_is_left_alone_and_the_sweeper_stops() -> None:
    deadlines = Deadlines(10, resolution=0.01)
    assert await _answer(deadlines, work=0.02) == "done"
    assert not deadlines._active  # nothing left behind
    await asyncio.sleep(0.03)  # a sweep or two: it finds nothing and is not rescheduled
    assert deadlines._sweeping is None


async def test_only_the_overdue_of_several_tasks_are_cancelled() -> None:
    short = Deadlines(0.05, resolution=0.01)
    long = Deadlines(10, resolution=0.01)
    answers = await asyncio.gather(
        _answer(short, work=30), _answer(long, work=0.1), _answer(short, work=0.001)
    )
    assert list(answers) == ["timed out", "done", "done"]


async def test_someone_elses_cancellation_is_not_swallowed() -> None:
    deadlines = Deadlines(10, resolution=0.01)
    task = asyncio.create_task(_answer(deadlines, work=30))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not deadlines._active


async def test_the_task_is_not_left_cancelling_after_a_deadline() -> None:
    deadlines = Deadlines(0.02, resolution=0.01)
    assert await _answer(deadlines, work=30) == "timed out"
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    await asyncio.sleep(0)  # and it can await again


def test_nonsense_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Deadlines(0)
