"""The request ID that ties a partner's response to logs, the backend call and traces.

The GraphQL endpoint sets it once per request; anything below (the backend client,
log lines) reads it without it being passed around::

    token = bind_request_id(request_id_from_header(headers.get("x-request-id")))
    current_request_id()  # the same ID, in any coroutine of this request
"""

from __future__ import annotations

import random
import re
import time
from contextvars import ContextVar, Token

__all__ = [
    "bind_request_id",
    "crockford_base32",
    "current_request_id",
    "new_request_id",
    "request_id_from_header",
]

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two base32 digits per 10 bits: 13 lookups encode the 130 bits of 26 digits (the
# standard library's base32 is pure Python in 3.11, ~4x slower).
_DIGIT_PAIRS = [high + low for high in _CROCKFORD for low in _CROCKFORD]
_PAIR_SHIFTS = tuple(range(120, -1, -10))


def new_request_id() -> str:
    """A time-ordered 26-character ID (ULID layout: 48-bit milliseconds, 80 random bits)."""
    # IDs must be unique, not secret: the PRNG (seeded per process, reseeded after fork)
    # instead of os.urandom, whose system call showed as 6% of a request's CPU here.
    value = (time.time_ns() // 1_000_000) << 80 | random.getrandbits(80)
    return crockford_base32(value)


def crockford_base32(value: int) -> str:
    """The 26 Crockford base32 digits of a value below 2**130, most significant first."""
    pairs = _DIGIT_PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


def request_id_from_header(value: str | None) -> str:
    """Keep a client's ID when it is a safe token, otherwise make a new one."""
    if value is not None and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def bind_request_id(request_id: str) -> Token[str]:
    return _request_id.set(request_id)


def current_request_id() -> str:
    return _request_id.get()
