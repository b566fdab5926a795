"""What a partner can read about one of its own requests: the trace the gateway kept.

::

    { requestTrace(id: "01JD9Q6Y4B2X7T0M3N5P8R1S2V") {
        operationName outcome httpStatus durationMs
        errors { code message path }
        backendCalls { method pathTemplate status durationMs startOffsetMs attempt retryReason }
    } }

Traces are stored redacted (variables keep IDs, numbers, enum values and dates; names,
emails and free text are masked) and kept for 14 days. ``RequestTrace.from_record`` is the
one place a stored trace becomes this type.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry
from strawberry.federation.schema_directives import ListSize
from strawberry.scalars import JSON

from storage.traces import BackendCallRecord, TraceErrorRecord, TraceRecord

__all__ = ["BackendCallTrace", "RequestOutcome", "RequestTrace", "RequestTraceError"]

_SMALL_LIST = ListSize(assumed_size=5, slicing_arguments=None, sized_fields=None)


@strawberry.enum(description="How a request ended, as the usage ledger counts it.")
class RequestOutcome(Enum):
    OK = strawberry.enum_value("ok", description="Executed without errors.")
    ERROR = strawberry.enum_value("error", description="Executed, with errors.")
    THROTTLED = strawberry.enum_value(
        "throttled", description="Refused for rate or quota, before it ran."
    )
    REJECTED = strawberry.enum_value(
        "rejected", description="Refused before it ran: bad request, document, scope or cost."
    )
    UNAUTHENTICATED = strawberry.enum_value(
        "unauthenticated", description="Refused for want of a valid API key."
    )


@strawberry.type(description="An error your request was answered with.")
class RequestTraceError:
    code: str = strawberry.field(description="Its `extensions.code`, e.g. BACKEND_UNAVAILABLE.")
    message: str = strawberry.field(description="The message you were sent (emails masked).")
    path: list[str] = strawberry.field(
        description='Where in the response it happened, e.g. ["credentials", "nodes", "3"].'
    )

    @classmethod
    def from_record(cls, record: TraceErrorRecord) -> Self:
        return cls(code=record.code, message=record.message, path=[str(p) for p in record.path])


@strawberry.type(
    description="One HTTP call the gateway made to the credentials platform for your request "
    "(each retry is a call of its own)."
)
class BackendCallTrace:
    method: str = strawberry.field(description="GET or POST.")
    path_template: str = strawberry.field(
        description="The platform API path, with placeholders for IDs, e.g. /api/v1/badges/{id}/."
    )
    status: int | None = strawberry.field(
        description="The HTTP status it answered; null when no answer came (see `error`)."
    )
    duration_ms: float = strawberry.field(description="How long it took, in milliseconds.")
    start_offset_ms: float | None = strawberry.field(
        description="When it started, in milliseconds after your request arrived."
    )
    attempt: int = strawberry.field(description="1 for the first try, 2 for the first retry...")
    retry_reason: str | None = strawberry.field(
        description="Why this call was a retry, e.g. http_503, connection_error; null for a "
        "first try."
    )
    error: str | None = strawberry.field(
        description="Why it failed without an answer, e.g. read_timeout, connection_error."
    )

    @classmethod
    def from_record(cls, record: BackendCallRecord) -> Self:
        return cls(
            method=record.method,
            path_template=record.path,
            status=record.status,
            duration_ms=record.duration_ms,
            start_offset_ms=record.offset_ms,
            attempt=record.attempt,
            retry_reason=record.retry_reason,
            error=record.error,
        )


@strawberry.type(description="What happened to one of your requests, as the gateway recorded it.")
class RequestTrace:
    request_id: strawberry.ID = strawberry.field(
        description="The request ID (the X-Request-ID header, `extensions.requestId`)."
    )
    trace_id: str | None = strawberry.field(
        description="The W3C trace ID the request belonged to (your `traceparent`'s, if sent)."
    )
    at: datetime = strawberry.field(description="When the request arrived.")
    key_id: strawberry.ID | None = strawberry.field(description="The API key it used (its id).")
    operation_name: str | None = strawberry.field(description="The operation's name, if any.")
    operation_type: str | None = strawberry.field(description="query or mutation.")
    outcome: RequestOutcome = strawberry.field(description="How it ended.")
    http_status: int = strawberry.field(description="The HTTP status of the answer.")
    duration_ms: float = strawberry.field(description="Time to answer, in milliseconds.")
    error_codes: list[str] = strawberry.field(description="The error codes it was answered with.")
    errors: list[RequestTraceError] = strawberry.field(
        description="The errors it was answered with (at most 20).", directives=[_SMALL_LIST]
    )
    variables: JSON | None = strawberry.field(
        description="The variables you sent, redacted: IDs, numbers, enum values and dates "
        'are kept; names, emails and free text read "[REDACTED]".'
    )
    backend_calls: list[BackendCallTrace] = strawberry.field(
        description="Each call to the credentials platform, in the order they ended.",
        directives=[_SMALL_LIST],
    )

    @classmethod
    def from_record(cls, record: TraceRecord) -> Self:
        return cls(
            request_id=strawberry.ID(record.request_id),
            trace_id=record.trace_id,
            at=record.at,
            key_id=None if record.key_id is None else strawberry.ID(record.key_id),
            operation_name=record.operation_name,
            operation_type=record.operation_type,
            outcome=RequestOutcome(record.outcome),
            http_status=record.status,
            duration_ms=record.duration_ms,
            error_codes=list(record.error_codes),
            errors=[RequestTraceError.from_record(e) for e in record.errors],
            variables=record.variables,
            backend_calls=[BackendCallTrace.from_record(c) for c in record.backend_calls],
        )
