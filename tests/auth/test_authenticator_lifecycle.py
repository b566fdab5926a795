"""The authenticator through a key's life: rotation grace, audit of late use, pepper rotation,
invalidation. Real databases; injected clocks instead of sleeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from auth.api_keys import parse_api_key
from auth.authenticator import EXPIRED, REVOKED, ROTATED, Authenticator
from auth.lifecycle import KeyLifecycle
from auth.peppers import PepperSet
from errors import Unauthenticated
from storage.database import Database
from storage.key_events import KeyEventRepository
from storage.records import KeyWithCompany
from storage.repositories import ApiKeyRepository
from tests.fixtures.databases import TEST_PEPPER, seed_company, seed_company_with_key

NEW_PEPPER = b"the-second-pepper-0123456789"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _authenticator(
    database: Database, wall: Clock, peppers: PepperSet | bytes = TEST_PEPPER
) -> Authenticator:
    return Authenticator(
        ApiKeyRepository(database),
        peppers,
        events=KeyEventRepository(database),
        clock=Clock(0.0),  # never expires the cache: these tests are about the wall clock
        wall_clock=wall,
    )


async def _refusal(authenticator: Authenticator, key: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        await authenticator.authenticate(key)
    assert key not in str(raised.value)
    return raised.value.public_message


async def test_a_rotated_key_works_until_its_grace_ends_then_says_so(database: Database) -> None:
    company, old_key = await seed_company_with_key(database.url)
    keys = KeyLifecycle.for_database(database, PepperSet.single(TEST_PEPPER))
    rotated = await keys.rotate(
        parse_api_key(old_key).key_id, actor="alice", grace=timedelta(hours=1)
    )
    assert rotated.rotated.grace_ends_at is not None
    wall = Clock(datetime.now(UTC).timestamp())
    authenticator = _authenticator(database, wall)

    old, new = (
        await authenticator.authenticate(old_key),
        await authenticator.authenticate(rotated.key),
    )
    # Both keys are the same company's: throttles and quotas keyed by company see one caller.
    assert old.company_id == new.company_id == company.id
    assert (old.key_id, new.key_id) == (rotated.rotated.id, rotated.successor.id)
    assert old.scopes == new.scopes

    # Cached, and still refused the moment the grace period ends.
    wall.now = rotated.rotated.grace_ends_at.timestamp()
    assert await _refusal(authenticator, old_key) == ROTATED
    assert (await authenticator.authenticate(rotated.key)).key_id == rotated.successor.id


async def test_revocation_and_expiry_win_over_rotation(database: Database) -> None:
    expires = datetime.now(UTC) + timedelta(hours=2)
    _, key = await seed_company_with_key(database.url, expires_at=expires)
    keys = KeyLifecycle.for_database(database, PepperSet.single(TEST_PEPPER))
    key_id = parse_api_key(key).key_id
    rotated = await keys.rotate(key_id, actor="a", grace=timedelta(days=3))
    wall = Clock(expires.timestamp())
    assert rotated.successor.expires_at == expires  # never outlives the original's cap
    authenticator = _authenticator(database, wall)
    assert await _refusal(authenticator, key) == EXPIRED
    assert await _refusal(authenticator, rotated.key) == EXPIRED
    await keys.revoke(key_id, actor="a")
    authenticator.invalidate(key_id)
    assert await _refusal(authenticator, key) == REVOKED


async def test_late_use_of_a_rotated_key_is_recorded_once_an_hour(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)
    keys = KeyLifecycle.for_database(database, PepperSet.single(TEST_PEPPER))
    key_id = parse_api_key(key).key_id
    await keys.rotate(key_id, actor="a", grace=timedelta(0))
    wall = Clock(datetime.now(UTC).timestamp() + 1)
    first, second = _authenticator(database, wall), _authenticator(database, wall)  # 2 processes
    for _ in range(50):
        assert await _refusal(first, key) == ROTATED
        assert await _refusal(second, key) == ROTATED
    assert (await first.flush()).events == 1
    assert (await second.flush()).events == 0  # the same hour, already recorded elsewhere
    assert (await first.flush()).events == 0
    refusals = [e for e in await keys.events(limit=10) if e.event == "refused_after_rotation"]
    assert [(e.key_id, e.actor) for e in refusals] == [(key_id, f"partner:{key_id}")]


async def test_keys_move_to_the_new_pepper_as_they_are_used(database: Database) -> None:
    _, key = await seed_company_with_key(database.url)  # hashed under version 1
    key_id = parse_api_key(key).key_id
    rotated_peppers = PepperSet(current=2, peppers={1: TEST_PEPPER, 2: NEW_PEPPER})
    wall = Clock(datetime.now(UTC).timestamp())

    only_new = _authenticator(database, wall, PepperSet(current=2, peppers={2: NEW_PEPPER}))
    assert await _refusal(only_new, key) == "Invalid API key."

    authenticator = _authenticator(database, wall, rotated_peppers)
    for _ in range(3):
        await authenticator.authenticate(key)
    flushed = await authenticator.flush()
    assert (flushed.rehashed, flushed.last_used) == (1, 1)
    stored = await ApiKeyRepository(database).get(key_id)
    assert stored is not None and stored.pepper_version == 2
    assert TEST_PEPPER.hex() not in stored.key_hash

    # Now the old pepper can go: the key verifies under version 2 alone.
    fresh = _authenticator(database, wall, PepperSet(current=2, peppers={2: NEW_PEPPER}))
    assert (await fresh.authenticate(key)).key_id == key_id
    assert (await authenticator.flush()).rehashed == 0


async def test_new_keys_are_hashed_under_the_current_pepper(database: Database) -> None:
    company = await seed_company(database.url)
    peppers = PepperSet(current=2, peppers={1: TEST_PEPPER, 2: NEW_PEPPER})
    issued = await KeyLifecycle.for_database(database, peppers).issue(company.id, actor="a")
    assert issued.record.pepper_version == 2
    wall = Clock(datetime.now(UTC).timestamp())
    assert (await _authenticator(database, wall, peppers).authenticate(issued.key)).key_id == (
        issued.record.id
    )


class SlowKeys(ApiKeyRepository):
    """Holds each lookup until released, to interleave an invalidation with it."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def get_with_company(self, key_id: str) -> KeyWithCompany | None:
        found = await super().get_with_company(key_id)
        self.started.set()
        await self.release.wait()
        return found


async def test_an_invalidation_during_a_lookup_is_not_undone_by_it(
    sqlite_database_url: str,
) -> None:
    async with Database(sqlite_database_url) as database:
        _, key = await seed_company_with_key(database.url)
        key_id = parse_api_key(key).key_id
        keys = SlowKeys(database)
        authenticator = Authenticator(keys, TEST_PEPPER, clock=Clock(0.0))
        pending = asyncio.ensure_future(authenticator.authenticate(key))
        await asyncio.wait_for(keys.started.wait(), 5)
        await ApiKeyRepository(database).revoke(key_id)
        authenticator.invalidate(key_id)  # the revocation's message arrives mid-lookup
        keys.release.set()
        await pending  # read before the revocation: this one request passes
        assert await _refusal(authenticator, key) == REVOKED  # but nothing stale was cached
