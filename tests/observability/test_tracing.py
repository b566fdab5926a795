"""Request, phase and backend-call spans: the SDK's in-memory exporter, and a real OTLP/HTTP
receiver on a socket for the exporter that ``GATEWAY_OTLP_ENDPOINT`` configures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from backend.client import BackendCall
from metering.ledger import UsageRecord
from observability.calls import open_call_log, record_call
from observability.traceparent import format_traceparent
from observability.tracing import (
    NOOP_SPAN,
    OtelTracer,
    Tracer,
    otlp_traces_url,
    tracer_from_settings,
)
from settings import Settings

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _settings(**values: Any) -> Settings:
    return Settings(
        backend_username="svc",
        backend_password="pw",
        key_pepper="p" * 32,
        **values,
    )


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> OtelTracer:
    return OtelTracer(exporter, service_name="gateway-test", batch=False)


def _usage(**values: Any) -> UsageRecord:
    defaults: dict[str, Any] = {
        "request_id": "req-1",
        "outcome": "ok",
        "duration_ms": 12.5,
        "company_id": "co_0123456789abcdef",
        "key_id": "AbCdEf012345",
        "operation_name": "GetBadges",
        "operation_type": "query",
        "requested_cost": 41,
        "actual_cost": 21,
        "backend_calls": 2,
    }
    return UsageRecord(**{**defaults, **values})


def _by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


async def test_a_request_continues_the_callers_trace_with_phase_and_backend_spans(
    tracer: OtelTracer, exporter: InMemorySpanExporter
) -> None:
    trace = tracer.trace_context(INCOMING, "vendor=abc")
    assert (trace.trace_id, trace.parent_id) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    span = tracer.start_request(trace, request_id="req-1")
    calls = open_call_log()
    with span.phase("graphql.document"):
        pass
    with span.phase("graphql.execute"):
        record_call(BackendCall("GET", "/api/v1/badges/", 503, 4.0, 1, None, "req-1"))
        record_call(BackendCall("GET", "/api/v1/badges/", 200, 6.0, 2, "http_503", "req-1"))
    span.finish(_usage(), status=200, calls=calls)

    spans = _by_name(exporter.get_finished_spans())
    assert set(spans) == {
        "query GetBadges",
        "graphql.document",
        "graphql.execute",
        "GET /api/v1/badges/",
    }
    root = spans["query GetBadges"]
    # The root span is exactly the span the backend was told about.
    assert root.context is not None and root.parent is not None
    assert f"{root.context.trace_id:032x}" == trace.trace_id
    assert f"{root.context.span_id:016x}" == trace.span_id
    assert f"{root.parent.span_id:016x}" == "00f067aa0ba902b7" and root.parent.is_remote
    assert root.kind is SpanKind.SERVER
    assert root.context.trace_state.get("vendor") == "abc"
    assert root.attributes is not None
    assert root.attributes["gateway.request_id"] == "req-1"
    assert root.attributes["gateway.company_id"] == "co_0123456789abcdef"
    assert root.attributes["graphql.operation.type"] == "query"
    assert root.attributes["gateway.outcome"] == "ok"
    assert root.attributes["http.response.status_code"] == 200
    assert root.resource.attributes["service.name"] == "gateway-test"
    assert root.status.status_code is StatusCode.UNSET

    children = [s for s in exporter.get_finished_spans() if s is not root]
    assert len(children) == 4
    for child in children:
        assert child.parent is not None and child.parent.span_id == root.context.span_id
        assert child.context is not None and child.context.trace_id == root.context.trace_id
    backend = [s for s in children if s.kind is SpanKind.CLIENT]
    assert len(backend) == 2
    first, retry = sorted(backend, key=lambda s: s.end_time or 0)  # as recorded
    assert first.end_time is not None and first.start_time is not None
    assert first.end_time - first.start_time == 4_000_000  # from the call's own duration
    assert first.end_time <= (retry.end_time or 0)
    assert first.status.status_code is StatusCode.ERROR
    assert first.attributes is not None and first.attributes["error.type"] == "503"
    assert retry.attributes is not None
    assert retry.attributes["http.request.resend_count"] == 1
    assert retry.attributes["gateway.retry_reason"] == "http_503"
    assert retry.attributes["url.template"] == "/api/v1/badges/"
    # Spans made after the fact still end within the request.
    assert all((s.end_time or 0) <= (root.end_time or 0) for s in children)


async def test_a_failing_request_and_a_failing_phase_are_marked(
    tracer: OtelTracer, exporter: InMemorySpanExporter
) -> None:
    span = tracer.start_request(tracer.trace_context(None, None), request_id="req-2")
    with pytest.raises(ZeroDivisionError), span.phase("graphql.execute"):
        _ = 1 / 0
    span.finish(
        _usage(outcome="error", error_codes=("INTERNAL_SERVER_ERROR",)),
        status=500,
        calls=[
            BackendCall("POST", "/api/v1/credentials/", None, 2.0, 1, None, "r", "read_timeout")
        ],
    )
    spans = _by_name(exporter.get_finished_spans())
    assert spans["graphql.execute"].status.status_code is StatusCode.ERROR
    assert spans["graphql.execute"].events[0].name == "exception"
    root = spans["query GetBadges"]
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes is not None
    assert list(root.attributes["gateway.error_codes"]) == ["INTERNAL_SERVER_ERROR"]  # type: ignore[arg-type]
    call = spans["POST /api/v1/credentials/"]
    assert call.attributes is not None and call.attributes["error.type"] == "read_timeout"


async def test_an_unsampled_caller_gets_no_spans_and_its_flag_passed_on(
    tracer: OtelTracer, exporter: InMemorySpanExporter
) -> None:
    trace = tracer.trace_context(INCOMING[:-2] + "00", None)
    assert not trace.sampled
    span = tracer.start_request(trace, request_id="req-3")
    assert span.phase("graphql.execute") is NOOP_SPAN.phase("x")  # nothing allocated
    span.finish(_usage(), status=200)
    assert exporter.get_finished_spans() == ()


@pytest.mark.parametrize("rate", [0.0, 1.0])
async def test_new_traces_are_sampled_at_the_rate_and_the_flag_agrees(rate: float) -> None:
    exporter = InMemorySpanExporter()
    tracer = OtelTracer(exporter, sample_rate=rate, batch=False)
    for _ in range(20):
        trace = tracer.trace_context("not a traceparent", None)
        assert trace.parent_id is None and trace.sampled is (rate == 1.0)
        tracer.start_request(trace, request_id="r").finish(_usage(), status=200)
    spans = exporter.get_finished_spans()
    assert len(spans) == (20 if rate else 0)
    for span in spans:
        assert span.parent is None and span.context is not None


async def test_half_the_new_traces_at_rate_one_half_and_the_flag_always_agrees() -> None:
    exporter = InMemorySpanExporter()
    tracer = OtelTracer(exporter, sample_rate=0.5, batch=False)
    sampled: set[str] = set()
    for _ in range(400):
        trace = tracer.trace_context(None, None)
        tracer.start_request(trace, request_id="r").finish(_usage(), status=200)
        if trace.sampled:
            sampled.add(trace.trace_id)
    exported = {f"{s.context.trace_id:032x}" for s in exporter.get_finished_spans() if s.context}
    assert exported == sampled
    assert 120 < len(sampled) < 280


async def test_disabled_tracing_shares_one_no_op_span_and_still_propagates() -> None:
    tracer = tracer_from_settings(_settings())
    assert type(tracer) is Tracer and not tracer.enabled
    trace = tracer.trace_context(INCOMING, None)
    assert trace.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and trace.sampled
    span = tracer.start_request(trace, request_id="r")
    assert span is NOOP_SPAN
    assert span.phase("a") is span.phase("b")
    with span.phase("graphql.execute"):
        pass
    span.finish(_usage(), status=200)
    fresh = tracer.trace_context(None, None)
    assert not fresh.sampled and fresh.parent_id is None  # nobody records it
    await tracer.close()


def test_the_otlp_url_gets_its_path_once() -> None:
    assert otlp_traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert otlp_traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert otlp_traces_url("https://x/v1/traces") == "https://x/v1/traces"


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


async def test_spans_reach_an_otlp_http_collector(
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    url, received = collector
    tracer = tracer_from_settings(
        _settings(otlp_endpoint=url, otlp_service_name="partner-gateway-test")
    )
    assert tracer.enabled
    trace = tracer.trace_context(INCOMING, None)
    span = tracer.start_request(trace, request_id="req-otlp")
    with span.phase("graphql.execute"):
        pass
    span.finish(_usage(), status=200)
    await tracer.close()  # flushes the batch to the collector

    assert received, "the collector received nothing"
    path, content_type, body = received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "partner-gateway-test"
    spans = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert {s.name for s in spans} == {"query GetBadges", "graphql.execute"}
    assert {s.trace_id.hex() for s in spans} == {trace.trace_id}
    assert format_traceparent(trace)[36:52] in {s.span_id.hex() for s in spans}
