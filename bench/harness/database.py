"""The gateway's database for one benchmark run, and a probe of its usage ledger.

SQLite: a fresh file in the run's temporary directory. PostgreSQL: a fresh database
(``gw_bench_<hex>``) created on the server of ``--postgres-url`` and dropped at the end::

    with BenchDatabase.create("postgresql", tmp, DEFAULT_POSTGRES_URL) as db:
        before = db.ledger()
        ...  # load the gateway
        after = db.ledger()
        print(after.rows - before.rows, after.commits - before.commits)

**Counting commits from outside the gateway.** On PostgreSQL every row keeps the ID of the
transaction that inserted it (``xmin``), so ``count(DISTINCT xmin)`` over ``usage_events``
is the number of ledger commits, exactly. SQLite in WAL mode counts write transactions
in the WAL index header (``iChange``, at byte 8 of the ``-shm`` file, native byte order):
the difference is every write transaction, the ledger's and the few of the key flush.
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import asyncpg

__all__ = ["DEFAULT_POSTGRES_URL", "BenchDatabase", "LedgerCounts"]

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class LedgerCounts:
    rows: int  # usage_events rows
    commits: int | None  # transactions that wrote them (None: cannot tell)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(admin_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _postgres_ledger(url: str) -> LedgerCounts:
    connection = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS rows, count(DISTINCT xmin::text) AS commits FROM usage_events"
        )
        return LedgerCounts(rows=int(row["rows"]), commits=int(row["commits"]))
    finally:
        await connection.close()


@dataclass
class BenchDatabase:
    kind: str  # "sqlite" or "postgresql"
    url: str  # what the gateway gets as GATEWAY_DATABASE_URL
    admin_url: str | None = None
    name: str | None = None
    sqlite_path: Path | None = None

    @classmethod
    def create(cls, kind: str, directory: Path, postgres_url: str) -> BenchDatabase:
        if kind == "sqlite":
            path = directory / "gateway.db"
            return cls(kind, f"sqlite+aiosqlite:///{path}", sqlite_path=path)
        if kind != "postgresql":
            raise ValueError(f"unknown database kind {kind!r}")
        name = f"gw_bench_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
        return cls(kind, f"{postgres_url.rsplit('/', 1)[0]}/{name}", postgres_url, name)

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite (fresh file, WAL): {self.sqlite_path}"
        return f"PostgreSQL (fresh database {self.name}, dropped afterwards)"

    def ledger(self) -> LedgerCounts:
        if self.kind == "postgresql":
            return asyncio.run(_postgres_ledger(self.url))
        assert self.sqlite_path is not None
        with closing(sqlite3.connect(self.sqlite_path)) as connection:
            (rows,) = connection.execute("SELECT count(*) FROM usage_events").fetchone()
        return LedgerCounts(rows=int(rows), commits=self._sqlite_write_transactions())

    def _sqlite_write_transactions(self) -> int | None:
        assert self.sqlite_path is not None
        shm = self.sqlite_path.with_name(self.sqlite_path.name + "-shm")
        try:
            with shm.open("rb") as file:
                header = file.read(12)
        except OSError:
            return None
        if len(header) < 12:
            return None
        (changes,) = struct.unpack("=I", header[8:12])
        return int(changes)

    def drop(self) -> None:
        if self.kind == "postgresql" and self.admin_url is not None and self.name is not None:
            asyncio.run(
                _admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            )
            self.name = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.drop()
