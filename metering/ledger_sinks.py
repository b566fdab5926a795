"""Where the ledger's batches go: one insert-many and one commit per batch, at driver level.

The ledger writes on the hot path (every answer waits for its row), so its batches skip the
ORM session: SQLite gets a writer thread of its own with a stdlib ``sqlite3`` connection
(one thread hop per batch instead of several per statement); PostgreSQL gets an asyncpg
pool and ``executemany``. The SQL is compiled from the SQLAlchemy table, so the schema
has one source (``storage.models.UsageEvent`` and its migrations)::

    sink = ledger_sink(database)
    await sink.write([row, row, ...])   # committed when it returns
    await sink.close()
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import make_url

from storage.database import Database
from storage.models import UsageEvent

__all__ = ["LedgerSink", "PostgresLedgerSink", "SqliteLedgerSink", "ledger_sink"]

_TABLE = UsageEvent.__table__
COLUMNS: tuple[str, ...] = tuple(column.name for column in _TABLE.columns)


def _insert_sql(insert: Any, dialect: Any) -> str:
    """``INSERT ... ON CONFLICT (event_id) DO NOTHING`` for every column, in the driver's
    parameter style, compiled by SQLAlchemy from the table (positional, in COLUMNS order)."""
    statement = insert(_TABLE).values({name: bindparam(name) for name in COLUMNS})
    return str(
        statement.on_conflict_do_nothing(index_elements=["event_id"]).compile(dialect=dialect)
    )


class LedgerSink(Protocol):
    async def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DateTime format, naive UTC (what UTCDateTime reads back).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class SqliteLedgerSink:
    """Batches through one dedicated thread and its own connection (WAL, as the engine)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._sql = _insert_sql(sqlite_insert, SQLiteDialect(paramstyle="qmark"))

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        values = [
            tuple(_sqlite_time(v) if isinstance(v, datetime) else v for v in map(row.get, COLUMNS))
            for row in rows
        ]
        await asyncio.get_running_loop().run_in_executor(self._thread, self._write, values)

    def _write(self, values: list[tuple[Any, ...]]) -> None:
        connection = self._connection
        if connection is None:
            connection = self._connection = sqlite3.connect(self._path, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(self._sql, values)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    async def close(self) -> None:
        def shut() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._thread.shutdown(wait=True)


class PostgresLedgerSink:
    """Batches through a small asyncpg pool: one transaction, one ``executemany``."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._sql = _insert_sql(postgresql_insert, PGDialect_asyncpg())  # type: ignore[no-untyped-call]

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2)
        return self._pool

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        values = [tuple(map(row.get, COLUMNS)) for row in rows]
        pool = await self._connections()
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(self._sql, values)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def ledger_sink(database: Database) -> LedgerSink:
    url = make_url(database.url)
    if database.dialect == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresLedgerSink(dsn)
    if not url.database or url.database == ":memory:":
        raise ValueError("the usage ledger needs a SQLite file, not an in-memory database")
    return SqliteLedgerSink(url.database)
