"""What the ``gateway keys`` commands share: the lifecycle service, actors, peppers.

::

    async with open_key_lifecycle(settings) as (database, keys):
        rotated = await keys.rotate(key_id, actor=actor or default_actor())
    warn_if_not_broadcast(keys)  # revocations reach gateways without Redis within 1 s anyway
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import typer

from auth.broadcast import INVALIDATE_KEY, Broadcast, redis_client
from auth.lifecycle import KeyLifecycle
from auth.peppers import PepperError, PepperSet, load_peppers
from cli.common import fail, open_database
from settings import Settings
from storage.database import Database

__all__ = [
    "ActorOption",
    "CliInvalidations",
    "default_actor",
    "open_key_lifecycle",
    "pepper_loader",
]

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who does this, for the audit trail. Default: $USER.", show_default=False
    ),
]


def default_actor(actor: str | None = None) -> str:
    """``--actor``, else the login name ($USER and friends), else ``unknown``."""
    if actor and actor.strip():
        return actor.strip()[:200]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no $USER and no passwd entry (slim containers)
        return "unknown"


def pepper_loader(settings: Settings) -> Callable[[], PepperSet]:
    """Load the peppers when first needed (AWS only then), or exit 2 saying why."""

    def load() -> PepperSet:
        try:
            return load_peppers(settings)
        except PepperError as error:
            fail(f"Cannot load the key pepper: {error}", 2)

    return load


class CliInvalidations:
    """Tells the gateways (through Redis, if configured) that a key changed."""

    def __init__(self, broadcast: Broadcast | None) -> None:
        self._broadcast = broadcast
        self.failed = False

    async def invalidate_key(self, key_id: str) -> bool:
        if self._broadcast is None:
            return True
        if not await self._broadcast.publish(INVALIDATE_KEY, key_id):
            self.failed = True
            typer.echo(
                "Warning: could not reach Redis to tell the gateways at once; they will "
                "see the change within GATEWAY_KEY_CACHE_TTL (at most 1 s).",
                err=True,
            )
        return not self.failed


@asynccontextmanager
async def open_key_lifecycle(settings: Settings) -> AsyncIterator[tuple[Database, KeyLifecycle]]:
    """The database (schema in place) and a :class:`KeyLifecycle` that broadcasts."""
    async with open_database(settings) as database:
        redis = None
        if settings.redis_url is not None:
            redis = redis_client(settings.redis_url.get_secret_value())
        broadcast = None if redis is None else Broadcast(redis, settings.redis_prefix)
        try:
            yield (
                database,
                KeyLifecycle.for_database(
                    database, pepper_loader(settings), invalidations=CliInvalidations(broadcast)
                ),
            )
        finally:
            if redis is not None:
                await redis.aclose()
