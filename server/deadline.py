"""Request deadlines on the hot path: one sweeper per process, not a timer per request.

``asyncio.timeout`` schedules a timer handle on entry and cancels it on exit; on a
one-badge request that was about 2% of the gateway's CPU (docs/performance.md). Here a
request only registers its task and its due time; one callback, scheduled every
``resolution`` seconds while requests are in flight, cancels the tasks that are overdue.
A deadline may fire up to ``resolution`` late, which is nothing against seconds::

    deadlines = Deadlines(15.0)
    watch = deadlines.watch()            # in the request's task
    try:
        result = await run_the_operation()
    except asyncio.CancelledError:
        if not deadlines.expired(watch):  # cancelled by someone else: not ours to handle
            raise
        return timed_out_answer()
    finally:
        deadlines.release(watch)

As with ``asyncio.timeout``, the cancellation can only land while the task waits inside
the watched block: it is released in the same synchronous step that leaves the block.
"""

from __future__ import annotations

import asyncio
from typing import Final

__all__ = ["Deadlines", "Watch"]

_RESOLUTION: Final = 0.25


class Watch:
    """One watched task and when it is due (the event loop's clock)."""

    __slots__ = ("due", "expired", "task")

    def __init__(self, task: asyncio.Task[object], due: float) -> None:
        self.task = task
        self.due = due
        self.expired = False


class Deadlines:
    """Cancels watched tasks past ``seconds``; see the module docstring."""

    def __init__(self, seconds: float, *, resolution: float = _RESOLUTION) -> None:
        if seconds <= 0 or resolution <= 0:
            raise ValueError("seconds and resolution must be positive")
        self.seconds = seconds
        self._resolution = resolution
        self._active: set[Watch] = set()
        self._sweeping: asyncio.TimerHandle | None = None

    def watch(self) -> Watch:
        """Start the current task's deadline."""
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("Deadlines.watch() needs a running task")
        loop = task.get_loop()
        watch = Watch(task, loop.time() + self.seconds)
        self._active.add(watch)
        if self._sweeping is None:
            self._sweeping = loop.call_later(self._resolution, self._sweep, loop)
        return watch

    def expired(self, watch: Watch) -> bool:
        """True when this deadline cancelled the task; the cancellation is then taken
        back (``uncancel``), so the task can go on to answer."""
        if watch.expired:
            watch.task.uncancel()
            return True
        return False

    def release(self, watch: Watch) -> None:
        self._active.discard(watch)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        for watch in [w for w in self._active if w.due <= now]:
            self._active.discard(watch)
            watch.expired = True
            watch.task.cancel()
        self._sweeping = (
            loop.call_later(self._resolution, self._sweep, loop) if self._active else None
        )
