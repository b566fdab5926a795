"""Turn a presented API key into a :class:`~auth.principal.Principal`, or refuse it.

One ``Authenticator`` per process, shared by all requests::

    authenticator = Authenticator(ApiKeyRepository(database), pepper, cache_ttl=1.0)
    raw_key = extract_api_key(scope["headers"])
    principal = await authenticator.authenticate(raw_key or "")

Malformed keys are refused before any I/O. Well-formed ones are looked up by key id
through a small in-process cache (bounded in size, entries live ``cache_ttl`` seconds, so a
revocation is seen within that time); the cache holds the stored hash and the principal,
never a raw key. A warm hit is a regex, a CRC32 and one HMAC: a few microseconds.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

import structlog

from auth.api_keys import hash_api_key_bytes, parse_api_key
from auth.principal import Principal
from errors import Unauthenticated
from settings import Settings
from storage.database import Database
from storage.records import KeyWithCompany
from storage.repositories import ApiKeyRepository

__all__ = [
    "EXPIRED",
    "INACTIVE_COMPANY",
    "INVALID",
    "MISSING",
    "REVOKED",
    "Authenticator",
    "KeyStore",
    "extract_api_key",
]

MISSING = "A valid API key is required: send it as 'Authorization: Bearer <key>'."
INVALID = "Invalid API key."
REVOKED = "This API key has been revoked."
EXPIRED = "This API key has expired."
INACTIVE_COMPANY = "This API key's company is not active."

_log = structlog.get_logger(__name__)


class KeyStore(Protocol):
    """What the authenticator needs from storage (:class:`storage.ApiKeyRepository`)."""

    async def get_with_company(self, key_id: str) -> KeyWithCompany | None: ...

    async def touch_last_used(self, key_ids: Iterable[str], at: datetime | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class _Entry:
    """What is known about one key id at ``loaded_at`` (a ``clock()`` reading)."""

    loaded_at: float
    key_hash: bytes | None  # None: no usable key with this id
    principal: Principal | None
    refusal: str | None  # a refusal that does not depend on time (inactive company)
    revoked_at: float | None  # wall-clock seconds
    expires_at: float | None


class Authenticator:
    """Authenticates API keys against storage, with a short-lived bounded cache."""

    def __init__(
        self,
        keys: KeyStore,
        pepper: bytes,
        *,
        pepper_version: int = 1,
        cache_ttl: float = 1.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._pepper = pepper
        self._pepper_version = pepper_version
        self._ttl = cache_ttl
        self._size = cache_size
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._loading: dict[str, asyncio.Future[_Entry]] = {}
        self._used: set[str] = set()

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> Self:
        """The gateway's authenticator: its key repository, pepper and cache TTL."""
        return cls(
            ApiKeyRepository(database),
            settings.key_pepper.get_secret_value().encode(),
            cache_ttl=settings.key_cache_ttl,
        )

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
        if entry.key_hash is None or not hmac.compare_digest(
            hash_api_key_bytes(parsed.key, self._pepper), entry.key_hash
        ):
            raise Unauthenticated(INVALID)
        # Only a caller who holds the secret learns why a real key is refused.
        if entry.revoked_at is not None or entry.expires_at is not None:
            now = self._wall_clock()
            if entry.revoked_at is not None and entry.revoked_at <= now:
                raise Unauthenticated(REVOKED)
            if entry.expires_at is not None and entry.expires_at <= now:
                raise Unauthenticated(EXPIRED)
        if entry.refusal is not None or entry.principal is None:
            raise Unauthenticated(entry.refusal or INVALID)
        self._used.add(key_id)
        return entry.principal

    def invalidate(self, key_id: str | None = None) -> None:
        """Forget one key id, or everything; the next request reads storage again."""
        if key_id is None:
            self._cache.clear()
        else:
            self._cache.pop(key_id, None)

    def used_key_ids(self) -> set[str]:
        """Key ids that authenticated since the last call (for batched ``last_used_at``)."""
        used, self._used = self._used, set()
        return used

    async def flush_last_used(self) -> int:
        """Write ``last_used_at`` for the keys used since the last flush; returns rows updated."""
        return await self._keys.touch_last_used(self.used_key_ids())

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
        self._loading.pop(key_id, None)
        if not future.cancelled():
            future.exception()  # retrieved here, so an error nobody awaited is not logged twice

    async def _fetch(self, key_id: str) -> _Entry:
        # Stamped before the query: a revocation committed meanwhile is not cached for long.
        loaded_at = self._clock()
        found = await self._keys.get_with_company(key_id)
        entry = self._entry(loaded_at, found)
        if self._ttl > 0:
            self._cache[key_id] = entry
            self._cache.move_to_end(key_id)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return entry

    def _entry(self, loaded_at: float, found: KeyWithCompany | None) -> _Entry:
        if found is None:
            return _Entry(loaded_at, None, None, None, None, None)
        key, company = found.key, found.company
        if key.pepper_version != self._pepper_version:
            # Hashed under another pepper: it cannot verify here. Operators must know.
            _log.warning(
                "api_key.pepper_version_mismatch",
                key_id=key.id,
                key_pepper_version=key.pepper_version,
                pepper_version=self._pepper_version,
            )
            return _Entry(loaded_at, None, None, None, None, None)
        principal = Principal(
            company_id=company.id,
            company_name=company.name,
            organization_id=company.organization_id,
            plan=company.plan,
            key_id=key.id,
            scopes=frozenset(key.scopes),
        )
        return _Entry(
            loaded_at=loaded_at,
            key_hash=bytes.fromhex(key.key_hash),
            principal=principal,
            refusal=None if company.active else INACTIVE_COMPANY,
            revoked_at=None if key.revoked_at is None else key.revoked_at.timestamp(),
            expires_at=None if key.expires_at is None else key.expires_at.timestamp(),
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
