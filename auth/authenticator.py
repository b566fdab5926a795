"""Turn a presented API key into a :class:`~auth.principal.Principal`, or refuse it.

One ``Authenticator`` per process, shared by all requests::

    authenticator = Authenticator(ApiKeyRepository(database), peppers, cache_ttl=1.0)
    raw_key = extract_api_key(scope["headers"])
    principal = await authenticator.authenticate(raw_key or "")

Malformed keys are refused before any I/O. Well-formed ones are looked up by key id
through a small in-process cache (bounded in size, entries live ``cache_ttl`` seconds and
are dropped at once by :meth:`Authenticator.invalidate`, which Redis pub/sub calls in every
process); the cache holds the stored hash and the principal, never a raw key. Revocation,
expiry and the end of a rotation's grace period are checked against the wall clock on
every request, cached or not. A warm hit is a regex, a CRC32, one HMAC and one comparison
of times: a few microseconds.

Nothing is written per request. Work for storage piles up and :meth:`Authenticator.flush`
writes it in batches: last-used times, hashes moved to the current pepper (a key verified
under an older pepper version is re-hashed while its raw form is at hand), and
``refused_after_rotation`` events (at most one per key per hour).
"""

from __future__ import annotations

import asyncio
import hmac
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import blake2b
from typing import Protocol, Self

import structlog

from auth.api_keys import hash_api_key, hash_api_key_bytes, parse_api_key
from auth.peppers import PepperSet, load_peppers
from auth.principal import Principal
from errors import Unauthenticated
from settings import Settings
from storage.database import Database
from storage.key_events import KeyEventRepository
from storage.records import KeyEvent, KeyWithCompany, NewKeyEvent
from storage.repositories import ApiKeyRepository, Rehash

__all__ = [
    "EXPIRED",
    "INACTIVE_COMPANY",
    "INVALID",
    "MISSING",
    "REVOKED",
    "ROTATED",
    "Authenticator",
    "EventSink",
    "Flushed",
    "KeyStore",
    "extract_api_key",
]

MISSING = "A valid API key is required: send it as 'Authorization: Bearer <key>'."
INVALID = "Invalid API key."
REVOKED = "This API key has been revoked."
EXPIRED = "This API key has expired."
ROTATED = "This API key was rotated; use its successor."
INACTIVE_COMPANY = "This API key's company is not active."

# One refused-after-rotation event per key per hour is enough to see who still uses it.
REFUSAL_REPORT_SECONDS = 3600.0

_log = structlog.get_logger(__name__)


class KeyStore(Protocol):
    """What the authenticator needs from storage (:class:`storage.ApiKeyRepository`)."""

    async def get_with_company(self, key_id: str) -> KeyWithCompany | None: ...

    async def touch_last_used(self, key_ids: Iterable[str], at: datetime | None = None) -> int: ...

    async def rehash(self, rehashes: Iterable[Rehash]) -> int: ...


