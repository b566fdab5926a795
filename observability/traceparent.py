"""W3C Trace Context: the ``traceparent`` and ``tracestate`` headers, as pure functions.

A request either continues the caller's trace (a valid ``traceparent``) or starts a new
one; either way the gateway's own span gets a fresh span ID, and the backend receives a
``traceparent`` naming that span as its parent::

    incoming = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ours = child_span(incoming) if incoming is not None else new_trace(sampled=False)
    format_traceparent(ours)  # "00-4bf92f3577b34da6a3ce929d0e0e4736-<new span id>-01"

Only what version ``00`` defines is produced. Invalid headers (wrong lengths, upper-case
hex, all-zero IDs, version ``ff``) are ignored, as the specification asks: the request
then starts a new trace. ``tracestate`` is opaque here: kept as it came when it is
printable ASCII, cut to 32 list members and 512 characters, otherwise dropped.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "FLAG_RANDOM",
    "FLAG_SAMPLED",
    "MAX_TRACESTATE_LENGTH",
    "MAX_TRACESTATE_MEMBERS",
    "TraceContext",
    "child_span",
    "clean_tracestate",
    "format_traceparent",
    "new_span_id",
    "new_trace",
    "parse_traceparent",
]

FLAG_SAMPLED: Final = 0x01
#: Trace Context level 2: the trace ID's right-most 7 bytes are random.
FLAG_RANDOM: Final = 0x02
_KNOWN_FLAGS: Final = FLAG_SAMPLED | FLAG_RANDOM
MAX_TRACESTATE_MEMBERS: Final = 32
MAX_TRACESTATE_LENGTH: Final = 512
_ZERO_TRACE: Final = "0" * 32
_ZERO_SPAN: Final = "0" * 16
_V00_LENGTH: Final = 55
# version - trace-id - parent-id - trace-flags, all lower-case hex.
_TRACEPARENT: Final = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_PRINTABLE: Final = re.compile(r"[\x20-\x7e]*")


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span's place in a trace: what a ``traceparent`` header carries, and more.

    ``span_id`` is this span's ID (the ``parent-id`` field when sent on); ``parent_id``
    is the span it continues, ``None`` for a trace's first span or a context parsed from a
    header. IDs are lower-case hex (32 and 16 characters), never all zeros.
    """

    trace_id: str
    span_id: str
    flags: int = 0
    tracestate: str | None = None
    parent_id: str | None = None

    @property
    def sampled(self) -> bool:
        """Whether the caller may have recorded the trace (the ``sampled`` flag)."""
        return bool(self.flags & FLAG_SAMPLED)


# IDs must be unique, not secret: the per-process PRNG (reseeded after fork), as for
# request IDs, instead of a getrandom system call per ID.
def new_span_id() -> str:
    """A random 8-byte span ID, never all zeros."""
    while (span_id := f"{random.getrandbits(64):016x}") == _ZERO_SPAN:  # pragma: no cover
        pass
    return span_id


def new_trace(*, sampled: bool, trace_id: str | None = None) -> TraceContext:
    """The first span of a new trace: random 16-byte trace ID and 8-byte span ID."""
    while trace_id is None or trace_id == _ZERO_TRACE:
        trace_id = f"{random.getrandbits(128):032x}"
    flags = FLAG_RANDOM | (FLAG_SAMPLED if sampled else 0)
    return TraceContext(trace_id, new_span_id(), flags)


def child_span(parent: TraceContext) -> TraceContext:
    """A new span of ``parent``'s trace: same trace ID, state and known flags, new span ID."""
    return TraceContext(
        parent.trace_id,
        new_span_id(),
        parent.flags & _KNOWN_FLAGS,
        parent.tracestate,
        parent.span_id,
    )


def parse_traceparent(value: str | None, tracestate: str | None = None) -> TraceContext | None:
    """The caller's span from its ``traceparent`` (and ``tracestate``); None if invalid.

    Version ``00`` must be exactly 55 characters. A later version is read for the fields
    version ``00`` defines, provided anything after them starts with ``-`` (the
    specification's rule for versions it does not know yet); ``ff`` is never valid.
    """
    if value is None:
        return None
    value = value.strip(" \t")
    matched = _TRACEPARENT.match(value)
    if matched is None:
        return None
    version, trace_id, span_id, flags = matched.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    if version == "00":
        if len(value) != _V00_LENGTH:
            return None
    elif len(value) > _V00_LENGTH and value[_V00_LENGTH] != "-":
        return None
    return TraceContext(trace_id, span_id, int(flags, 16), clean_tracestate(tracestate))


def format_traceparent(context: TraceContext) -> str:
    """The version ``00`` ``traceparent`` naming ``context``'s span as the parent."""
    return f"00-{context.trace_id}-{context.span_id}-{context.flags:02x}"


def clean_tracestate(value: str | None) -> str | None:
    """``tracestate`` kept opaque but bounded: printable ASCII only, at most 32 members and
    512 characters (members are dropped from the end, whole); None when nothing is left."""
    if value is None or not _PRINTABLE.fullmatch(value):
        return None
    members = [member.strip(" \t") for member in value.split(",")]
    members = [member for member in members if member][:MAX_TRACESTATE_MEMBERS]
    while members and len(",".join(members)) > MAX_TRACESTATE_LENGTH:
        members.pop()
    return ",".join(members) or None
