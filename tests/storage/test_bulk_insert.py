"""The SQLite batch writer: inline commits on the loop's thread, the thread when locked."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Table
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import make_url

import storage.bulk_insert as bulk_insert
from metering.ledger import UsageRecord
from storage.bulk_insert import SqliteBulkSink
from storage.models import RequestTrace, UsageEvent

USAGE_EVENTS = cast(Table, UsageEvent.__table__)


@pytest.fixture
def sqlite_path(sqlite_database_url: str) -> str:
    path = make_url(sqlite_database_url).database
    assert path is not None
    return path


def _row(index: int) -> dict[str, Any]:
    return UsageRecord(request_id=f"req-{index}", outcome="ok", duration_ms=1.0).row()


def _file_size(path: str) -> int:
    return Path(path).stat().st_size


def _request_ids(path: str) -> list[str]:
    with sqlite3.connect(path) as reader:
        return [r[0] for r in reader.execute("SELECT request_id FROM usage_events ORDER BY 1")]


async def test_inline_batches_are_committed_when_write_returns(sqlite_path: str) -> None:
    sink = SqliteBulkSink(sqlite_path, USAGE_EVENTS, "event_id")
    try:
        await sink.write([_row(1), _row(2)])
        # Another connection sees them at once: committed, not merely queued.
        assert _request_ids(sqlite_path) == ["req-1", "req-2"]
        assert sink.writer.deferred == 0
    finally:
        await sink.close()


async def test_a_locked_database_sends_the_batch_to_the_writer_thread(sqlite_path: str) -> None:
    blocker = sqlite3.connect(sqlite_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    sink = SqliteBulkSink(sqlite_path, USAGE_EVENTS, "event_id")
    try:
        write = asyncio.create_task(sink.write([_row(1)]))
        await asyncio.sleep(0)  # the inline attempt runs up to the thread hand-off
        assert sink.writer.deferred == 1  # the loop did not wait for the lock
        assert not write.done()
        blocker.execute("COMMIT")
        await write  # the thread waited for the lock (busy_timeout), then committed
        assert _request_ids(sqlite_path) == ["req-1"]
    finally:
        blocker.close()
        await sink.close()


async def test_a_failed_inline_batch_is_rolled_back_and_raised(sqlite_path: str) -> None:
    sink = SqliteBulkSink(sqlite_path, USAGE_EVENTS)  # no ON CONFLICT
    row = _row(1)
    try:
        await sink.write([row])
        with pytest.raises(sqlite3.IntegrityError):
            await sink.write([_row(2), row])  # the same event_id again
        assert _request_ids(sqlite_path) == ["req-1"]  # req-2 rolled back with it
        await sink.write([_row(3)])  # the connection is usable again
        assert _request_ids(sqlite_path) == ["req-1", "req-3"]
    finally:
        await sink.close()


async def test_the_writer_thread_checkpoints_the_wal_of_inline_commits(
    sqlite_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk_insert, "CHECKPOINT_EVERY", 5)
    size_before = _file_size(sqlite_path)
    # Open throughout: closing the last connection would checkpoint by itself.
    bystander = sqlite3.connect(sqlite_path)
    bystander.execute("SELECT count(*) FROM usage_events").fetchall()  # now a WAL user
    try:
        sink = SqliteBulkSink(sqlite_path, USAGE_EVENTS, "event_id")
        for index in range(200):  # many pages' worth of rows, each its own commit
            await sink.write([_row(index)])
        await sink.close()  # runs after the checkpoints queued on the same thread
        # The inline connection never checkpoints; the rows reached the database file
        # only because the thread copied them there from the WAL.
        assert _file_size(sqlite_path) > size_before
        assert len(_request_ids(sqlite_path)) == 200
    finally:
        bystander.close()


async def test_sinks_of_one_file_share_its_writer_until_the_last_one_closes(
    sqlite_path: str,
) -> None:
    # One connection for the ledger and the trace store: SQLite drops a connection's
    # page cache whenever another one has written the file.
    ledger = SqliteBulkSink(sqlite_path, USAGE_EVENTS, "event_id")
    traces = SqliteBulkSink(sqlite_path, cast(Table, RequestTrace.__table__))
    assert ledger.writer is traces.writer
    await traces.close()
    await traces.close()  # closing twice gives the writer back once
    await ledger.write([_row(1)])  # the ledger's writer is still open
    assert _request_ids(sqlite_path) == ["req-1"]
    await ledger.close()
    again = SqliteBulkSink(sqlite_path, USAGE_EVENTS, "event_id")
    try:
        assert again.writer is not ledger.writer  # the closed one is not handed out
        await again.write([_row(2)])
        assert _request_ids(sqlite_path) == ["req-1", "req-2"]
    finally:
        await again.close()


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
        ),
    )
)
def test_times_are_written_as_sqlalchemy_writes_them(value: datetime) -> None:
    """What the sink writes is what the ORM writes and reads back, as UTC."""
    orm_format = DATETIME().bind_processor(SQLiteDialect())  # type: ignore[no-untyped-call]
    assert orm_format is not None
    assert bulk_insert._sqlite_time(value) == orm_format(value.astimezone(UTC).replace(tzinfo=None))
