"""The backend client's retry policy, as pure functions (no I/O, no clock, no global state).

Which failures are retried, for which requests, how long to wait in between::

    reason = reason_for_status(503)                      # "http_503"
    should_retry("GET", reason, retries_done=0, max_retries=2)                 # True
    should_retry("POST", reason, retries_done=0, max_retries=2)                # False
    should_retry("POST", reason, retries_done=0, max_retries=2, idempotent=True)  # True
    backoff_delay(1, base=0.05, cap=5.0)                 # uniform in [0, 0.1]
    parse_retry_after("3")                               # 3.0

Policy (see ``docs`` of :class:`backend.client.BackendClient`):

* retried: connection errors (refused, reset, dropped), connect timeouts, 502/503/504, 429;
* never retried: read timeouts (the caller's deadline would be blown), 500 and every
  other status, anything on a POST without an ``Idempotency-Key``;
* waits: exponential backoff with full jitter, ``uniform(0, min(cap, base * 2**n))``;
  a 429's ``Retry-After`` replaces the backoff, and one beyond the cap means "give up now".
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = [
    "CONNECTION_ERROR",
    "CONNECT_TIMEOUT",
    "INVALID_JSON",
    "READ_TIMEOUT",
    "RETRYABLE_REASONS",
    "RETRY_STATUSES",
    "UNAUTHORIZED",
    "backoff_delay",
    "is_retryable_method",
    "parse_retry_after",
    "reason_for_status",
    "should_retry",
]

#: Retry reasons: what went wrong with an attempt, as reported to ``BackendCall.retry_reason``.
CONNECTION_ERROR: Final = "connection_error"
CONNECT_TIMEOUT: Final = "connect_timeout"
READ_TIMEOUT: Final = "read_timeout"
UNAUTHORIZED: Final = "unauthorized"
#: A 2xx whose body is not JSON. A GET is not repeated (the answer would likely be the
#: same broken one), but a keyed POST is: the write may have happened, and the backend
#: replays the stored response for the same Idempotency-Key.
INVALID_JSON: Final = "invalid_json"

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})

_STATUS_REASONS: Final = {status: f"http_{status}" for status in RETRY_STATUSES}

#: The reasons worth another attempt. ``READ_TIMEOUT`` is deliberately absent, and so is
#: ``UNAUTHORIZED``: a 401 gets its own single re-authenticated retry, outside this budget.
RETRYABLE_REASONS: Final = frozenset({CONNECTION_ERROR, CONNECT_TIMEOUT, *_STATUS_REASONS.values()})

_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

#: The exponent is clamped so ``2**n`` never overflows a float, whatever ``retries_done`` is.
_MAX_EXPONENT: Final = 62


def reason_for_status(status: int) -> str | None:
    """The retry reason for a retryable status (``"http_503"``), ``None`` for any other."""
    return _STATUS_REASONS.get(status)


def is_retryable_method(method: str, *, idempotent: bool = False) -> bool:
    """GETs are always safe to repeat; anything else only with an ``Idempotency-Key``."""
    return idempotent or method in _SAFE_METHODS


def should_retry(
    method: str,
    reason: str | None,
    *,
    retries_done: int,
    max_retries: int,
    idempotent: bool = False,
) -> bool:
    """Whether a failed attempt is worth another one.

    ``retries_done`` counts the retries already made (0 after the first attempt); at most
    ``max_retries`` are made. ``idempotent`` is true when the request carries an
    ``Idempotency-Key`` (the backend then answers a repeat with the first response).
    """
    if reason == INVALID_JSON:
        return idempotent and method not in _SAFE_METHODS and retries_done < max_retries
    return (
        reason is not None
        and reason in RETRYABLE_REASONS
        and retries_done < max_retries
        and is_retryable_method(method, idempotent=idempotent)
    )


def backoff_delay(
    retries_done: int,
    *,
    base: float,
    cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``retries_done + 1``: full jitter.

    ``uniform(0, min(cap, base * 2**retries_done))`` (AWS's "full jitter"): concurrent
    clients that failed together spread their retries instead of stampeding together.
    ``rand`` returns a float in ``[0, 1)``; inject a fixed one to make the delay exact.
    """
    if base <= 0 or cap <= 0:
        return 0.0
    exponent = min(max(retries_done, 0), _MAX_EXPONENT)
    ceiling = min(cap, base * 2.0**exponent)
    return ceiling * min(max(rand(), 0.0), 1.0)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header; ``None`` when absent or unreadable.

    Both forms of RFC 9110 are read: delay-seconds (``"3"``; DRF sends these) and an
    HTTP-date (``"Wed, 21 Oct 2015 07:28:00 GMT"``, relative to ``now``, a Unix time,
    required for that form). A date in the past gives ``0.0``; so does ``"0"``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(int(text)) if len(text) <= 15 else math.inf
    try:
        seconds = float(text)  # lenient: "1.5" is not RFC 9110 but harmless to honour
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and not math.isnan(seconds) else None
    if now is None:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" parses as naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
