"""Reading and writing stored request traces (``request_traces``).

The trace writer inserts rows in batches and purges old ones; the CLI and the partner's
``requestTrace`` query read them back as :class:`TraceRecord`::

    traces = TraceRepository(database)
    await traces.insert(rows)
    found = await traces.find("01JD9...")                       # every company's (CLI)
    mine = await traces.latest("01JD9...", company_id="co_...")  # one company's (partners)
    recent = await traces.search(company_id="co_...", since=an_hour_ago, outcome="error")
    await traces.purge(before=now - timedelta(days=14))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from storage.database import Database
from storage.models import RequestTrace

__all__ = ["BackendCallRecord", "TraceErrorRecord", "TraceRecord", "TraceRepository"]

_PURGE_CHUNK = 5_000
_MAX_FIND = 20


@dataclass(frozen=True, slots=True)
class BackendCallRecord:
    """One backend HTTP attempt of a request, ``offset_ms`` after the request started."""

    method: str
    path: str
    status: int | None
    duration_ms: float
    offset_ms: float | None
    attempt: int
    retry_reason: str | None
    error: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BackendCallRecord:
        return cls(
            method=str(data.get("method", "")),
            path=str(data.get("path", "")),
            status=data.get("status"),
            duration_ms=float(data.get("duration_ms", 0.0)),
            offset_ms=data.get("offset_ms"),
            attempt=int(data.get("attempt", 1)),
            retry_reason=data.get("retry_reason"),
            error=data.get("error"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "offset_ms": self.offset_ms,
            "attempt": self.attempt,
            "retry_reason": self.retry_reason,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class TraceErrorRecord:
    """An error the partner was sent: its code, public message and path."""

    code: str
    message: str
    path: tuple[str | int, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TraceErrorRecord:
        return cls(
            code=str(data.get("code", "")),
            message=str(data.get("message", "")),
            path=tuple(data.get("path") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "path": list(self.path)}


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One stored request trace (already redacted when it was written)."""

    request_id: str
    trace_id: str | None
    at: datetime
    company_id: str | None
    key_id: str | None
    operation_name: str | None
    operation_type: str | None
    outcome: str
    status: int
    error_codes: tuple[str, ...]
    errors: tuple[TraceErrorRecord, ...]
    duration_ms: float
    variables: Any
    backend_calls: tuple[BackendCallRecord, ...]

    @classmethod
    def from_row(cls, row: RequestTrace) -> TraceRecord:
        return cls(
            request_id=row.request_id,
            trace_id=row.trace_id,
            at=row.at,
            company_id=row.company_id,
            key_id=row.key_id,
            operation_name=row.operation_name,
            operation_type=row.operation_type,
            outcome=row.outcome,
            status=row.status,
            error_codes=tuple(code for code in row.error_codes.split(",") if code),
            errors=tuple(TraceErrorRecord.from_json(e) for e in row.errors or ()),
            duration_ms=row.duration_ms,
            variables=row.variables,
            backend_calls=tuple(BackendCallRecord.from_json(c) for c in row.backend_calls or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "trace_id": self.trace_id,
            "at": self.at,
            "company_id": self.company_id,
            "key_id": self.key_id,
            "operation_name": self.operation_name,
            "operation_type": self.operation_type,
            "outcome": self.outcome,
            "status": self.status,
            "error_codes": list(self.error_codes),
            "errors": [error.to_json() for error in self.errors],
            "duration_ms": self.duration_ms,
            "variables": self.variables,
            "backend_calls": [call.to_json() for call in self.backend_calls],
        }


class TraceRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (column name to value) in one transaction."""
        if not rows:
            return
        async with self._database.session() as session, session.begin():
            await session.execute(insert(RequestTrace), list(rows))

    async def find(self, request_id: str, *, company_id: str | None = None) -> list[TraceRecord]:
        """The traces with this request ID, newest first (a client may reuse an ID), only
        ``company_id``'s when given."""
        query = select(RequestTrace).where(RequestTrace.request_id == request_id)
        if company_id is not None:
            query = query.where(RequestTrace.company_id == company_id)
        query = query.order_by(RequestTrace.at.desc(), RequestTrace.id.desc()).limit(_MAX_FIND)
        async with self._database.session() as session:
            rows = (await session.scalars(query)).all()
        return [TraceRecord.from_row(row) for row in rows]

    async def latest(self, request_id: str, *, company_id: str) -> TraceRecord | None:
        """``company_id``'s newest trace with this request ID; None for anyone else's."""
        found = await self.find(request_id, company_id=company_id)
        return found[0] if found else None

    async def search(
        self,
        *,
        company_id: str | None = None,
        since: datetime | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> list[TraceRecord]:
        """Traces newest first, filtered by company, time and outcome."""
        query = select(RequestTrace)
        if company_id is not None:
            query = query.where(RequestTrace.company_id == company_id)
        if since is not None:
            query = query.where(RequestTrace.at >= since)
        if outcome is not None:
            query = query.where(RequestTrace.outcome == outcome)
        query = query.order_by(RequestTrace.at.desc(), RequestTrace.id.desc()).limit(limit)
        async with self._database.session() as session:
            rows = (await session.scalars(query)).all()
        return [TraceRecord.from_row(row) for row in rows]

    async def purge(self, *, before: datetime, chunk: int = _PURGE_CHUNK) -> int:
        """Delete traces older than ``before`` in short transactions of ``chunk`` rows;
        returns how many were deleted."""
        deleted = 0
        while True:
            oldest = select(RequestTrace.id).where(RequestTrace.at < before).limit(chunk).subquery()
            statement = delete(RequestTrace).where(RequestTrace.id.in_(select(oldest.c.id)))
            async with self._database.session() as session, session.begin():
                result = await session.execute(statement)
            count = int(getattr(result, "rowcount", 0) or 0)
            deleted += count
            if count < chunk:
                return deleted
