"""The backend calls made for the current request, collected without passing anything around.

The endpoint opens a log per request; the backend client's observer appends every call
(each attempt, with its status, duration and retry reason) to the log of the request it
runs for, and notes when it ended. The usage ledger counts them; traces keep them::

    calls = open_call_log()
    client = BackendClient(settings, on_call=record_call)
    ...  # resolvers call the backend
    len(calls)  # backend calls this request made
    calls.ended_ns[0]  # when the first one ended (time.time_ns()), for trace spans
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from backend.client import BackendCall

__all__ = ["CallLog", "open_call_log", "record_call"]


class CallLog(list[BackendCall]):
    """A request's backend calls in the order they ended; ``ended_ns[i]`` is when call ``i``
    ended, in ``time.time_ns()`` (so it started ``duration_ms`` before)."""

    __slots__ = ("ended_ns",)

    def __init__(self) -> None:
        super().__init__()
        self.ended_ns: list[int] = []


_calls: ContextVar[CallLog | None] = ContextVar("backend_calls", default=None)


def open_call_log() -> CallLog:
    """A fresh log for the current request (tasks it starts share the same list)."""
    calls = CallLog()
    _calls.set(calls)
    return calls


def record_call(call: BackendCall) -> None:
    calls = _calls.get()
    if calls is not None:
        calls.append(call)
        calls.ended_ns.append(time.time_ns())
