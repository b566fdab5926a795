"""Limit failed authentications per client address, so keys cannot be guessed online.

Every refused key counts against its client address in fixed windows (default 20 a
minute); from the limit on, the address gets HTTP 429 with ``Retry-After`` until the
window ends, and its keys are not even checked (a blocked guesser learns nothing)::

    limiter = FailedAuthLimiter(limit=20, window=60.0)
    if (wait := limiter.retry_after(client)) is not None:      # before authenticating
        raise TooManyFailedAuthentications(wait)
    ...
    wait = await limiter.record_failure(client)                 # after a refused key

Successful requests pay one check of an (almost always empty) dict. Failures are
counted in process, or with Redis in one shared counter per address and window; the
process that sees an address reach the limit broadcasts the block, so every process
refuses it without asking Redis on each request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["FailedAuthLimiter", "client_address"]

_log = structlog.get_logger(__name__)
_MAX_ADDRESS = 100


def client_address(scope: dict[str, Any] | Any) -> str:
    """The ASGI scope's client host: the socket peer (uvicorn's proxy headers are off;
    a proven router's X-Forwarded-For is auth.router_trust's business)."""
    client = scope.get("client")
    return str(client[0])[:_MAX_ADDRESS] if client else "unknown"


class FailedAuthLimiter:
    """Counts refused keys per client address; blocks an address at ``limit`` per window."""

    def __init__(
        self,
        *,
        limit: int = 20,
        window: float = 60.0,
        redis: Redis | None = None,
        prefix: str = "gateway",
        publish_block: Callable[[str], Awaitable[object]] | None = None,
        clock: Callable[[], float] = time.time,
        max_clients: int = 100_000,
    ) -> None:
        self._limit = limit
        self._window = window
        self._redis = redis
        self._prefix = prefix
        self._publish_block = publish_block
        self._clock = clock
        self._max_clients = max_clients
        self._blocked: dict[str, float] = {}  # address -> wall-clock end of its block
        self._counts: dict[str, int] = {}  # in-process counts of the current window
        self._counts_window = -1.0
        self._redis_warned_window = -1.0

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again, or None if it is not blocked. Hot path."""
        if not self._blocked:
            return None
        until = self._blocked.get(client)
        if until is None:
            return None
        remaining = until - self._clock()
        if remaining > 0:
            return remaining
        del self._blocked[client]
        return None

    async def record_failure(self, client: str) -> float | None:
        """Count one refused key; the seconds to wait if this attempt was over the limit."""
        now = self._clock()
        start = now - now % self._window
        end = start + self._window
        count = await self._count(client, start)
        if count < self._limit:
            return None
        self.block(client, end)
        if count == self._limit and self._publish_block is not None:
            await self._publish_block(f"{end:.3f} {client}")
        # The attempt that reaches the limit is still answered as the refusal it was.
        return end - now if count > self._limit else None

    def block(self, client: str, until: float) -> None:
        """Refuse ``client`` until ``until`` (wall clock), e.g. on another process's word."""
        if until <= self._clock():
            return
        if client not in self._blocked and len(self._blocked) >= self._max_clients:
            now = self._clock()
            self._blocked = {c: u for c, u in self._blocked.items() if u > now}
            if len(self._blocked) >= self._max_clients:
                self._blocked.pop(next(iter(self._blocked)))
        self._blocked[client] = max(until, self._blocked.get(client, 0.0))

    def on_block_message(self, message: str) -> None:
        """Apply a block broadcast by another process (``"<until> <address>"``)."""
        until, _, client = message.partition(" ")
        try:
            moment = float(until)
        except ValueError:
            return
        if client:
            self.block(client[:_MAX_ADDRESS], moment)

    async def _count(self, client: str, start: float) -> int:
        if self._redis is not None:
            key = f"{self._prefix}:auth-failures:{int(start)}:{client}"
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, math.ceil(self._window) + 1)
                    count, _ = await pipe.execute()
                return int(count)
            except (RedisError, OSError) as error:
                if self._redis_warned_window != start:  # once a window, not once a guess
                    self._redis_warned_window = start
                    _log.warning("failed_auth.redis_unavailable", error=type(error).__name__)
        return self._count_locally(client, start)

    def _count_locally(self, client: str, start: float) -> int:
        if start != self._counts_window:
            self._counts_window = start
            self._counts = {}
        count = self._counts.get(client, 0) + 1
        if count == 1 and len(self._counts) >= self._max_clients:
            self._counts.pop(next(iter(self._counts)))  # the oldest address of the window
        self._counts[client] = count
        return count
