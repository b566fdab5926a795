"""OpenTelemetry spans per request, phase and backend call, exported over OTLP/HTTP.

Only with ``GATEWAY_OTLP_ENDPOINT`` set; otherwise :func:`tracer_from_settings` returns
the disabled :class:`Tracer`, whose ``start_request`` hands back one shared no-op span,
so a request allocates nothing for tracing. Spans exist only at the request, phase and
backend-call level: no resolver middleware, no per-field hooks, so large lists cost
the same with tracing on::

    tracer = tracer_from_settings(settings)
    trace = tracer.trace_context(traceparent_header, tracestate_header)  # ours: continue or new
    span = tracer.start_request(trace, request_id=request_id)
    with span.phase("graphql.document"):
        prepared = documents.prepare(query)
    with span.phase("graphql.execute"):
        result = await execute(...)
    span.finish(usage, status=200, calls=calls)  # backend-call spans from the call log
    await tracer.close()  # at shutdown: flushes what is queued

The root span (kind SERVER) continues the caller's ``traceparent`` and has exactly the
span ID of ``trace`` (the one the backend receives as its parent), so the gateway's
and the backend's spans line up in one trace. New traces are sampled at
``GATEWAY_TRACE_SAMPLE_RATE`` by trace ID (the SDK's ``TraceIdRatioBased`` rule, so the
``sampled`` flag sent on and the SDK agree); continued traces follow the caller's flag.
Spans are exported by a ``BatchSpanProcessor`` thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

from backend.client import BackendCall
from metering.ledger import UsageRecord
from observability.calls import CallLog
from observability.logging import get_logger
from observability.traceparent import (
    TraceContext,
    child_span,
    new_trace,
    parse_traceparent,
)
from settings import Settings

__all__ = [
    "NOOP_SPAN",
    "OtelTracer",
    "RequestSpan",
    "Tracer",
    "otlp_traces_url",
    "tracer_from_settings",
]

log = get_logger("gateway.tracing")

_NO_PHASE: Final[AbstractContextManager[None]] = nullcontext()  # reusable, shared
_INSTRUMENTATION: Final = "partner-gateway"
_LOW_64: Final = (1 << 64) - 1


class RequestSpan:
    """One request's spans. This base class is the disabled one: every method does nothing."""

    __slots__ = ()

    def phase(self, name: str) -> AbstractContextManager[None]:
        """A child span around one phase (``graphql.document``, ``graphql.execute``...)."""
        return _NO_PHASE

    def finish(self, usage: UsageRecord, *, status: int, calls: Sequence[BackendCall] = ()) -> None:
        """End the request's span with its outcome, after adding one span per backend call."""


NOOP_SPAN: Final = RequestSpan()


class Tracer:
    """Tracing switched off: the endpoint's calls cost a method call and nothing else.

    ``trace_context`` still continues or starts the W3C trace, so the backend receives a
    ``traceparent`` and the trace store a trace ID; new traces are then not sampled.
    """

    enabled = False

    def trace_context(self, traceparent: str | None, tracestate: str | None) -> TraceContext:
        """The gateway's span for a request: a child of the caller's, or a new trace's first."""
        incoming = parse_traceparent(traceparent, tracestate)
        if incoming is not None:
            return child_span(incoming)
        return self._new_trace()

    def _new_trace(self) -> TraceContext:
        return new_trace(sampled=False)

    def start_request(self, trace: TraceContext, *, request_id: str) -> RequestSpan:
        return NOOP_SPAN

    async def close(self) -> None:
        """Flush and stop the exporter (nothing to do when disabled)."""


