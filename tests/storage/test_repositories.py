"""Repositories on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Database
from storage.models import COMPANY_ID_PREFIX
from storage.repositories import ApiKeyRepository, CompanyNameTaken, CompanyRepository


async def _key(keys: ApiKeyRepository, key_id: str, company_id: str, **kwargs: object) -> None:
    await keys.insert(
        key_id=key_id,
        company_id=company_id,
        prefix=f"cgw_{key_id}",
        key_hash="ab" * 32,
        scopes=["write", "read", "write"],
        **kwargs,  # type: ignore[arg-type]
    )


async def test_create_and_find_companies(database: Database) -> None:
    companies = CompanyRepository(database)
    acme = await companies.create(name="Acme Learning", organization_id=1)
    beta = await companies.create(name="Beta Academy", organization_id=2, plan="enterprise")

    assert acme.id.startswith(COMPANY_ID_PREFIX)
    assert len(acme.id) == len(COMPANY_ID_PREFIX) + 16
    assert (acme.plan, acme.active, acme.organization_id) == ("standard", True, 1)
    assert acme.created_at.tzinfo is not None
    assert beta.plan == "enterprise"

    assert [c.name for c in await companies.list()] == ["Acme Learning", "Beta Academy"]
    assert await companies.get(acme.id) == acme
    assert await companies.get_by_name("Beta Academy") == beta
    assert await companies.get_by_id_or_name(acme.id) == acme
    assert await companies.get_by_id_or_name("Beta Academy") == beta
    assert await companies.get_by_id_or_name("nobody") is None
    assert await companies.get("co_missing") is None


async def test_company_names_are_unique(database: Database) -> None:
    companies = CompanyRepository(database)
    await companies.create(name="Acme Learning", organization_id=1)
    with pytest.raises(CompanyNameTaken, match="Acme Learning"):
        await companies.create(name="Acme Learning", organization_id=7)
    assert len(await companies.list()) == 1


async def test_set_active(database: Database) -> None:
    companies = CompanyRepository(database)
    acme = await companies.create(name="Acme Learning", organization_id=1)
    assert await companies.set_active(acme.id, False)
    found = await companies.get(acme.id)
    assert found is not None
    assert found.active is False
    assert not await companies.set_active("co_missing", False)


async def test_keys_round_trip_with_their_company(database: Database) -> None:
    companies, keys = CompanyRepository(database), ApiKeyRepository(database)
    acme = await companies.create(name="Acme Learning", organization_id=3)
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    await _key(keys, "AAAAAAAAAAA1", acme.id, expires_at=expires)

    found = await keys.get_with_company("AAAAAAAAAAA1")
    assert found is not None
    assert found.company == acme
    key = found.key
    assert (key.id, key.company_id, key.prefix) == ("AAAAAAAAAAA1", acme.id, "cgw_AAAAAAAAAAA1")
    assert key.key_hash == "ab" * 32
    assert "ab" * 32 not in repr(key)
    assert key.scopes == frozenset({"read", "write"})
    assert key.pepper_version == 1
    assert key.expires_at == expires
    assert key.revoked_at is None
    assert key.last_used_at is None
    assert key.created_at.tzinfo is not None
    assert await keys.get_with_company("AAAAAAAAAAA9") is None


async def test_list_revoke_and_touch(database: Database) -> None:
    companies, keys = CompanyRepository(database), ApiKeyRepository(database)
    acme = await companies.create(name="Acme Learning", organization_id=1)
    other = await companies.create(name="Other", organization_id=2)
    await _key(keys, "AAAAAAAAAAA1", acme.id)
    await _key(keys, "AAAAAAAAAAA2", acme.id)
    await _key(keys, "BBBBBBBBBBB1", other.id)

    assert [k.id for k in await keys.list_for_company(acme.id)] == [
        "AAAAAAAAAAA1",
        "AAAAAAAAAAA2",
    ]

    now = datetime.now(UTC)
    assert await keys.revoke("AAAAAAAAAAA1", at=now)
    assert not await keys.revoke("AAAAAAAAAAA1")  # already revoked: time kept
    assert not await keys.revoke("ZZZZZZZZZZZZ")
    revoked = await keys.get("AAAAAAAAAAA1")
    assert revoked is not None
    assert revoked.revoked_at == now
    assert revoked.status(now) == "revoked"

    used_at = now - timedelta(minutes=1)
    assert (
        await keys.touch_last_used(["AAAAAAAAAAA2", "BBBBBBBBBBB1", "AAAAAAAAAAA2"], used_at) == 2
    )
    assert await keys.touch_last_used([]) == 0
    touched = await keys.get("BBBBBBBBBBB1")
    assert touched is not None
    assert touched.last_used_at == used_at
    assert touched.status(now) == "active"


async def test_keys_need_an_existing_company(database: Database) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await _key(ApiKeyRepository(database), "AAAAAAAAAAA1", "co_missing")


async def test_naive_datetimes_are_refused(database: Database) -> None:
    companies = CompanyRepository(database)
    acme = await companies.create(name="Acme Learning", organization_id=1)
    with pytest.raises(Exception, match="naive"):
        await _key(
            ApiKeyRepository(database), "AAAAAAAAAAA1", acme.id, expires_at=datetime(2030, 1, 1)
        )


def test_database_repr_hides_the_password() -> None:
    db = Database("postgresql+asyncpg://user:hunter2@127.0.0.1:5432/test")
    assert "hunter2" not in repr(db)
    assert db.dialect == "postgresql"
