"""The authenticator against real databases, with injected clocks instead of sleeps."""

from __future__ import annotations

import asyncio
import time
import timeit
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from auth.api_keys import format_api_key, generate_api_key, parse_api_key
from auth.authenticator import (
    EXPIRED,
    INACTIVE_COMPANY,
    INVALID,
    MISSING,
    REVOKED,
    Authenticator,
    extract_api_key,
)
from auth.principal import Principal
from auth.scopes import Scope
from errors import Unauthenticated
from storage.database import Database
from storage.records import KeyWithCompany
from storage.repositories import ApiKeyRepository, CompanyRepository
from tests.fixtures.databases import TEST_PEPPER, seed_company_with_key


class CountingKeys(ApiKeyRepository):
    """The real repository, counting lookups."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.lookups = 0

    async def get_with_company(self, key_id: str) -> KeyWithCompany | None:
        self.lookups += 1
        return await super().get_with_company(key_id)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _authenticator(database: Database, clock: FakeClock | None = None) -> Authenticator:
    return Authenticator(
        CountingKeys(database), TEST_PEPPER, cache_ttl=1.0, clock=clock or FakeClock()
    )


def _lookups(authenticator: Authenticator) -> int:
    keys = authenticator._keys
    assert isinstance(keys, CountingKeys)
    return keys.lookups


async def _refused(authenticator: Authenticator, raw_key: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await authenticator.authenticate(raw_key)
    assert raw_key == "" or raw_key not in str(caught.value)
    return caught.value.public_message


async def test_valid_key_gives_the_principal(database: Database) -> None:
    company, key = await seed_company_with_key(
        database.url, organization_id=42, scopes=[Scope.READ], plan="enterprise"
    )
    principal = await _authenticator(database).authenticate(key)
    assert principal == Principal(
        company_id=company.id,
        company_name=company.name,
        organization_id=42,
        plan="enterprise",
        key_id=parse_api_key(key).key_id,
        scopes=frozenset({"read"}),
    )
    assert principal.has_scope(Scope.READ)
    assert not principal.has_scope(Scope.WRITE)


async def test_malformed_keys_never_reach_the_database(database: Database) -> None:
    authenticator = _authenticator(database)
    assert await _refused(authenticator, "") == MISSING
    assert await _refused(authenticator, "not-a-key") == "Malformed API key."
    key = generate_api_key().key
    assert await _refused(authenticator, key[:-1] + ("A" if key[-1] != "A" else "B")) == (
        "Malformed API key."
    )
    assert _lookups(authenticator) == 0


async def test_wrong_secret_and_unknown_key_are_invalid(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    key_id = parse_api_key(key).key_id
    authenticator = _authenticator(database)
    forged = format_api_key(key_id, "A" * 32)  # well-formed, right id, wrong secret
    assert await _refused(authenticator, forged) == INVALID
    assert await _refused(authenticator, generate_api_key().key) == INVALID
    # The right key still works: a failed attempt does not poison the cache.
    assert (await authenticator.authenticate(key)).key_id == key_id


async def test_a_different_pepper_cannot_verify(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    other = Authenticator(ApiKeyRepository(database), b"another-pepper-0123456789")
    assert await _refused(other, key) == INVALID


async def test_revoked_key(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    await ApiKeyRepository(database).revoke(parse_api_key(key).key_id)
    assert await _refused(_authenticator(database), key) == REVOKED


async def test_expired_key(database: Database) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    _, key = await seed_company_with_key(database.url, expires_at=expires)
    wall = FakeClock()
    authenticator = Authenticator(
        ApiKeyRepository(database), TEST_PEPPER, wall_clock=wall, clock=FakeClock()
    )
    wall.now = expires.timestamp() - 1
    await authenticator.authenticate(key)
    # Expiry is checked on every request, also while the entry is cached.
    wall.now = expires.timestamp()
    assert await _refused(authenticator, key) == EXPIRED


async def test_expired_key_in_the_database(database: Database) -> None:
    _, key = await seed_company_with_key(
        database.url, expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await _refused(_authenticator(database), key) == EXPIRED


async def test_inactive_company(database: Database) -> None:
    company, key = await seed_company_with_key(database.url)
    await CompanyRepository(database).set_active(company.id, False)
    assert await _refused(_authenticator(database), key) == INACTIVE_COMPANY


async def test_cache_honours_the_ttl(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    clock = FakeClock()
    authenticator = _authenticator(database, clock)

    await authenticator.authenticate(key)
    await authenticator.authenticate(key)
    assert _lookups(authenticator) == 1

    await ApiKeyRepository(database).revoke(parse_api_key(key).key_id)
    clock.now += 0.99
    await authenticator.authenticate(key)  # still cached: revocation not yet seen
    assert _lookups(authenticator) == 1

    clock.now += 0.01
    assert await _refused(authenticator, key) == REVOKED
    assert _lookups(authenticator) == 2


async def test_unknown_keys_are_cached_too(database: Database) -> None:
    authenticator = _authenticator(database)
    unknown = generate_api_key().key
    for _ in range(3):
        assert await _refused(authenticator, unknown) == INVALID
    assert _lookups(authenticator) == 1


async def test_cache_is_bounded(database: Database) -> None:
    authenticator = Authenticator(CountingKeys(database), TEST_PEPPER, cache_size=2)
    first, second, third = (generate_api_key().key for _ in range(3))
    for key in (first, second, first, third):  # `first` was used last: `second` goes
        await _refused(authenticator, key)
    assert _lookups(authenticator) == 3
    await _refused(authenticator, first)
    assert _lookups(authenticator) == 3
    await _refused(authenticator, second)
    assert _lookups(authenticator) == 4
    assert len(authenticator._cache) == 2


async def test_zero_ttl_always_reads_storage(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    authenticator = Authenticator(CountingKeys(database), TEST_PEPPER, cache_ttl=0)
    await authenticator.authenticate(key)
    await authenticator.authenticate(key)
    assert _lookups(authenticator) == 2


async def test_concurrent_misses_share_one_lookup(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    authenticator = _authenticator(database)
    principals = await asyncio.gather(*(authenticator.authenticate(key) for _ in range(20)))
    assert len(set(principals)) == 1
    assert _lookups(authenticator) == 1


async def test_cache_never_holds_the_raw_key(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    authenticator = _authenticator(database)
    await authenticator.authenticate(key)
    assert key not in repr(authenticator._cache)
    assert key.split("_")[2][:32] not in repr(authenticator._cache)


async def test_last_used_is_flushed_in_a_batch(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    authenticator = _authenticator(database)
    await authenticator.authenticate(key)
    await authenticator.authenticate(key)
    assert await authenticator.flush_last_used() == 1
    assert await authenticator.flush_last_used() == 0
    stored = await ApiKeyRepository(database).get(parse_api_key(key).key_id)
    assert stored is not None
    assert stored.last_used_at is not None


async def test_warm_cache_costs_microseconds(sqlite_database_url: str) -> None:
    async with Database(sqlite_database_url) as database:
        _, key = await seed_company_with_key(database.url)
        # A frozen clock: the measurement must not outlive the TTL and time a reload.
        authenticator = Authenticator(ApiKeyRepository(database), TEST_PEPPER, clock=lambda: 0.0)
        await authenticator.authenticate(key)

        def warm_call() -> None:
            # A warm hit never awaits I/O: the coroutine finishes on its first step.
            coroutine = authenticator.authenticate(key)
            try:
                coroutine.send(None)
            except StopIteration:
                return
            raise AssertionError("a warm authenticate suspended")

        runs = 5_000
        seconds = min(timeit.repeat(warm_call, number=runs, repeat=3)) / runs
    assert seconds < 100e-6, f"{seconds * 1e6:.1f} µs per warm authenticate"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"authorization", b"Bearer cgw_abc")], "cgw_abc"),
        ([(b"authorization", b"bearer   cgw_abc  ")], "cgw_abc"),
        ([(b"x-api-key", b" cgw_abc ")], "cgw_abc"),
        ([(b"x-api-key", b"cgw_x"), (b"authorization", b"Bearer cgw_y")], "cgw_y"),
        ([(b"authorization", b"Basic dXNlcjpwYXNz"), (b"x-api-key", b"cgw_z")], "cgw_z"),
        ([(b"authorization", b"Bearer "), (b"x-api-key", b"")], None),
        ([(b"host", b"example.com")], None),
        ([], None),
    ],
)
def test_extract_api_key(headers: list[tuple[bytes, bytes]], expected: str | None) -> None:
    assert extract_api_key(headers) == expected


def test_extract_api_key_is_cheap() -> None:
    headers: Iterable[tuple[bytes, bytes]] = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"curl/8.0"),
        (b"content-type", b"application/json"),
        (b"authorization", b"Bearer " + generate_api_key().key.encode()),
    ]
    runs = 10_000
    started = time.perf_counter()
    for _ in range(runs):
        extract_api_key(headers)
    assert (time.perf_counter() - started) / runs < 20e-6


async def test_a_verified_key_is_recognised_but_a_forged_twin_still_is_not(
    database: Database,
) -> None:
    _company, key = await seed_company_with_key(database.url)
    authenticator = _authenticator(database)
    first = await authenticator.authenticate(key)
    assert await authenticator.authenticate(key) == first  # the fast tag path
    key_id = parse_api_key(key).key_id
    assert await _refused(authenticator, format_api_key(key_id, "B" * 32)) == INVALID
    assert await authenticator.authenticate(key) == first