class _PresetIds(IdGenerator):
    """Random IDs, except the next root span's, which the tracer sets just before starting
    it (synchronously, so nothing else can take them in between)."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()
        self.trace_id: int | None = None
        self.span_id: int | None = None

    def generate_trace_id(self) -> int:
        preset, self.trace_id = self.trace_id, None
        return preset if preset is not None else self._random.generate_trace_id()

    def generate_span_id(self) -> int:
        preset, self.span_id = self.span_id, None
        return preset if preset is not None else self._random.generate_span_id()

    def is_trace_id_random(self) -> bool:
        return True


class _Phase:
    __slots__ = ("_context", "_name", "_span", "_tracer")

    def __init__(self, tracer: otel_trace.Tracer, context: otel_context.Context, name: str):
        self._tracer = tracer
        self._context = context
        self._name = name
        self._span: otel_trace.Span | None = None

    def __enter__(self) -> None:
        self._span = self._tracer.start_span(self._name, context=self._context)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        if exc is not None:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            span.record_exception(exc)
        span.end()


class _OtelRequestSpan(RequestSpan):
    __slots__ = ("_context", "_request_id", "_root", "_tracer")

    def __init__(self, tracer: otel_trace.Tracer, root: otel_trace.Span, request_id: str) -> None:
        self._tracer = tracer
        self._root = root
        self._context = otel_trace.set_span_in_context(root)
        self._request_id = request_id

    def phase(self, name: str) -> AbstractContextManager[None]:
        if not self._root.is_recording():
            return _NO_PHASE
        return _Phase(self._tracer, self._context, name)

    def finish(self, usage: UsageRecord, *, status: int, calls: Sequence[BackendCall] = ()) -> None:
        root = self._root
        if not root.is_recording():
            return
        try:
            self._backend_spans(calls)
            _describe_request(root, usage, status)
        except Exception:  # tracing must never fail a request
            log.exception("could not finish the request's spans", request_id=self._request_id)
        finally:
            root.end()

    def _backend_spans(self, calls: Sequence[BackendCall]) -> None:
        ended = calls.ended_ns if isinstance(calls, CallLog) else None
        for index, call in enumerate(calls):
            end = ended[index] if ended is not None and index < len(ended) else None
            if end is None:
                end = time.time_ns()
            start = end - int(call.duration_ms * 1_000_000)
            span = self._tracer.start_span(
                f"{call.method} {call.path_template}",
                context=self._context,
                kind=SpanKind.CLIENT,
                start_time=start,
            )
            span.set_attribute("http.request.method", call.method)
            span.set_attribute("url.template", call.path_template)
            if call.status is not None:
                span.set_attribute("http.response.status_code", call.status)
            if call.attempt > 1:
                span.set_attribute("http.request.resend_count", call.attempt - 1)
            if call.retry_reason is not None:
                span.set_attribute("gateway.retry_reason", call.retry_reason)
            failed = call.error is not None or (call.status is not None and call.status >= 400)
            if failed:
                span.set_attribute("error.type", call.error or str(call.status))
                span.set_status(Status(StatusCode.ERROR))
            span.end(end_time=end)


def _describe_request(root: otel_trace.Span, usage: UsageRecord, status: int) -> None:
    if usage.operation_type and usage.operation_name:
        root.update_name(f"{usage.operation_type} {usage.operation_name}")
    elif usage.operation_type:
        root.update_name(usage.operation_type)
    attributes: dict[str, str | int | float | Sequence[str]] = {
        "http.response.status_code": status,
        "gateway.outcome": usage.outcome,
        "gateway.backend_calls": usage.backend_calls,
        "gateway.cost.requested": usage.requested_cost,
        "gateway.cost.actual": usage.actual_cost,
        "gateway.duration_ms": usage.duration_ms,
    }
    if usage.company_id is not None:
        attributes["gateway.company_id"] = usage.company_id
    if usage.key_id is not None:
        attributes["gateway.key_id"] = usage.key_id  # the public key ID, never the key
    if usage.operation_name:
        attributes["graphql.operation.name"] = usage.operation_name[:128]
    if usage.operation_type:
        attributes["graphql.operation.type"] = usage.operation_type
    if usage.error_codes:
        attributes["gateway.error_codes"] = list(usage.error_codes)
    root.set_attributes(attributes)
    if usage.outcome == "error" or status >= 500:
        root.set_status(Status(StatusCode.ERROR, ",".join(usage.error_codes) or None))


class OtelTracer(Tracer):
    """Tracing on: an SDK ``TracerProvider`` of its own (the global one is left alone)."""

    enabled = True

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        service_name: str = "partner-gateway",
        sample_rate: float = 1.0,
        batch: bool = True,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError("sample_rate must be between 0 and 1")
        self._bound = TraceIdRatioBased.get_bound_for_rate(sample_rate)
        self._ids = _PresetIds()
        self._provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}),
            sampler=ParentBased(root=TraceIdRatioBased(sample_rate)),
            id_generator=self._ids,
        )
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self._provider.add_span_processor(processor)
        self._tracer = self._provider.get_tracer(_INSTRUMENTATION)

    def _new_trace(self) -> TraceContext:
        trace_id = os.urandom(16).hex()
        # The SDK's TraceIdRatioBased rule, so what the backend is told matches the SDK.
        sampled = int(trace_id, 16) & _LOW_64 < self._bound
        return new_trace(sampled=sampled, trace_id=trace_id)

    def start_request(self, trace: TraceContext, *, request_id: str) -> RequestSpan:
        parent = otel_context.Context()
        if trace.parent_id is not None:
            remote = SpanContext(
                int(trace.trace_id, 16),
                int(trace.parent_id, 16),
                is_remote=True,
                trace_flags=TraceFlags(trace.flags),
                trace_state=TraceState.from_header([trace.tracestate])
                if trace.tracestate
                else None,
            )
            parent = otel_trace.set_span_in_context(NonRecordingSpan(remote))
        ids = self._ids
        ids.trace_id, ids.span_id = int(trace.trace_id, 16), int(trace.span_id, 16)
        try:
            root = self._tracer.start_span(
                "GraphQL Operation",
                context=parent,
                kind=SpanKind.SERVER,
                attributes={"gateway.request_id": request_id},
            )
        finally:
            ids.trace_id = ids.span_id = None
        return _OtelRequestSpan(self._tracer, root, request_id)

    def force_flush(self) -> bool:
        """Export every ended span now (blocking); for tests and shutdown."""
        return self._provider.force_flush()

    async def close(self) -> None:
        # Shutting down exports what is queued: blocking HTTP, so off the event loop.
        await asyncio.to_thread(self._provider.shutdown)


def otlp_traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a collector's base URL (``/v1/traces`` added once)."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


def tracer_from_settings(settings: Settings) -> Tracer:
    """An :class:`OtelTracer` exporting to ``GATEWAY_OTLP_ENDPOINT``, or the disabled one.

    The exporter also honours the standard ``OTEL_EXPORTER_OTLP_HEADERS`` (a vendor's API
    key belongs there, from a secret store) and ``OTEL_EXPORTER_OTLP_TIMEOUT``.
    """
    if settings.otlp_endpoint is None:
        return Tracer()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,  # imported only when tracing is on
    )

    exporter = OTLPSpanExporter(endpoint=otlp_traces_url(settings.otlp_endpoint))
    return OtelTracer(
        exporter,
        service_name=settings.otlp_service_name,
        sample_rate=settings.trace_sample_rate,
    )
