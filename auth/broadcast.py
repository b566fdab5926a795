"""Redis pub/sub between gateway processes: one subscription per process, many channels.

Key revocations and rotations must reach every process's authenticator cache at once,
and a client blocked for failed authentications must be blocked everywhere. Any process
(or the ``gateway`` CLI) publishes; every gateway process runs :meth:`Broadcast.run`::

    broadcast = Broadcast(redis_client(url), prefix="gateway")
    broadcast.on(INVALIDATE_KEY, authenticator.invalidate)
    broadcast.on_resubscribe(authenticator.invalidate)  # messages may have been missed
    task = broadcast.start()
    await broadcast.publish(INVALIDATE_KEY, "AbCdEf012345")

Pub/sub delivers at most once: a message sent while a process is reconnecting is lost.
That is why the cache TTL stays at most one second whatever the transport, and why a
re-subscription clears what handlers registered with :meth:`on_resubscribe` hold.
Messages are public identifiers (key ids, client addresses), never secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = [
    "BLOCK_CLIENT",
    "INVALIDATE_KEY",
    "Broadcast",
    "redis_client",
]

#: Message: a key id whose cached state is stale (revoked, rotated).
INVALIDATE_KEY = "api-keys:invalidate"
#: Message: ``<unix time until> <client address>``, blocked for failed authentications.
BLOCK_CLIENT = "auth-failures:block"

_log = structlog.get_logger(__name__)


def redis_client(url: str, *, command_timeout: float | None = 1.0) -> Redis:
    """A client for ``url``. Commands time out (a sick Redis must not hang a request);
    pass ``command_timeout=None`` for a subscriber, which waits for messages forever."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=command_timeout,
        health_check_interval=15,
    )


class Broadcast:
    """Publish to and subscribe to the gateway's channels under one prefix."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        subscriber: Redis | None = None,
        retry_delay: float = 0.2,
        max_retry_delay: float = 5.0,
    ) -> None:
        self._redis = redis
        self._subscriber = subscriber or redis
        self._prefix = prefix
        self._handlers: dict[str, Callable[[str], object]] = {}
        self._on_resubscribe: list[Callable[[], object]] = []
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()  # set once every channel is subscribed

    def channel(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def on(self, name: str, handler: Callable[[str], object]) -> None:
        """Call ``handler(message)`` for every message on channel ``name`` (before start)."""
        self._handlers[self.channel(name)] = handler

    def on_resubscribe(self, handler: Callable[[], object]) -> None:
        """Call ``handler()`` after a lost subscription is back (messages may be lost)."""
        self._on_resubscribe.append(handler)

    async def publish(self, name: str, message: str) -> bool:
        """Send ``message``; False if Redis could not take it (the caller says so)."""
        try:
            await self._redis.publish(self.channel(name), message)
        except (RedisError, OSError):
            return False
        return True

    def start(self) -> asyncio.Task[None]:
        """Run the subscription in the background until :meth:`stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="redis-broadcast")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Subscribe and dispatch forever, re-subscribing after any failure."""
        if not self._handlers:
            return
        delay = self._retry_delay
        subscribed_before = False
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await pubsub.subscribe(*self._handlers)
                confirmed = 0
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # Also after redis-py reconnects by itself: anything may be missed.
                        confirmed += 1
                        if confirmed % len(self._handlers) == 0:
                            self._subscribed(again=subscribed_before)
                            subscribed_before = True
                            delay = self._retry_delay
                    elif message["type"] == "message":
                        self._dispatch(message)
            except (RedisError, OSError) as error:
                self.ready.clear()
                _log.warning(
                    "broadcast.subscription_lost", error=type(error).__name__, retry_in=delay
                )
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_delay)

    def _subscribed(self, *, again: bool) -> None:
        if again:
            for handler in self._on_resubscribe:
                handler()
        self.ready.set()
        _log.info("broadcast.subscribed", channels=sorted(self._handlers), resubscribed=again)

    def _dispatch(self, message: dict[str, Any]) -> None:
        handler = self._handlers.get(message["channel"])
        if handler is None:
            return
        try:
            handler(message["data"])
        except Exception:  # one bad message must not end the subscription
            _log.exception("broadcast.handler_failed", channel=message["channel"])
