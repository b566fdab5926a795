"""The trace store's writer: every request's diagnostics saved off the hot path.

:meth:`TraceWriter.submit` never waits: it appends to a bounded in-memory queue and
returns. A background task redacts and inserts what is queued in batches, every
``interval`` seconds (200 ms) or as soon as ``batch_size`` traces wait; when the
database cannot keep up and the queue is full the oldest traces are dropped and
counted, never the request. The same task deletes traces older than the retention
(``GATEWAY_TRACE_RETENTION``, 14 days) at start and every hour. Traces are diagnostics:
a failed insert is logged and counted, not retried::

    writer = TraceWriter(database, retention=timedelta(days=14))
    await writer.start()
    writer.submit(usage, calls, status=200, trace=trace, variables=variables, errors=errors)
    await writer.close()  # on shutdown: what is queued is written first

Redaction happens in the background task too (``_trace_row``): variables keep IDs,
numbers, enum values and dates and lose names, emails and free text
(:func:`observability.scrub.redact_variables`); error messages lose keys and emails.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, cast

from sqlalchemy import Table

from backend.client import BackendCall
from metering.ledger import UsageRecord
from observability.calls import CallLog
from observability.logging import get_logger
from observability.scrub import redact_variables, scrub_text
from observability.traceparent import TraceContext
from settings import Settings
from storage.bulk_insert import bulk_sink
from storage.database import Database
from storage.models import RequestTrace
from storage.traces import TraceRepository

__all__ = ["DEFAULT_RETENTION", "StoreMode", "TraceWriter"]

log = get_logger("gateway.traces")

DEFAULT_RETENTION: Final = timedelta(days=14)
StoreMode = Literal["all", "errors", "off"]
_MAX_ERRORS: Final = 20
_MAX_MESSAGE: Final = 500
_MAX_PATH: Final = 12
_MAX_CALLS: Final = 200
YIELD_EVERY: Final = 32  # rows built and committed between turns of the event loop


@dataclass(frozen=True, slots=True)
class _Pending:
    usage: UsageRecord
    calls: Sequence[BackendCall]
    status: int
    trace_id: str | None
    variables: Mapping[str, Any] | None
    errors: Sequence[Mapping[str, Any]]


class TraceWriter:
    """Queues request traces and writes them in batches from one background task."""

    def __init__(
        self,
        database: Database,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        mode: StoreMode = "all",
        max_queue: int = 10_000,
        batch_size: int = 500,
        interval: float = 0.2,
        purge_interval: float = 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self._repository = TraceRepository(database)
        # Inserts skip the ORM: a trace per request is too many for a session each batch.
        self._sink = bulk_sink(database, cast(Table, RequestTrace.__table__))
        self._retention = retention
        self._mode = mode
        self._queue: deque[_Pending] = deque(maxlen=max_queue)
        self._batch_size = batch_size
        self._interval = interval
        self._purge_interval = purge_interval
        self._clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.dropped = 0  # queued traces pushed out by newer ones: the store fell behind
        self.failed = 0  # traces lost to failed inserts
        self.written = 0
        self.purged = 0

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> TraceWriter:
        return cls(database, retention=settings.trace_retention, mode=settings.trace_store)

    @property
    def pending(self) -> int:
        """Traces queued and not yet written."""
        return len(self._queue)

    async def start(self) -> None:
        """Start the background task (it purges expired traces first). Idempotent."""
        if self._task is None and self._mode != "off":
            self._task = asyncio.create_task(self._run(), name="trace-writer")

    def submit(
        self,
        usage: UsageRecord,
        calls: Sequence[BackendCall] = (),
        *,
        status: int,
        trace: TraceContext | None = None,
        variables: Mapping[str, Any] | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Queue one request's trace; never waits, never raises for a full queue.

        ``usage`` and ``calls`` must not change afterwards (they are read later, in the
        background); ``errors`` are the error entries the partner was sent (``message``,
        ``path``, ``extensions.code``); ``variables`` as the partner sent them.
        """
        if self._mode == "off" or (self._mode == "errors" and usage.outcome == "ok"):
            return
        if self._closing or self._task is None:
            self.dropped += 1
            return
        queue = self._queue
        if len(queue) == queue.maxlen:
            self.dropped += 1  # deque(maxlen) drops the oldest on append
        trace_id = trace.trace_id if trace is not None else None
        queue.append(_Pending(usage, calls, status, trace_id, variables, errors))
        if len(queue) == 1 or len(queue) >= self._batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Write everything queued now (tests; :meth:`close` does it on shutdown)."""
        while self._queue:
            await self._write_batch()

    async def purge(self) -> int:
        """Delete traces older than the retention now; returns how many."""
        deleted = await self._repository.purge(before=self._clock() - self._retention)
        self.purged += deleted
        if deleted:
            log.info("expired traces deleted", count=deleted)
        return deleted

    async def close(self) -> None:
        """Write what is queued, then stop the background task."""
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        if self._queue:  # never started: nothing to write with
            self.dropped += len(self._queue)
            self._queue.clear()
        await self._sink.close()
        if self.dropped or self.failed:
            log.warning("traces not stored", dropped=self.dropped, failed=self.failed)

    async def _run(self) -> None:
        next_purge = time.monotonic()
        while True:
            if time.monotonic() >= next_purge and not self._closing:
                await self._purge_logged()
                next_purge = time.monotonic() + self._purge_interval
            if not self._queue and not self._closing:
                await self._wait(next_purge - time.monotonic())  # the first trace wakes it
            if self._queue and len(self._queue) < self._batch_size and not self._closing:
                await self._wait(self._interval)  # gather a batch; a full one wakes it
            await self.flush()
            if self._closing and not self._queue:
                return

    async def _wait(self, seconds: float) -> None:
        """Until :meth:`submit` or :meth:`close` wakes the task, or ``seconds`` pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._wake.wait()
        self._wake.clear()

    async def _purge_logged(self) -> None:
        try:
            await self.purge()
        except Exception as exc:  # retried at the next interval
            log.warning("trace purge failed", error=repr(exc))

    async def _write_batch(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
        for start in range(0, len(batch), YIELD_EVERY):
            if start:
                # A batch is a few hundred rows: built and inserted in one go, it held up
                # every request in flight for milliseconds (the p99, docs/performance.md).
                await asyncio.sleep(0)
            await self._write_rows(batch[start : start + YIELD_EVERY])

    async def _write_rows(self, pendings: list[_Pending]) -> None:
        """Build and insert a few traces in one transaction (SQLite: on the loop's thread)."""
        rows = []
        for pending in pendings:
            try:
                rows.append(_trace_row(pending))
            except Exception as exc:  # one odd trace must not lose the others
                self.failed += 1
                request_id = pending.usage.request_id
                log.warning("trace not stored", request_id=request_id, error=repr(exc))
        if not rows:
            return
        try:
            await self._sink.write(rows)
        except Exception as exc:
            self.failed += len(rows)
            log.warning("trace batch not stored", count=len(rows), error=repr(exc))
        else:
            self.written += len(rows)


def _trace_row(pending: _Pending) -> dict[str, Any]:
    """The ``request_traces`` row for one queued trace, redacted."""
    usage = pending.usage
    return {
        "request_id": usage.request_id[:128],
        "trace_id": pending.trace_id,
        "at": usage.at,
        "company_id": usage.company_id,
        "key_id": usage.key_id,
        "operation_name": usage.operation_name[:128] if usage.operation_name else None,
        "operation_type": usage.operation_type,
        "outcome": usage.outcome[:16],
        "status": pending.status,
        "error_codes": ",".join(usage.error_codes)[:300],
        "errors": [_error(entry) for entry in pending.errors[:_MAX_ERRORS]],
        "duration_ms": usage.duration_ms,
        "variables": None if pending.variables is None else redact_variables(pending.variables),
        "backend_calls": _calls(pending.calls, usage.at),
    }


def _error(entry: Mapping[str, Any]) -> dict[str, Any]:
    extensions = entry.get("extensions")
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    path = entry.get("path") or ()
    return {
        "code": str(code or ""),
        "message": scrub_text(str(entry.get("message", "")))[:_MAX_MESSAGE],
        "path": [p if isinstance(p, int) else str(p)[:128] for p in list(path)[:_MAX_PATH]],
    }


def _calls(calls: Sequence[BackendCall], at: datetime) -> list[dict[str, Any]]:
    ended = calls.ended_ns if isinstance(calls, CallLog) else None
    start_ns = int(at.timestamp() * 1_000_000_000)
    rows = []
    for index, call in enumerate(calls[:_MAX_CALLS]):
        offset = None
        if ended is not None and index < len(ended):
            offset = max(0.0, round((ended[index] - start_ns) / 1e6 - call.duration_ms, 3))
        rows.append(
            {
                "method": call.method,
                "path": call.path_template,
                "status": call.status,
                "duration_ms": round(call.duration_ms, 3),
                "offset_ms": offset,
                "attempt": call.attempt,
                "retry_reason": call.retry_reason,
                "error": call.error,
            }
        )
    return rows
