"""Rotation, revocation, re-hashing and the audit trail in storage, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Database
from storage.key_events import KeyEventRepository
from storage.records import KeyEvent, KeyStatus, NewKeyEvent
from storage.repositories import (
    ApiKeyRepository,
    CompanyRepository,
    KeyMaterial,
    KeyNotFound,
    KeyNotRotatable,
    Rehash,
)

# Real time: events are ordered by it, and the `issued` ones are stamped with it.
NOW = datetime.now(UTC)


async def _company(database: Database, name: str = "Acme") -> str:
    return (await CompanyRepository(database).create(name=name, organization_id=1)).id


async def _key(
    keys: ApiKeyRepository, key_id: str, company_id: str, expires_at: datetime | None = None
) -> None:
    await keys.insert(
        key_id=key_id,
        company_id=company_id,
        prefix=f"cgw_{key_id}",
        key_hash="ab" * 32,
        scopes=["read", "keys:manage"],
        expires_at=expires_at,
        actor="alice",
    )


def _material(key_id: str, version: int = 1) -> KeyMaterial:
    return KeyMaterial(key_id, f"cgw_{key_id}", "cd" * 32, version)


async def test_rotation_keeps_company_scopes_and_expiry_cap(database: Database) -> None:
    company = await _company(database)
    keys = ApiKeyRepository(database)
    cap = NOW + timedelta(days=3)
    await _key(keys, "OLDOLDOLDOLD", company, expires_at=cap)
    grace_end = NOW + timedelta(hours=24)
    rotation = await keys.rotate(
        "OLDOLDOLDOLD", _material("NEWNEWNEWNEW", 2), grace_ends_at=grace_end, actor="bob"
    )
    old, new = rotation.rotated, rotation.successor
    assert (old.successor_id, old.grace_ends_at) == ("NEWNEWNEWNEW", grace_end)
    assert (new.company_id, new.scopes, new.expires_at) == (company, old.scopes, cap)
    assert new.pepper_version == 2
    assert old.status(NOW) is KeyStatus.ROTATING
    assert old.status(grace_end) is KeyStatus.ROTATED
    assert old.status(cap) is KeyStatus.EXPIRED
    assert await keys.get("OLDOLDOLDOLD") == old

    events = await KeyEventRepository(database).list(company_id=company)
    assert [(e.event, e.key_id, e.actor) for e in events] == [
        ("rotated", "OLDOLDOLDOLD", "bob"),
        ("issued", "OLDOLDOLDOLD", "alice"),
    ]
    assert "NEWNEWNEWNEW" in events[0].detail


async def test_only_an_active_key_rotates(database: Database) -> None:
    company = await _company(database)
    keys = ApiKeyRepository(database)
    await _key(keys, "AAAAAAAAAAAA", company)
    await keys.rotate("AAAAAAAAAAAA", _material("BBBBBBBBBBBB"), grace_ends_at=NOW, actor="a")
    with pytest.raises(KeyNotRotatable) as again:
        await keys.rotate("AAAAAAAAAAAA", _material("CCCCCCCCCCCC"), grace_ends_at=NOW, actor="a")
    assert again.value.status is KeyStatus.ROTATED
    await _key(keys, "DDDDDDDDDDDD", company, expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(KeyNotRotatable) as expired:
        await keys.rotate("DDDDDDDDDDDD", _material("EEEEEEEEEEEE"), grace_ends_at=NOW, actor="a")
    assert expired.value.status is KeyStatus.EXPIRED
    assert await keys.revoke("BBBBBBBBBBBB", actor="a")
    with pytest.raises(KeyNotRotatable):
        await keys.rotate("BBBBBBBBBBBB", _material("FFFFFFFFFFFF"), grace_ends_at=NOW, actor="a")
    # A refused rotation stores no successor.
    assert {k.id for k in await keys.list_for_company(company)} == {
        "AAAAAAAAAAAA",
        "BBBBBBBBBBBB",
        "DDDDDDDDDDDD",
    }


async def test_another_companys_key_is_not_found(database: Database) -> None:
    acme, globex = await _company(database), await _company(database, "Globex")
    keys = ApiKeyRepository(database)
    await _key(keys, "AAAAAAAAAAAA", acme)
    for key_id in ("AAAAAAAAAAAA", "ZZZZZZZZZZZZ"):
        with pytest.raises(KeyNotFound):
            await keys.rotate(
                key_id, _material("BBBBBBBBBBBB"), grace_ends_at=NOW, actor="a", company_id=globex
            )


async def test_concurrent_rotations_of_one_key_one_wins(postgres_database_url: str) -> None:
    async with Database(postgres_database_url) as database:
        company = await _company(database)
        keys = ApiKeyRepository(database)
        await _key(keys, "AAAAAAAAAAAA", company)
        results = await asyncio.gather(
            *(
                keys.rotate("AAAAAAAAAAAA", _material(f"NEW{n:09d}"), grace_ends_at=NOW, actor="a")
                for n in range(5)
            ),
            return_exceptions=True,
        )
        assert sum(not isinstance(result, BaseException) for result in results) == 1
        assert all(
            isinstance(result, KeyNotRotatable)
            for result in results
            if isinstance(result, BaseException)
        )
        assert len(await keys.list_for_company(company)) == 2


async def test_revocation_records_its_event_once(database: Database) -> None:
    company = await _company(database)
    keys = ApiKeyRepository(database)
    await _key(keys, "AAAAAAAAAAAA", company)
    assert await keys.revoke("AAAAAAAAAAAA", actor="carol")
    assert not await keys.revoke("AAAAAAAAAAAA", actor="carol")
    assert not await keys.revoke("NOSUCHKEY000", actor="carol")
    events = await KeyEventRepository(database).list(key_id="AAAAAAAAAAAA")
    assert [(e.event, e.actor, e.company_id) for e in events] == [
        ("revoked", "carol", company),
        ("issued", "alice", company),
    ]


async def test_rehash_moves_only_keys_still_at_the_old_version(database: Database) -> None:
    company = await _company(database)
    keys = ApiKeyRepository(database)
    await _key(keys, "AAAAAAAAAAAA", company)
    await _key(keys, "BBBBBBBBBBBB", company)
    moved = await keys.rehash(
        [
            Rehash("AAAAAAAAAAAA", 1, 2, "ef" * 32),
            Rehash("BBBBBBBBBBBB", 3, 2, "ef" * 32),  # not at version 3: untouched
        ]
    )
    assert moved == 1
    assert await keys.rehash([Rehash("AAAAAAAAAAAA", 1, 2, "00" * 32)]) == 0
    a, b = await keys.get("AAAAAAAAAAAA"), await keys.get("BBBBBBBBBBBB")
    assert a is not None and b is not None
    assert (a.pepper_version, a.key_hash) == (2, "ef" * 32)
    assert (b.pepper_version, b.key_hash) == (1, "ab" * 32)
    assert await keys.count_by_pepper_version() == {1: 1, 2: 1}
    await keys.revoke("BBBBBBBBBBBB")
    assert await keys.count_by_pepper_version() == {2: 1}


async def test_deduplicated_events_are_recorded_once(database: Database) -> None:
    company = await _company(database)
    keys = ApiKeyRepository(database)
    await _key(keys, "AAAAAAAAAAAA", company)
    events = KeyEventRepository(database)
    refusal = NewKeyEvent(
        KeyEvent.REFUSED_AFTER_ROTATION,
        "partner:AAAAAAAAAAAA",
        company,
        "AAAAAAAAAAAA",
        dedupe_key="refused:AAAAAAAAAAAA:1",
    )
    pepper = NewKeyEvent(KeyEvent.PEPPER_ROTATED, "gateway", dedupe_key="pepper_rotated:2")
    assert await events.record([refusal, pepper]) == 2
    # Several processes racing to record the same events: each lands once.
    counts = await asyncio.gather(*(events.record([refusal, pepper]) for _ in range(4)))
    assert sum(counts) == 0
    assert await events.record([]) == 0
    recorded = await events.list()
    assert [e.event for e in recorded].count("refused_after_rotation") == 1
    assert [e.event for e in recorded].count("pepper_rotated") == 1
    assert [e.event for e in await events.list(company_id=company, limit=1)] in (
        ["refused_after_rotation"],
        ["issued"],
    )
