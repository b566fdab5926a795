"""The trace writer on SQLite and PostgreSQL: batches off the hot path, redaction, drops when
overwhelmed, flush on close, and the retention purge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.client import BackendCall
from metering.ledger import UsageRecord
from observability import trace_store
from observability.calls import open_call_log, record_call
from observability.trace_store import TraceWriter
from observability.traceparent import new_trace
from storage.database import Database
from storage.traces import TraceRepository

COMPANY = "co_0123456789abcdef"


def _usage(request_id: str, **values: Any) -> UsageRecord:
    defaults: dict[str, Any] = {
        "outcome": "ok",
        "duration_ms": 15.0,
        "company_id": COMPANY,
        "key_id": "AbCdEf012345",
        "operation_name": "IssueCredential",
        "operation_type": "mutation",
    }
    return UsageRecord(request_id=request_id, **{**defaults, **values})


async def _until(condition: Callable[[], bool]) -> None:
    """Wait for the background task to make ``condition`` true (failing after 5 s)."""
    deadline = time.monotonic() + 5.0
    while not condition():
        assert time.monotonic() < deadline, "the writer did not get there in time"
        await asyncio.sleep(0.01)


async def test_a_trace_is_stored_redacted_with_its_backend_timeline(database: Database) -> None:
    writer = TraceWriter(database, interval=0.05)
    await writer.start()
    usage = _usage("req-issue", outcome="error", error_codes=("BACKEND_UNAVAILABLE",))
    calls = open_call_log()
    record_call(BackendCall("POST", "/api/v1/credentials/", 503, 3.5, 1, None, "req-issue"))
    record_call(BackendCall("POST", "/api/v1/credentials/", 503, 2.25, 2, "http_503", "req-issue"))
    trace = new_trace(sampled=True)
    writer.submit(
        usage,
        calls,
        status=200,
        trace=trace,
        variables={
            "input": {
                "badgeId": "42",
                "recipient": {"email": "ada@example.com", "firstName": "Ada"},
                "idempotencyKey": "order-0001",
            }
        },
        errors=[
            {
                "message": "The backend is unavailable for ada@example.com.",
                "path": ["issueCredential"],
                "extensions": {"code": "BACKEND_UNAVAILABLE", "requestId": "req-issue"},
            }
        ],
    )
    await _until(lambda: writer.written == 1)

    (found,) = await TraceRepository(database).find("req-issue")
    assert (found.company_id, found.operation_name, found.outcome, found.status) == (
        COMPANY,
        "IssueCredential",
        "error",
        200,
    )
    assert found.trace_id == trace.trace_id
    assert found.error_codes == ("BACKEND_UNAVAILABLE",)
    (error,) = found.errors
    assert (error.code, error.message, error.path) == (
        "BACKEND_UNAVAILABLE",
        "The backend is unavailable for [EMAIL].",
        ("issueCredential",),
    )
    assert found.variables == {
        "input": {
            "badgeId": "42",
            "recipient": {"email": "[REDACTED]", "firstName": "[REDACTED]"},
            "idempotencyKey": "order-0001",
        }
    }
    first, retry = found.backend_calls
    assert (first.status, first.attempt, first.retry_reason) == (503, 1, None)
    assert (retry.attempt, retry.retry_reason, retry.duration_ms) == (2, "http_503", 2.25)
    assert first.offset_ms is not None and retry.offset_ms is not None
    assert 0 <= first.offset_ms <= retry.offset_ms + 3.5
    assert found.at == usage.at
    await writer.close()


async def test_submit_never_waits_and_a_full_batch_is_written_at_once(
    database: Database,
) -> None:
    writer = TraceWriter(database, batch_size=3, interval=3600)
    await writer.start()
    for index in range(3):
        assert writer.submit(_usage(f"req-{index}"), status=200) is None  # type: ignore[func-returns-value]
    assert writer.pending == 3  # queued, not written: submit did not await anything
    await _until(lambda: writer.written == 3)  # long before the hour-long interval
    await writer.close()


async def test_overwhelmed_the_writer_drops_the_oldest_and_counts(database: Database) -> None:
    writer = TraceWriter(database, max_queue=3, interval=3600)
    await writer.start()
    for index in range(5):
        writer.submit(_usage(f"req-{index}"), status=200)
    assert (writer.pending, writer.dropped) == (3, 2)
    await writer.close()  # flushes what is queued
    stored = await TraceRepository(database).search(company_id=COMPANY)
    assert sorted(t.request_id for t in stored) == ["req-2", "req-3", "req-4"]
    assert writer.written == 3


async def test_errors_mode_keeps_only_requests_that_did_not_succeed(database: Database) -> None:
    writer = TraceWriter(database, mode="errors")
    await writer.start()
    writer.submit(_usage("req-ok"), status=200)
    writer.submit(_usage("req-throttled", outcome="throttled"), status=429)
    await writer.close()
    stored = await TraceRepository(database).search()
    assert [t.request_id for t in stored] == ["req-throttled"]


async def test_off_mode_stores_nothing_and_starts_no_task(database: Database) -> None:
    writer = TraceWriter(database, mode="off")
    await writer.start()
    writer.submit(_usage("req-1", outcome="error"), status=500)
    await writer.close()
    assert await TraceRepository(database).search() == []
    assert writer.dropped == 0


async def test_traces_older_than_the_retention_are_purged(database: Database) -> None:
    now = datetime.now(UTC)
    writer = TraceWriter(database, retention=timedelta(days=14), clock=lambda: now)
    await writer.start()
    for request_id, age in (("old", 15), ("edge", 14), ("recent", 13)):
        usage = _usage(request_id)
        usage.at = now - timedelta(days=age, seconds=1 if age == 14 else 0)
        writer.submit(usage, status=200)
    writer.submit(_usage("now"), status=200)
    await writer.flush()
    await writer.purge()
    # The writer's own start-up purge may have got there first: together, exactly two.
    assert writer.purged == 2
    stored = await TraceRepository(database).search()
    assert sorted(t.request_id for t in stored) == ["now", "recent"]
    await writer.close()


async def test_a_starting_writer_purges_expired_traces(database: Database) -> None:
    old = _usage("expired")
    old.at = datetime.now(UTC) - timedelta(days=30)
    seeding = TraceWriter(database)
    await seeding.start()
    seeding.submit(old, status=200)
    await seeding.close()
    assert len(await TraceRepository(database).find("expired")) == 1

    writer = TraceWriter(database, retention=timedelta(days=7))
    await writer.start()
    await _until(lambda: writer.purged == 1)
    assert await TraceRepository(database).find("expired") == []
    await writer.close()


async def test_purging_many_rows_goes_in_chunks(database: Database) -> None:
    now = datetime.now(UTC)
    writer = TraceWriter(database, batch_size=1000)
    await writer.start()
    for index in range(25):
        usage = _usage(f"old-{index}")
        usage.at = now - timedelta(days=20)
        writer.submit(usage, status=200)
    await writer.close()
    repository = TraceRepository(database)
    assert await repository.purge(before=now, chunk=10) == 25
    assert await repository.search() == []


async def test_a_database_that_fails_loses_traces_not_requests(tmp_path: Path) -> None:
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'gateway.db'}")
    writer = TraceWriter(broken, interval=0.01)
    await writer.start()
    writer.submit(_usage("req-lost"), status=200)
    await _until(lambda: writer.failed == 1)
    await writer.close()
    assert writer.written == 0
    await broken.dispose()


async def test_submitting_before_start_or_after_close_is_counted_as_dropped(
    database: Database,
) -> None:
    writer = TraceWriter(database)
    writer.submit(_usage("early"), status=200)
    await writer.start()
    await writer.close()
    writer.submit(_usage("late"), status=200)
    assert writer.dropped == 2


async def test_retention_must_be_positive(tmp_path: Path) -> None:
    async with Database(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}") as database:
        with pytest.raises(ValueError, match="retention"):
            TraceWriter(database, retention=timedelta(0))


async def test_a_large_batch_lets_requests_run_while_its_rows_are_built(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = TraceWriter(database, interval=60.0)  # only the flush below writes
    await writer.start()
    for index in range(200):
        writer.submit(_usage(f"req-{index}"), status=200)
    other_request_ran: list[bool] = []
    seen_by_row: list[bool] = []
    build = trace_store._trace_row

    def watched(pending: Any) -> dict[str, Any]:
        seen_by_row.append(bool(other_request_ran))
        return build(pending)

    monkeypatch.setattr(trace_store, "_trace_row", watched)

    async def other_request() -> None:
        other_request_ran.append(True)

    task = asyncio.create_task(other_request())  # runs at the loop's next turn
    await writer.flush()
    await task
    await writer.close()
    assert writer.written == 200
    # It ran between rows of the batch, not only once the whole batch was built.
    assert seen_by_row[0] is False
    assert seen_by_row.index(True) <= trace_store.YIELD_EVERY
