"""API key lifecycle: issue, rotate, revoke, list, and the audit trail, in one place.

The ``gateway keys`` commands and the partner's ``rotateApiKey`` mutation both go through
:class:`KeyLifecycle`, so every change is recorded with its actor and broadcast to every
gateway process (through Redis when configured; the cache TTL of at most a second
otherwise)::

    keys = KeyLifecycle.for_database(database, peppers, invalidations=broadcast)
    issued = await keys.issue(company.id, expires_in=timedelta(days=90), actor="alice")
    rotated = await keys.rotate(issued.record.id, grace=timedelta(hours=24), actor="alice")
    rotated.key                # the successor, shown once; the old key works 24 h more
    await keys.revoke(rotated.successor.id, actor="alice")

Errors are :class:`KeyNotFound` (also for another company's key when ``company_id`` is
given, so the two read the same), :class:`KeyNotRotatable`, :class:`KeyAlreadyRevoked` and
``ValueError`` for bad arguments; none carries a key.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, Self

from auth.api_keys import generate_api_key, hash_api_key, parse_api_key
from auth.issuance import IssuedKey, issue_api_key
from auth.peppers import PepperSet
from auth.scopes import DEFAULT_SCOPES
from storage.database import Database
from storage.key_events import KeyEventRepository
from storage.models import utc_now
from storage.records import ApiKeyEventRecord, ApiKeyRecord, KeyEvent, NewKeyEvent
from storage.repositories import (
    ApiKeyRepository,
    KeyMaterial,
    KeyNotFound,
    KeyNotRotatable,
)

__all__ = [
    "DEFAULT_GRACE",
    "GATEWAY_ACTOR",
    "MAX_GRACE",
    "Invalidations",
    "KeyAlreadyRevoked",
    "KeyLifecycle",
    "KeyNotFound",
    "KeyNotRotatable",
    "RotatedKey",
    "partner_actor",
]

DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)
#: The actor of what a gateway process records on its own (a new pepper version).
GATEWAY_ACTOR = "gateway"


def partner_actor(key_id: str) -> str:
    """The actor of a partner's self-service change, made with key ``key_id``."""
    return f"partner:{key_id}"


class Invalidations(Protocol):
    """Tells every gateway process that a key's cached state is stale."""

    async def invalidate_key(self, key_id: str) -> bool: ...


class KeyAlreadyRevoked(ValueError):
    def __init__(self, key: ApiKeyRecord) -> None:
        self.key = key
        super().__init__(f"API key {key.id} is already revoked.")


@dataclass(frozen=True, slots=True)
class RotatedKey:
    """The rotated key (``grace_ends_at`` set), its successor, and the successor's key."""

    rotated: ApiKeyRecord
    successor: ApiKeyRecord
    key: str = field(repr=False)


