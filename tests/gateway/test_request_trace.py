"""``requestTrace(id)`` through the real gateway: a partner reads its own stored traces, and
another company's request reads exactly like a missing one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from backend.client import BackendCall
from metering.ledger import UsageRecord
from observability.calls import open_call_log, record_call
from observability.trace_store import TraceWriter
from observability.traceparent import new_trace
from storage.database import Database
from tests.fixtures.gateway import Gateway, data

QUERY = """query Trace($id: ID!) { requestTrace(id: $id) {
    requestId traceId at keyId operationName operationType outcome httpStatus durationMs
    errorCodes errors { code message path } variables
    backendCalls { method pathTemplate status durationMs startOffsetMs attempt retryReason error }
} }"""


def _seed(gateway: Gateway, traces: list[tuple[str, str, str, dict[str, Any]]]) -> str:
    """Store traces (request ID, company key, operation, variables) as the gateway would."""
    trace = new_trace(sampled=True)

    async def seed() -> None:
        async with Database(gateway.env["GATEWAY_DATABASE_URL"]) as database:
            writer = TraceWriter(database)
            await writer.start()
            for request_id, company, operation, variables in traces:
                calls = open_call_log()
                record_call(
                    BackendCall("GET", "/api/v1/badges/{id}/", 503, 2.0, 1, None, request_id)
                )
                record_call(
                    BackendCall("GET", "/api/v1/badges/{id}/", 200, 1.5, 2, "http_503", request_id)
                )
                usage = UsageRecord(
                    request_id=request_id,
                    outcome="error",
                    duration_ms=9.5,
                    company_id=gateway.companies[company]["id"],
                    key_id="AbCdEf012345",
                    operation_name=operation,
                    operation_type="query",
                    error_codes=("NOT_FOUND",),
                )
                writer.submit(
                    usage,
                    calls,
                    status=200,
                    trace=trace,
                    variables=variables,
                    errors=[
                        {
                            "message": "Badge not found.",
                            "path": ["badge"],
                            "extensions": {"code": "NOT_FOUND"},
                        }
                    ],
                )
            await writer.close()

    asyncio.run(seed())
    return trace.trace_id


def test_a_partner_reads_its_own_request_trace(gateway: Gateway) -> None:
    mine, theirs, shared = (f"{name}-{uuid.uuid4().hex}" for name in ("mine", "theirs", "shared"))
    trace_id = _seed(
        gateway,
        [
            (mine, "org1", "GetBadge", {"id": "42", "note": "for ada@example.com"}),
            (theirs, "org2", "GetBadge", {"id": "7"}),
            (shared, "org2", "TheirOperation", {}),
            (shared, "org1", "MyOperation", {}),
        ],
    )

    found = data(gateway.post(QUERY, {"id": mine}, key="org1"))["requestTrace"]
    assert found["requestId"] == mine and found["traceId"] == trace_id
    assert (found["operationName"], found["operationType"], found["outcome"]) == (
        "GetBadge",
        "query",
        "ERROR",
    )
    assert (found["httpStatus"], found["durationMs"], found["errorCodes"]) == (
        200,
        9.5,
        ["NOT_FOUND"],
    )
    assert found["errors"] == [
        {"code": "NOT_FOUND", "message": "Badge not found.", "path": ["badge"]}
    ]
    assert found["variables"] == {"id": "42", "note": "[REDACTED]"}
    first, retry = found["backendCalls"]
    assert (first["method"], first["pathTemplate"], first["status"], first["attempt"]) == (
        "GET",
        "/api/v1/badges/{id}/",
        503,
        1,
    )
    assert (retry["attempt"], retry["retryReason"], retry["status"]) == (2, "http_503", 200)
    assert first["startOffsetMs"] >= 0

    # Another company's request, and one that is no one's, read the same: null.
    assert data(gateway.post(QUERY, {"id": theirs}, key="org1")) == {"requestTrace": None}
    assert data(gateway.post(QUERY, {"id": "no-such-request"}, key="org1")) == {
        "requestTrace": None
    }
    assert data(gateway.post(QUERY, {"id": "x" * 300}, key="org1")) == {"requestTrace": None}
    # A request ID both companies used: each sees its own.
    assert (
        data(gateway.post(QUERY, {"id": shared}, key="org1"))["requestTrace"]["operationName"]
        == "MyOperation"
    )
    assert (
        data(gateway.post(QUERY, {"id": shared}, key="org2"))["requestTrace"]["operationName"]
        == "TheirOperation"
    )
    assert (
        data(gateway.post(QUERY, {"id": theirs}, key="org2"))["requestTrace"]["requestId"] == theirs
    )
