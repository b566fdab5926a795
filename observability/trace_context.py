"""The current request's trace context, for the backend client's outgoing headers.

The endpoint binds the gateway's span for the request once; the backend client reads it
for every call without it being passed around (like the request ID)::

    token = bind_trace(trace)            # in the endpoint, per request
    trace_headers()                      # in the backend client, per call:
    # (("traceparent", "00-<trace id>-<gateway span id>-01"), ("tracestate", "..."))
    token.var.reset(token)
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from observability.traceparent import TraceContext, format_traceparent

__all__ = ["bind_trace", "current_trace", "trace_headers"]

_trace: ContextVar[TraceContext | None] = ContextVar("trace_context", default=None)


def bind_trace(trace: TraceContext) -> Token[TraceContext | None]:
    """Make ``trace`` (the gateway's span for this request) current; reset with the token."""
    return _trace.set(trace)


def current_trace() -> TraceContext | None:
    """The gateway's span for the current request, or None outside a request."""
    return _trace.get()


def trace_headers() -> tuple[tuple[str, str], ...]:
    """``traceparent`` (and ``tracestate`` when there is one) for a call made now: the
    callee's span becomes a child of the gateway's. Empty outside a request."""
    trace = _trace.get()
    if trace is None:
        return ()
    traceparent = ("traceparent", format_traceparent(trace))
    if trace.tracestate is None:
        return (traceparent,)
    return (traceparent, ("tracestate", trace.tracestate))