class KeyLifecycle:
    """Issue, rotate, revoke and list keys; read the audit trail."""

    def __init__(
        self,
        keys: ApiKeyRepository,
        events: KeyEventRepository,
        peppers: PepperSet | Callable[[], PepperSet],
        *,
        invalidations: Invalidations | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._keys = keys
        self._events = events
        # A loader is called on first need: listing keys never fetches the pepper secret.
        self._pepper_source = peppers
        self._invalidations = invalidations
        self._clock = clock

    @property
    def _peppers(self) -> PepperSet:
        if not isinstance(self._pepper_source, PepperSet):
            self._pepper_source = self._pepper_source()
        return self._pepper_source

    @classmethod
    def for_database(
        cls,
        database: Database,
        peppers: PepperSet | Callable[[], PepperSet],
        *,
        invalidations: Invalidations | None = None,
    ) -> Self:
        return cls(
            ApiKeyRepository(database),
            KeyEventRepository(database),
            peppers,
            invalidations=invalidations,
        )

    async def issue(
        self,
        company_id: str,
        *,
        actor: str,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        expires_in: timedelta | None = None,
    ) -> IssuedKey:
        """A new key for the company (its hash under the current pepper); shown once."""
        if expires_in is not None and expires_in <= timedelta(0):
            raise ValueError("A key's lifetime must be longer than 0.")
        return await issue_api_key(
            self._keys,
            company_id=company_id,
            pepper=self._peppers.current_pepper,
            pepper_version=self._peppers.current,
            scopes=scopes,
            expires_at=None if expires_in is None else self._clock() + expires_in,
            actor=actor,
        )

    async def rotate(
        self,
        key_id: str,
        *,
        actor: str,
        grace: timedelta = DEFAULT_GRACE,
        company_id: str | None = None,
    ) -> RotatedKey:
        """Issue a successor with the same company, scopes and expiry; the old key keeps
        working for ``grace`` (0: not at all). ``company_id`` limits it to that company's
        keys."""
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise ValueError(f"The grace period must be between 0 and {MAX_GRACE.days} days.")
        now = self._clock()
        generated = generate_api_key()
        material = KeyMaterial(
            key_id=generated.key_id,
            prefix=generated.prefix,
            key_hash=hash_api_key(generated.key, self._peppers.current_pepper),
            pepper_version=self._peppers.current,
        )
        rotation = await self._keys.rotate(
            key_id,
            material,
            grace_ends_at=now + grace,
            actor=actor,
            company_id=company_id,
            now=now,
        )
        await self._invalidate(key_id)
        return RotatedKey(rotation.rotated, rotation.successor, generated.key)

    async def revoke(
        self, key_id: str, *, actor: str, company_id: str | None = None
    ) -> ApiKeyRecord:
        """Revoke a key at once, everywhere."""
        key = await self._keys.get(key_id)
        if key is None or (company_id is not None and key.company_id != company_id):
            raise KeyNotFound(key_id)
        if key.revoked_at is not None:
            raise KeyAlreadyRevoked(key)
        now = self._clock()
        if not await self._keys.revoke(key_id, now, actor=actor):
            raise KeyAlreadyRevoked(key)  # revoked by someone else in between
        await self._invalidate(key_id)
        revoked = await self._keys.get(key_id)
        assert revoked is not None
        return revoked

    async def revoke_presented(self, raw_key: str, *, actor: str) -> ApiKeyRecord:
        """Revoke the key whose full (leaked) form is ``raw_key``.

        Raises ``Unauthenticated`` if it is malformed, :class:`KeyNotFound` if no stored
        key matches it (right id, wrong secret included): only the real key revokes.
        """
        parsed = parse_api_key(raw_key.strip())
        key = await self._keys.get(parsed.key_id)
        pepper = None if key is None else self._peppers.get(key.pepper_version)
        if key is None or pepper is None:
            raise KeyNotFound(parsed.key_id)
        if not hmac.compare_digest(hash_api_key(parsed.key, pepper), key.key_hash):
            raise KeyNotFound(parsed.key_id)
        return await self.revoke(key.id, actor=actor)

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        return await self._keys.get(key_id)

    async def list_for_company(self, company_id: str) -> list[ApiKeyRecord]:
        """The company's keys, oldest first (records carry no secret)."""
        return await self._keys.list_for_company(company_id)

    async def events(
        self, *, company_id: str | None = None, limit: int = 100
    ) -> list[ApiKeyEventRecord]:
        """The audit trail, newest first."""
        return await self._events.list(company_id=company_id, limit=limit)

    async def pepper_usage(self) -> dict[int, int]:
        """Keys that can still authenticate, by the pepper version of their hash."""
        return await self._keys.count_by_pepper_version(self._clock())

    async def note_pepper_version(self, actor: str) -> bool:
        """Record ``pepper_rotated`` the first time any process runs with a new current
        pepper version; True if this call recorded it."""
        peppers = self._peppers
        if peppers.current == 1 and peppers.versions == (1,):
            return False  # the first pepper: nothing was rotated
        versions = ", ".join(str(version) for version in peppers.versions)
        event = NewKeyEvent(
            KeyEvent.PEPPER_ROTATED,
            actor,
            detail=f"current pepper version {peppers.current}; verifying versions {versions}",
            dedupe_key=f"pepper_rotated:{peppers.current}",
        )
        return await self._events.record([event], self._clock()) == 1

    async def _invalidate(self, key_id: str) -> None:
        if self._invalidations is not None:
            await self._invalidations.invalidate_key(key_id)
