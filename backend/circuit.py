"""A circuit breaker: stop calling a backend that keeps failing, and find out when it is back.

Retries help with a blip; against a backend that is down they multiply the load on it
and make every partner wait for timeouts. The breaker counts consecutive failed attempts
(connection errors, timeouts, 502/503/504, 429, a 2xx that is not JSON, an attempt the
request's deadline cancelled) and, at ``failure_threshold``, *opens*: calls fail at once
with ``BackendUnavailable`` (and a ``retry_after``) without touching the network. After
``reset_timeout`` seconds it lets one probe through (*half-open*): a success closes it, a
failure opens it again::

    breaker = CircuitBreaker(failure_threshold=5, reset_timeout=5.0)
    probe = breaker.before_attempt("GET /api/v1/badges/")  # raises while open
    ...one HTTP attempt...
    breaker.record(succeeded=True, probe=probe)            # or succeeded=False

Any answer that shows the backend is alive (2xx, and 4xx such as 404 or 400) is a
success, and so is a plain 500: it is a bug one input triggers, and one partner's
input must not open the circuit for every partner. The state is per process: each
gateway worker learns the backend's health from its own calls, which needs no
coordination and fails no faster than one worker's own evidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from errors import BackendUnavailable

__all__ = ["CircuitBreaker", "CircuitState"]

logger = logging.getLogger(__name__)

CircuitState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Closed, open or half-open; see the module docstring. Not thread-safe (one loop)."""

    __slots__ = (
        "_clock",
        "_failures",
        "_opened_at",
        "_probing",
        "failure_threshold",
        "reset_timeout",
    )

    def __init__(
        self,
        *,
        failure_threshold: int,
        reset_timeout: float,
        clock: Callable[[], float] = time.monotonic,  # never the wall clock: it can step
    ) -> None:
        if failure_threshold < 1 or reset_timeout <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout > 0")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None  # None while closed
        self._probing = False  # half-open: the one probe is in flight

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self.reset_timeout:
            return "half_open"
        return "open"

    def before_attempt(self, where: str) -> bool:
        """Allow an attempt (``True`` when it is the one probe of a half-open circuit), or
        raise ``BackendUnavailable`` without calling the backend."""
        opened_at = self._opened_at
        if opened_at is None:
            return False
        waited = self._clock() - opened_at
        if waited >= self.reset_timeout and not self._probing:
            self._probing = True  # this attempt is the probe; others still fail fast
            return True
        retry_after = max(self.reset_timeout - waited, 0.0) or self.reset_timeout
        raise BackendUnavailable(
            f"{where}: circuit open after {self._failures} consecutive failures",
            retry_after=retry_after,
        )

    def record(self, *, succeeded: bool, probe: bool = False) -> None:
        """The outcome of an attempt :meth:`before_attempt` allowed, and whether it was
        the probe. An attempt cancelled by the request's deadline is a failure: it waited
        on the backend until the partner could wait no longer."""
        if succeeded:  # any answer proves the backend alive, a late one included
            if self._opened_at is not None:
                logger.info("backend circuit closed: the backend answered")
            self._failures = 0
            self._opened_at = None
            self._probing = False
            return
        if probe:  # the probe failed: wait a whole reset_timeout again
            self._opened_at = self._clock()
            self._probing = False
            return
        if self._opened_at is not None:
            return  # already open: a failure of an attempt started before tells nothing
        self._failures += 1
        if self._failures >= self.failure_threshold:
            logger.warning(
                "backend circuit opened after %d consecutive failures; probing in %.1fs",
                self._failures,
                self.reset_timeout,
            )
            self._opened_at = self._clock()
