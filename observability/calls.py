"""The backend calls made for the current request, collected without passing anything around.

The endpoint opens a log per request; the backend client's observer appends every call
(each attempt, with its status, duration and retry reason) to the log of the request it
runs for. The usage ledger counts them; traces keep them::

    calls = open_call_log()
    client = BackendClient(settings, on_call=record_call)
    ...  # resolvers call the backend
    len(calls)  # backend calls this request made
"""

from __future__ import annotations

from contextvars import ContextVar

from backend.client import BackendCall

__all__ = ["open_call_log", "record_call"]

_calls: ContextVar[list[BackendCall] | None] = ContextVar("backend_calls", default=None)


def open_call_log() -> list[BackendCall]:
    """A fresh log for the current request (tasks it starts share the same list)."""
    calls: list[BackendCall] = []
    _calls.set(calls)
    return calls


def record_call(call: BackendCall) -> None:
    calls = _calls.get()
    if calls is not None:
        calls.append(call)
