"""Migrations apply on SQLite and PostgreSQL, match the models, and guard ``serve``."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage import migrate
from storage.database import Database
from storage.models import Base
from tests.fixtures.databases import _admin, _postgres_url


def _diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_migrated_schema_matches_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"companies", "api_keys", "alembic_version"} <= tables


async def test_database_is_at_head(database_url: str) -> None:
    assert await migrate.current_revision(database_url) == migrate.head_revision()
    assert not await migrate.is_empty(database_url)
    assert await migrate.ensure_schema(database_url) is False


async def test_sqlite_uses_wal(sqlite_database_url: str) -> None:
    async with Database(sqlite_database_url) as db, db.engine.connect() as connection:
        mode = await connection.exec_driver_sql("PRAGMA journal_mode")
        assert mode.scalar() == "wal"


async def test_ensure_schema_migrates_an_empty_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    assert await migrate.is_empty(url)
    assert await migrate.current_revision(url) is None
    assert await migrate.ensure_schema(url) is True
    assert await migrate.current_revision(url) == migrate.head_revision()


async def test_concurrent_ensure_schema_on_postgres_migrates_once(
    postgres_database_url: str,
) -> None:
    name = f"gw_test_{uuid.uuid4().hex[:16]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        url = _postgres_url(name)
        results = await asyncio.gather(*(migrate.ensure_schema(url) for _ in range(3)))
        assert sorted(results) == [False, False, True]
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_ensure_schema_refuses_a_database_behind_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrate.upgrade(url)
    async with Database(url) as db, db.engine.begin() as connection:
        await connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    with pytest.raises(migrate.SchemaError, match="gateway db upgrade"):
        await migrate.ensure_schema(url)


async def test_ensure_schema_refuses_foreign_tables(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    async with Database(url) as db, db.engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE something_else (id INTEGER)")
    with pytest.raises(migrate.SchemaError, match="no migration history"):
        await migrate.ensure_schema(url)
