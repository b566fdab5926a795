"""Batch inserts at driver level: one insert-many and one commit per batch.

The usage ledger and the trace store write a row per request, so their batches skip the
ORM session: SQLite gets a stdlib ``sqlite3`` connection per file (:class:`SqliteWriter`),
PostgreSQL an asyncpg pool and ``executemany``. The SQL is compiled from the SQLAlchemy
table, so the schema has one source (``storage.models`` and the migrations)::

    sink = bulk_sink(database, UsageEvent.__table__, conflict="event_id")
    await sink.write([row, row, ...])   # committed when it returns
    await sink.close()

SQLite batches commit on the event loop's own thread when the write lock is free at
once, and go to a writer thread only when another connection holds it. With the gateway
on one core the thread never ran in parallel anyway: handing it a batch and waking the
loop again cost ~90 µs of CPU, more than committing a few rows (~55 µs plus ~13 a row,
docs/performance.md). The loop's connection never checkpoints the WAL itself (a
checkpoint may wait on ``fsync``); the writer thread runs a passive checkpoint every
:data:`CHECKPOINT_EVERY` inline commits.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, ClassVar, Protocol

import asyncpg
import orjson
from sqlalchemy import JSON, DateTime, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import make_url

from storage.database import Database

__all__ = [
    "CHECKPOINT_EVERY",
    "BulkSink",
    "PostgresBulkSink",
    "SqliteBulkSink",
    "SqliteWriter",
    "bulk_sink",
]

CHECKPOINT_EVERY = 256  # inline commits between the writer thread's passive checkpoints

log = logging.getLogger(__name__)


class _Statement:
    """``INSERT`` of every column but an autoincrement key, ``ON CONFLICT (conflict) DO
    NOTHING`` when given, in the driver's parameter style, compiled by SQLAlchemy.

    A row is a dict with a value for every inserted column (a missing one is a bug, and
    raises ``KeyError``); :meth:`values` picks them in order with one ``itemgetter`` and
    converts only the JSON and time columns: the per-column loop it replaces cost more
    than the SQLite insert itself."""

    def __init__(self, table: Table, conflict: str | None, insert: Any, dialect: Any) -> None:
        self.columns = tuple(
            c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)
        )
        inserted = [table.columns[name] for name in self.columns]
        self._pick = itemgetter(*self.columns)
        self._json_at = tuple(i for i, c in enumerate(inserted) if isinstance(c.type, JSON))
        self._time_at = tuple(i for i, c in enumerate(inserted) if _is_datetime(c))
        statement = insert(table).values({name: bindparam(name) for name in self.columns})
        if conflict is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[conflict])
        self.sql = str(statement.compile(dialect=dialect))

    def values(self, row: dict[str, Any], convert_time: bool) -> list[Any]:
        out = list(self._pick(row))
        for index in self._json_at:
            value = out[index]
            if value is not None:
                out[index] = orjson.dumps(value).decode()
        if convert_time:
            for index in self._time_at:
                value = out[index]
                if isinstance(value, datetime):
                    out[index] = _sqlite_time(value)
        return out


def _is_datetime(column: Any) -> bool:
    kind = column.type
    return isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime)


class BulkSink(Protocol):
    async def write(self, rows: Sequence[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


_SQLITE_TIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _sqlite_time(value: datetime) -> str:
    """SQLAlchemy's SQLite DateTime format, naive UTC (what UTCDateTime reads back).

    Formatted from the fields: ``replace`` then ``isoformat`` took 1.5 µs here, twice
    per request (the ledger's row and the trace's), this 0.8."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return _SQLITE_TIME % (
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


