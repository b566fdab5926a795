"""Apply the packaged Alembic migrations without an ``alembic.ini`` on disk.

``gateway db upgrade`` calls :func:`upgrade`; ``gateway serve`` calls :func:`ensure_schema`,
which migrates an empty database and refuses to start on one that is behind::

    await upgrade("sqlite+aiosqlite:///gateway.db")
    await ensure_schema(settings.database_url)  # True if it just created the schema

On PostgreSQL both take an advisory lock, so gateways starting together migrate once.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import create_engine

__all__ = [
    "MIGRATIONS_DIR",
    "SchemaError",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "is_empty",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any fixed 64-bit number; it names the lock that serializes migrations on PostgreSQL.
_MIGRATION_LOCK_ID = 0x6777_6D69_6772_6174


class SchemaError(RuntimeError):
    """The database's schema is not the one this code expects."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise SchemaError("no migrations found")
    return head


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _is_empty(connection: Connection) -> bool:
    return not inspect(connection).get_table_names()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(_config(connection), revision)


async def _lock(connection: AsyncConnection) -> None:
    if connection.dialect.name == "postgresql":
        # Released at commit; a second gateway waits here, then finds the schema in place.
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
        )


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest)."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await _lock(connection)
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


async def is_empty(database_url: str) -> bool:
    """Whether the database has no tables at all (not even Alembic's)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_is_empty)
    finally:
        await engine.dispose()


async def current_revision(database_url: str) -> str | None:
    """The revision the database is at; None if it was never migrated."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


async def ensure_schema(database_url: str) -> bool:
    """Migrate an empty database; check that any other one is at the newest revision.

    Returns True when it created the schema. Raises :class:`SchemaError` for a database
    that is behind (run ``gateway db upgrade``) or that holds tables it does not know.
    """
    head = head_revision()
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await _lock(connection)
            if await connection.run_sync(_is_empty):
                await connection.run_sync(_upgrade, head)
                return True
            current = await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()
    if current is None:
        raise SchemaError(
            "The database has tables but no migration history; point GATEWAY_DATABASE_URL "
            "at an empty database or one made by `gateway db upgrade`."
        )
    if current != head:
        raise SchemaError(
            f"The database schema is at revision {current}, this gateway needs {head}: "
            "run `gateway db upgrade`."
        )
    return False