class EventSink(Protocol):
    """Where refusals after rotation are recorded (:class:`storage.KeyEventRepository`)."""

    async def record(self, events: Sequence[NewKeyEvent], at: datetime | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class Flushed:
    """What one :meth:`Authenticator.flush` wrote."""

    last_used: int = 0
    rehashed: int = 0
    events: int = 0


@dataclass(frozen=True, slots=True)
class _Entry:
    """What is known about one key id at ``loaded_at`` (a ``clock()`` reading)."""

    loaded_at: float
    key_hash: bytes | None  # None: no usable key with this id
    pepper: bytes  # the pepper its hash was made with
    pepper_version: int
    stale_pepper: bool  # hashed under an older pepper version: re-hash once verified
    principal: Principal | None
    refusal: str | None  # a refusal that does not depend on time (inactive company)
    ends_at: float | None  # wall-clock seconds: the earliest of the three below
    revoked_at: float | None
    expires_at: float | None
    grace_ends_at: float | None


def _timestamp(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


class Authenticator:
    """Authenticates API keys against storage, with a short-lived bounded cache."""

    def __init__(
        self,
        keys: KeyStore,
        peppers: PepperSet | bytes,
        *,
        events: EventSink | None = None,
        cache_ttl: float = 1.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._peppers = peppers if isinstance(peppers, PepperSet) else PepperSet.single(peppers)
        self._events = events
        self._ttl = cache_ttl
        self._size = cache_size
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._loading: dict[str, asyncio.Future[_Entry]] = {}
        self._generation = 0  # bumped by invalidate(): a load that straddles one is not cached
        self._tag_key = os.urandom(32)  # per process, never stored
        self._verified: dict[str, bytes] = {}  # key id -> keyed BLAKE2b of its verified key
        self._used: set[str] = set()
        self._rehashes: dict[str, Rehash] = {}
        self._refusals: dict[str, NewKeyEvent] = {}
        self._reported: dict[str, float] = {}  # key id -> clock() of its last refusal event

    @classmethod
    def from_settings(
        cls, database: Database, settings: Settings, peppers: PepperSet | None = None
    ) -> Self:
        """The gateway's authenticator: its repositories, peppers and cache TTL."""
        return cls(
            ApiKeyRepository(database),
            peppers or load_peppers(settings),
            events=KeyEventRepository(database),
            cache_ttl=settings.key_cache_ttl,
        )

    @property
    def peppers(self) -> PepperSet:
        return self._peppers

    async def authenticate(self, raw_key: str) -> Principal:
        """The principal behind ``raw_key``; raises ``Unauthenticated`` with a public message."""
        if not raw_key:
            raise Unauthenticated(MISSING)
        parsed = parse_api_key(raw_key)
        key_id = parsed.key_id
        entry = self._cache.get(key_id)
        if entry is None or self._clock() - entry.loaded_at >= self._ttl:
            entry = await self._load(key_id)
        else:
            self._cache.move_to_end(key_id)
        # A key verified once (HMAC under the pepper) is recognised afterwards by a keyed
        # BLAKE2b tag: as secret as the HMAC, a fraction of its cost on the hot path.
        # Only keys that matched their HMAC get a tag, so the map is bounded by real keys.
        if entry.key_hash is None:
            raise Unauthenticated(INVALID)
        tag = blake2b(parsed.key.encode(), key=self._tag_key, digest_size=16).digest()
        if not hmac.compare_digest(tag, self._verified.get(key_id, b"")):
            if not hmac.compare_digest(
                hash_api_key_bytes(parsed.key, entry.pepper), entry.key_hash
            ):
                raise Unauthenticated(INVALID)
            self._verified[key_id] = tag
        # Only a caller who holds the secret learns why a real key is refused.
        if entry.ends_at is not None and entry.ends_at <= self._wall_clock():
            raise Unauthenticated(self._ended(entry))
        if entry.refusal is not None or entry.principal is None:
            raise Unauthenticated(entry.refusal or INVALID)
        if entry.stale_pepper and key_id not in self._rehashes:
            self._schedule_rehash(key_id, parsed.key, entry)
        self._used.add(key_id)
        return entry.principal

    def invalidate(self, key_id: str | None = None) -> None:
        """Forget one key id, or everything; the next request reads storage again."""
        self._generation += 1
        if key_id is None:
            self._cache.clear()
            self._loading.clear()
            self._verified.clear()
        else:
            self._cache.pop(key_id, None)
            self._verified.pop(key_id, None)
            self._loading.pop(key_id, None)  # later callers must not join an older query

    def used_key_ids(self) -> set[str]:
        """Key ids that authenticated since the last call (for batched ``last_used_at``)."""
        used, self._used = self._used, set()
        return used

    async def flush_last_used(self) -> int:
        """Write ``last_used_at`` for the keys used since the last flush; returns rows updated."""
        return await self._keys.touch_last_used(self.used_key_ids())

    async def flush(self) -> Flushed:
        """Write everything pending: last-used times, re-hashes, refusal events."""
        last_used = await self.flush_last_used()
        rehashes, self._rehashes = self._rehashes, {}
        rehashed = await self._keys.rehash(rehashes.values()) if rehashes else 0
        refusals, self._refusals = self._refusals, {}
        events = 0
        if refusals and self._events is not None:
            events = await self._events.record(list(refusals.values()))
        return Flushed(last_used, rehashed, events)

    def _ended(self, entry: _Entry) -> str:
        now = self._wall_clock()
        if entry.revoked_at is not None and entry.revoked_at <= now:
            return REVOKED
        if entry.expires_at is not None and entry.expires_at <= now:
            return EXPIRED
        self._note_refusal_after_rotation(entry, now)
        return ROTATED

    def _note_refusal_after_rotation(self, entry: _Entry, now: float) -> None:
        principal = entry.principal
        if principal is None:
            return
        key_id = principal.key_id
        last = self._reported.get(key_id)
        tick = self._clock()
        if last is not None and tick - last < REFUSAL_REPORT_SECONDS:
            return
        self._reported[key_id] = tick
        if len(self._reported) > self._size:
            self._reported.pop(next(iter(self._reported)))
        # The hour in the dedupe key makes every process record the same event only once.
        self._refusals[key_id] = NewKeyEvent(
            KeyEvent.REFUSED_AFTER_ROTATION,
            actor=f"partner:{key_id}",
            company_id=principal.company_id,
            key_id=key_id,
            detail="presented after its rotation's grace period ended",
            dedupe_key=f"refused_after_rotation:{key_id}:{int(now // 3600)}",
        )

    def _schedule_rehash(self, key_id: str, key: str, entry: _Entry) -> None:
        peppers = self._peppers
        self._rehashes[key_id] = Rehash(
            key_id=key_id,
            from_version=entry.pepper_version,
            to_version=peppers.current,
            key_hash=hash_api_key(key, peppers.current_pepper),
        )

    async def _load(self, key_id: str) -> _Entry:
        # Concurrent misses for one key share a single query.
        future = self._loading.get(key_id)
        if future is None:
            future = asyncio.ensure_future(self._fetch(key_id))
            self._loading[key_id] = future
            future.add_done_callback(lambda done: self._loaded(key_id, done))
        # Shielded: a caller that gives up does not cancel the query for the others.
        return await asyncio.shield(future)

    def _loaded(self, key_id: str, future: asyncio.Future[_Entry]) -> None:
        if self._loading.get(key_id) is future:
            del self._loading[key_id]
        if not future.cancelled():
            future.exception()  # retrieved here, so an error nobody awaited is not logged twice

    async def _fetch(self, key_id: str) -> _Entry:
        # Stamped before the query: a revocation committed meanwhile is not cached for long.
        loaded_at = self._clock()
        generation = self._generation
        found = await self._keys.get_with_company(key_id)
        entry = self._entry(loaded_at, found)
        if self._ttl > 0 and generation == self._generation:
            self._cache[key_id] = entry
            self._cache.move_to_end(key_id)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return entry

    def _entry(self, loaded_at: float, found: KeyWithCompany | None) -> _Entry:
        unusable = _Entry(loaded_at, None, b"", 0, False, None, None, None, None, None, None)
        if found is None:
            return unusable
        key, company = found.key, found.company
        pepper = self._peppers.get(key.pepper_version)
        if pepper is None:
            # Hashed under a pepper no longer configured: it cannot verify. Operators must know.
            _log.warning(
                "api_key.pepper_version_unknown",
                key_id=key.id,
                key_pepper_version=key.pepper_version,
                pepper_versions=list(self._peppers.versions),
            )
            return unusable
        principal = Principal(
            company_id=company.id,
            company_name=company.name,
            organization_id=company.organization_id,
            plan=company.plan,
            key_id=key.id,
            scopes=frozenset(key.scopes),
            plan_overrides=tuple(sorted((company.plan_overrides or {}).items())),
        )
        times = (
            _timestamp(key.revoked_at),
            _timestamp(key.expires_at),
            _timestamp(key.grace_ends_at),
        )
        known = [moment for moment in times if moment is not None]
        return _Entry(
            loaded_at=loaded_at,
            key_hash=bytes.fromhex(key.key_hash),
            pepper=pepper,
            pepper_version=key.pepper_version,
            stale_pepper=key.pepper_version != self._peppers.current,
            principal=principal,
            refusal=None if company.active else INACTIVE_COMPANY,
            ends_at=min(known) if known else None,
            revoked_at=times[0],
            expires_at=times[1],
            grace_ends_at=times[2],
        )


def extract_api_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or else ``X-API-Key: <key>``.

    ``headers`` is an ASGI header list (lower-case names). Returns None when neither
    header carries a value; the key itself is checked by :meth:`Authenticator.authenticate`.
    """
    fallback: bytes | None = None
    for name, value in headers:
        if name == b"authorization":
            # The scheme is case-insensitive (RFC 9110).
            if value[:7].lower() == b"bearer ":
                token = value[7:].strip()
                if token:
                    return token.decode("latin-1")
        elif name == b"x-api-key":
            fallback = value.strip() or None
    return None if fallback is None else fallback.decode("latin-1")