class SqliteWriter:
    """Every batch insert into one SQLite file from this process, shared by its sinks.

    One connection on the event loop's thread commits when the write lock is free at
    once; a writer thread with a connection of its own takes a batch only when another
    connection holds the lock, and runs a passive WAL checkpoint every
    :data:`CHECKPOINT_EVERY` inline commits. The usage ledger and the trace store share
    it: SQLite empties a connection's page cache whenever another connection has written,
    so two writers to one file re-read each other's pages on every commit (about 30 µs a
    commit here, more than the inserts).
    """

    _by_path: ClassVar[dict[str, SqliteWriter]] = {}

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._thread_connection: sqlite3.Connection | None = None
        self._inline_connection: sqlite3.Connection | None = None
        self._since_checkpoint = 0
        self._users = 0
        self.deferred = 0  # batches handed to the thread: the lock was taken

    @classmethod
    def acquire(cls, path: str) -> SqliteWriter:
        """The process's writer for ``path``; :meth:`release` it when done."""
        writer = cls._by_path.get(path)
        if writer is None:
            writer = cls._by_path[path] = cls(path)
        writer._users += 1
        return writer

    async def release(self) -> None:
        """Give the writer back; the last user closes its connections and thread."""
        self._users -= 1
        if self._users > 0:
            return
        if SqliteWriter._by_path.get(self.path) is self:
            del SqliteWriter._by_path[self.path]
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close_thread)
        self._thread.shutdown(wait=True)
        if self._inline_connection is not None:
            self._inline_connection.close()
            self._inline_connection = None

    async def commit(self, sql: str, values: list[list[Any]]) -> None:
        """Insert ``values`` with ``sql`` in one transaction; committed when it returns."""
        if not self._commit_inline(sql, values):
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._thread, self._commit_on_thread, sql, values)

    def _commit_inline(self, sql: str, values: list[list[Any]]) -> bool:
        """Commit on this thread if nobody holds the write lock; False: the thread must."""
        connection = self._inline_connection
        if connection is None:
            connection = self._inline_connection = _connect(self.path, busy_timeout_ms=0)
            connection.execute("PRAGMA wal_autocheckpoint=0")  # the thread checkpoints
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode not in _LOCKED:
                raise
            self.deferred += 1
            return False
        _insert_and_commit(connection, sql, values)
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            self._thread.submit(self._checkpoint)
        return True

    def _connection(self) -> sqlite3.Connection:  # on the thread only
        if self._thread_connection is None:
            self._thread_connection = _connect(self.path, busy_timeout_ms=5000)
        return self._thread_connection

    def _commit_on_thread(self, sql: str, values: list[list[Any]]) -> None:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        _insert_and_commit(connection, sql, values)

    def _checkpoint(self) -> None:
        try:
            self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:  # the next one will do; readers may hold the WAL
            log.warning("WAL checkpoint failed", exc_info=True)

    def _close_thread(self) -> None:
        if self._thread_connection is not None:
            self._thread_connection.close()
            self._thread_connection = None


def _insert_and_commit(connection: sqlite3.Connection, sql: str, values: list[list[Any]]) -> None:
    """Insert ``values`` in the transaction ``connection`` has begun, and commit."""
    try:
        connection.executemany(sql, values)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class SqliteBulkSink:
    """One table's batches, committed through the file's shared :class:`SqliteWriter`."""

    def __init__(self, path: str, table: Table, conflict: str | None = None) -> None:
        self.writer = SqliteWriter.acquire(path)
        self._statement = _Statement(
            table, conflict, sqlite_insert, SQLiteDialect(paramstyle="qmark")
        )
        self._closed = False

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        values = [self._statement.values(row, True) for row in rows]
        await self.writer.commit(self._statement.sql, values)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.writer.release()


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
        values = [self._statement.values(row, False) for row in rows]
        pool = await self._connections()
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(self._sql, values)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def bulk_sink(database: Database, table: Table, *, conflict: str | None = None) -> BulkSink:
    """The sink for ``database``'s dialect."""
    url = make_url(database.url)
    if database.dialect == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresBulkSink(dsn, table, conflict)
    if not url.database or url.database == ":memory:":
        raise ValueError("batch writers need a SQLite file, not an in-memory database")
    return SqliteBulkSink(url.database, table, conflict)
