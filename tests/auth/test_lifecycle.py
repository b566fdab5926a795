"""KeyLifecycle on both databases: what the CLI and the rotateApiKey mutation rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from auth.api_keys import format_api_key, generate_api_key, parse_api_key
from auth.lifecycle import (
    KeyAlreadyRevoked,
    KeyLifecycle,
    KeyNotFound,
    KeyNotRotatable,
    partner_actor,
)
from auth.peppers import PepperSet
from auth.scopes import Scope
from errors import Unauthenticated
from storage.database import Database
from storage.records import KeyStatus
from tests.fixtures.databases import TEST_PEPPER, seed_company


class RecordingInvalidations:
    def __init__(self) -> None:
        self.key_ids: list[str] = []

    async def invalidate_key(self, key_id: str) -> bool:
        self.key_ids.append(key_id)
        return True


def _lifecycle(
    database: Database, peppers: PepperSet | None = None
) -> tuple[KeyLifecycle, RecordingInvalidations]:
    sent = RecordingInvalidations()
    keys = KeyLifecycle.for_database(
        database, peppers or PepperSet.single(TEST_PEPPER), invalidations=sent
    )
    return keys, sent


async def test_issue_with_a_lifetime(database: Database) -> None:
    company = await seed_company(database.url)
    keys, _ = _lifecycle(database)
    before = datetime.now(UTC)
    issued = await keys.issue(
        company.id, actor="alice", scopes=[Scope.READ], expires_in=timedelta(minutes=15)
    )
    assert issued.record.expires_at is not None
    assert before + timedelta(minutes=15) <= issued.record.expires_at
    assert issued.record.expires_at <= datetime.now(UTC) + timedelta(minutes=15)
    with pytest.raises(ValueError, match="longer than 0"):
        await keys.issue(company.id, actor="alice", expires_in=timedelta(0))
    [event] = await keys.events(company_id=company.id)
    assert (event.event, event.actor, event.key_id) == ("issued", "alice", issued.record.id)


async def test_rotate_broadcasts_and_scopes_to_the_company(database: Database) -> None:
    acme, globex = await seed_company(database.url), await seed_company(database.url)
    keys, sent = _lifecycle(database)
    issued = await keys.issue(acme.id, actor="alice")
    key_id = issued.record.id

    for company_id in (globex.id,):
        with pytest.raises(KeyNotFound):
            await keys.rotate(key_id, actor="x", company_id=company_id)
    with pytest.raises(ValueError, match="between 0 and 30 days"):
        await keys.rotate(key_id, actor="x", grace=timedelta(days=31))
    assert sent.key_ids == []

    rotated = await keys.rotate(key_id, actor=partner_actor(key_id), company_id=acme.id)
    assert sent.key_ids == [key_id]
    assert parse_api_key(rotated.key).key_id == rotated.successor.id
    assert rotated.key not in repr(rotated)
    assert rotated.rotated.status(datetime.now(UTC)) is KeyStatus.ROTATING
    grace = rotated.rotated.grace_ends_at
    assert grace is not None
    assert timedelta(hours=23, minutes=59) < grace - datetime.now(UTC) <= timedelta(hours=24)
    with pytest.raises(KeyNotRotatable):
        await keys.rotate(key_id, actor="x")
    [rotation, _issued] = await keys.events(company_id=acme.id)
    assert (rotation.event, rotation.actor) == ("rotated", f"partner:{key_id}")


async def test_revoke_by_id_and_by_the_leaked_key(database: Database) -> None:
    company = await seed_company(database.url)
    keys, sent = _lifecycle(database)
    first = await keys.issue(company.id, actor="a")
    second = await keys.issue(company.id, actor="a")

    revoked = await keys.revoke(first.record.id, actor="bob")
    assert revoked.revoked_at is not None
    with pytest.raises(KeyAlreadyRevoked):
        await keys.revoke(first.record.id, actor="bob")
    with pytest.raises(KeyNotFound):
        await keys.revoke("NoSuchKey123", actor="bob")

    with pytest.raises(Unauthenticated):
        await keys.revoke_presented("cgw_garbage", actor="bob")
    forged = format_api_key(second.record.id, "A" * 32)  # right id, wrong secret
    with pytest.raises(KeyNotFound):
        await keys.revoke_presented(forged, actor="bob")
    with pytest.raises(KeyNotFound):
        await keys.revoke_presented(generate_api_key().key, actor="bob")
    assert (await keys.revoke_presented(second.key + "\n", actor="bob")).id == second.record.id
    assert sent.key_ids == [first.record.id, second.record.id]


async def test_leaked_keys_under_an_old_pepper_revoke_too(database: Database) -> None:
    company = await seed_company(database.url)
    old, _ = _lifecycle(database)
    issued = await old.issue(company.id, actor="a")
    rotated_peppers = PepperSet(current=2, peppers={1: TEST_PEPPER, 2: b"x" * 20})
    keys, _ = _lifecycle(database, rotated_peppers)
    assert (await keys.revoke_presented(issued.key, actor="a")).revoked_at is not None


async def test_a_new_pepper_version_is_recorded_once(database: Database) -> None:
    first, _ = _lifecycle(database)
    assert not await first.note_pepper_version("gateway")  # version 1 alone: no rotation
    peppers = PepperSet(current=2, peppers={1: TEST_PEPPER, 2: b"y" * 20})
    rotated, _ = _lifecycle(database, peppers)
    assert await rotated.note_pepper_version("alice")
    assert not await rotated.note_pepper_version("gateway")
    [event] = await rotated.events()
    assert (event.event, event.actor) == ("pepper_rotated", "alice")
    assert "current pepper version 2" in event.detail
    assert b"y".decode() * 20 not in event.detail
