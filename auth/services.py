"""Everything authentication needs in a gateway process, built once from the settings.

``main.create_app`` builds one :class:`AuthServices` and starts it in the lifespan::

    auth = AuthServices.from_settings(database, settings)
    endpoint = GraphQLEndpoint(authenticator=auth.authenticator, failed_auth=auth.limiter,
                               keys=auth.keys, ...)
    await auth.start()   # Redis subscription (if configured), pepper version event
    ...
    await auth.close()   # stop listening, flush pending writes, close Redis

With ``GATEWAY_REDIS_URL`` set, a revocation or rotation anywhere reaches this process's
authenticator cache at once, and so does a client blocked for failed authentications;
without it the process stands alone and its cache TTL (at most one second) bounds how
long a revoked key can still pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis

from auth.authenticator import Authenticator
from auth.broadcast import BLOCK_CLIENT, INVALIDATE_KEY, Broadcast, redis_client
from auth.failed_auth import FailedAuthLimiter
from auth.lifecycle import GATEWAY_ACTOR, KeyLifecycle
from auth.peppers import PepperSet, load_peppers
from settings import Settings
from storage.database import Database

__all__ = ["AuthServices", "ProcessInvalidations"]

_log = structlog.get_logger(__name__)
_KEY_ID = re.compile(r"[0-9A-Za-z]{12}")


class ProcessInvalidations:
    """Drop a key from this process's cache now, and tell the other processes (Redis)."""

    def __init__(self, authenticator: Authenticator | None, broadcast: Broadcast | None) -> None:
        self._authenticator = authenticator
        self._broadcast = broadcast

    async def invalidate_key(self, key_id: str) -> bool:
        if self._authenticator is not None:
            self._authenticator.invalidate(key_id)
        if self._broadcast is None:
            return True
        published = await self._broadcast.publish(INVALIDATE_KEY, key_id)
        if not published:
            _log.warning("api_key.invalidation_not_broadcast", key_id=key_id)
        return published


@dataclass
class AuthServices:
    peppers: PepperSet
    authenticator: Authenticator
    limiter: FailedAuthLimiter
    keys: KeyLifecycle
    broadcast: Broadcast | None
    redis: tuple[Redis, ...]

    @classmethod
    def from_settings(
        cls, database: Database, settings: Settings, peppers: PepperSet | None = None
    ) -> AuthServices:
        peppers = peppers or load_peppers(settings)  # AWS is asked here, once per process
        authenticator = Authenticator.from_settings(database, settings, peppers)
        broadcast: Broadcast | None = None
        clients: tuple[Redis, ...] = ()
        if settings.redis_url is not None:
            url = settings.redis_url.get_secret_value()
            commands, subscriber = redis_client(url), redis_client(url, command_timeout=None)
            clients = (commands, subscriber)
            broadcast = Broadcast(commands, settings.redis_prefix, subscriber=subscriber)

        async def publish_block(message: str) -> None:
            if broadcast is not None:
                await broadcast.publish(BLOCK_CLIENT, message)

        limiter = FailedAuthLimiter(
            limit=settings.auth_failure_limit,
            window=settings.auth_failure_window,
            redis=clients[0] if clients else None,
            prefix=settings.redis_prefix,
            publish_block=publish_block if broadcast is not None else None,
        )
        keys = KeyLifecycle.for_database(
            database, peppers, invalidations=ProcessInvalidations(authenticator, broadcast)
        )
        if broadcast is not None:
            broadcast.on(INVALIDATE_KEY, lambda key_id: _invalidated(authenticator, key_id))
            broadcast.on_resubscribe(authenticator.invalidate)
            broadcast.on(BLOCK_CLIENT, limiter.on_block_message)
        return cls(peppers, authenticator, limiter, keys, broadcast, clients)

    async def start(self) -> None:
        if self.broadcast is not None:
            self.broadcast.start()
        try:
            await self.keys.note_pepper_version(GATEWAY_ACTOR)
        except Exception:  # the audit entry must not keep the gateway from serving
            _log.exception("api_key.pepper_event_failed")

    async def close(self) -> None:
        if self.broadcast is not None:
            await self.broadcast.stop()
        try:
            await self.authenticator.flush()
        except Exception:  # shutdown goes on; at worst some last-used times are lost
            _log.exception("api_key.final_flush_failed")
        for client in self.redis:
            await client.aclose()


def _invalidated(authenticator: Authenticator, key_id: str) -> None:
    if _KEY_ID.fullmatch(key_id):
        authenticator.invalidate(key_id)
        _log.info("api_key.invalidated", key_id=key_id)
