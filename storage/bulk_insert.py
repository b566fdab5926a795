"""Batch inserts at driver level: one insert-many and one commit per batch.

The usage ledger and the trace store write a row per request, so their batches skip the
ORM session: SQLite gets a writer thread of its own with a stdlib ``sqlite3`` connection
(one thread hop per batch instead of several per statement); PostgreSQL gets an asyncpg
pool and ``executemany``. The SQL is compiled from the SQLAlchemy table, so the schema
has one source (``storage.models`` and the migrations)::

    sink = bulk_sink(database, UsageEvent.__table__, conflict="event_id", inline=True)
    await sink.write([row, row, ...])   # committed when it returns
    await sink.close()

``inline=True`` (the usage ledger's small, frequent batches) commits on the event loop's
own thread when the write lock is free at once, and hands the batch to the writer thread
only when another connection holds it. With the gateway on one core the thread never ran
in parallel anyway: handing it a batch and waking the loop again cost ~90 µs of CPU, more
than committing a few rows (~55 µs plus ~13 a row, docs/performance.md). The inline
connection never checkpoints the WAL itself (a checkpoint may wait on ``fsync``); the
writer thread runs a passive checkpoint every :data:`CHECKPOINT_EVERY` inline commits.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
from sqlalchemy import JSON, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import make_url

from storage.database import Database

__all__ = ["CHECKPOINT_EVERY", "BulkSink", "PostgresBulkSink", "SqliteBulkSink", "bulk_sink"]

CHECKPOINT_EVERY = 256  # inline commits between the writer thread's passive checkpoints

log = logging.getLogger(__name__)


class _Statement:
    """``INSERT`` of every column but an autoincrement key, ``ON CONFLICT (conflict) DO
    NOTHING`` when given, in the driver's parameter style, compiled by SQLAlchemy."""

    def __init__(self, table: Table, conflict: str | None, insert: Any, dialect: Any) -> None:
        self.columns = tuple(
            c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)
        )
        self.json_columns = frozenset(c.name for c in table.columns if isinstance(c.type, JSON))
        statement = insert(table).values({name: bindparam(name) for name in self.columns})
        if conflict is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[conflict])
        self.sql = str(statement.compile(dialect=dialect))

    def values(self, row: dict[str, Any], convert_time: bool) -> tuple[Any, ...]:
        out = []
        for name in self.columns:
            value = row.get(name)
            if name in self.json_columns and value is not None:
                value = orjson.dumps(value).decode()
            elif convert_time and isinstance(value, datetime):
                value = _sqlite_time(value)
            out.append(value)
        return tuple(out)


_CHUNK = 64  # rows converted between turns of the event loop


async def _converted(
    statement: _Statement, rows: Sequence[dict[str, Any]], *, convert_time: bool
) -> list[tuple[Any, ...]]:
    """The driver's values for ``rows``; a large batch (the trace store's few hundred) lets
    the loop serve requests between chunks instead of holding them for milliseconds."""
    values = [statement.values(row, convert_time) for row in rows[:_CHUNK]]
    for start in range(_CHUNK, len(rows), _CHUNK):
        await asyncio.sleep(0)
        values.extend(statement.values(row, convert_time) for row in rows[start : start + _CHUNK])
    return values


class BulkSink(Protocol):
    async def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DateTime format, naive UTC (what UTCDateTime reads back).
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


class SqliteBulkSink:
    """Batches through one dedicated thread and its own connection (WAL, as the engine);
    with ``inline``, on the loop's thread first (see the module docstring)."""

    def __init__(
        self, path: str, table: Table, conflict: str | None = None, *, inline: bool = False
    ) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{table.name}-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._inline = inline
        self._inline_connection: sqlite3.Connection | None = None
        self._statement = _Statement(
            table, conflict, sqlite_insert, SQLiteDialect(paramstyle="qmark")
        )
        self._sql = self._statement.sql
        self._since_checkpoint = 0
        self.deferred = 0  # inline batches handed to the thread: the lock was taken

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        values = await _converted(self._statement, rows, convert_time=True)
        if self._inline and self._write_inline(values):
            return
        await asyncio.get_running_loop().run_in_executor(self._thread, self._write, values)

    def _write_inline(self, values: list[tuple[Any, ...]]) -> bool:
        """Commit on this thread if nobody holds the write lock; False: the thread must."""
        connection = self._inline_connection
        if connection is None:
            connection = self._inline_connection = _connect(self._path, busy_timeout_ms=0)
            connection.execute("PRAGMA wal_autocheckpoint=0")  # the thread checkpoints
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode not in _LOCKED:
                raise
            self.deferred += 1
            return False
        self._commit(connection, values)
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            self._thread.submit(self._checkpoint)
        return True

    def _checkpoint(self) -> None:
        try:
            self._thread_connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:  # the next one will do; readers may hold the WAL
            log.warning("WAL checkpoint failed", exc_info=True)

    def _thread_connection(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = _connect(self._path, busy_timeout_ms=5000)
        return self._connection

    def _write(self, values: list[tuple[Any, ...]]) -> None:
        connection = self._thread_connection()
        connection.execute("BEGIN IMMEDIATE")
        self._commit(connection, values)

    def _commit(self, connection: sqlite3.Connection, values: list[tuple[Any, ...]]) -> None:
        """Insert ``values`` in the transaction ``connection`` has begun, and commit."""
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
        if self._inline_connection is not None:
            self._inline_connection.close()
            self._inline_connection = None


_LOCKED = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _connect(path: str, *, busy_timeout_ms: int) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


class PostgresBulkSink:
    """Batches through a small asyncpg pool: one transaction, one ``executemany``."""

    def __init__(self, dsn: str, table: Table, conflict: str | None = None) -> None:
        self._dsn = dsn
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._statement = _Statement(
            table,
            conflict,
            postgresql_insert,
            PGDialect_asyncpg(),  # type: ignore[no-untyped-call]
        )
        self._sql = self._statement.sql

    async def _connections(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=2)
        return self._pool

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        values = await _converted(self._statement, rows, convert_time=False)
        pool = await self._connections()
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(self._sql, values)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def bulk_sink(
    database: Database, table: Table, *, conflict: str | None = None, inline: bool = False
) -> BulkSink:
    """The sink for ``database``'s dialect; ``inline`` matters to SQLite only (asyncpg
    never leaves the loop's thread)."""
    url = make_url(database.url)
    if database.dialect == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresBulkSink(dsn, table, conflict)
    if not url.database or url.database == ":memory:":
        raise ValueError("batch writers need a SQLite file, not an in-memory database")
    return SqliteBulkSink(url.database, table, conflict, inline=inline)
