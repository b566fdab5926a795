"""Per-request metrics: Prometheus counters and a latency histogram, CloudWatch EMF lines.

The endpoint calls :meth:`RequestMetrics.observe` once per request, after the answer is
decided, with the request's :class:`~metering.ledger.UsageRecord`; it costs about a
microsecond (bench/metrics_observe.py). ``/metrics`` serves the Prometheus text format
to whoever sends ``Authorization: Bearer <GATEWAY_METRICS_TOKEN>``::

    metrics = RequestMetrics.from_settings(settings)
    metrics.observe(record)
    Route("/metrics", metrics_endpoint(settings, metrics.registry), methods=["GET"])

Series (counters end in ``_total``):

- ``gateway_requests_total{company, operation, outcome}``
- ``gateway_cost_points_total{company, operation, outcome}``: billable points
- ``gateway_request_duration_seconds{company}``: a histogram
- ``gateway_request_errors_total{company, code}``: requests answered with each error code
- ``gateway_metrics_label_overflow_total{label}``: values folded into ``(other)``

Labels stay bounded whatever partners send: ``company`` is the company id (``(none)``
before authentication); ``operation`` is the operation name for the first
``GATEWAY_METRICS_MAX_OPERATIONS`` distinct names this process sees from authenticated
requests, ``(anonymous)`` for unnamed operations and ``(other)`` for the rest; error codes
beyond the first 50 and unknown outcomes are ``(other)`` too. ``(...)`` values cannot be
GraphQL names, so they never meet a real operation's.

Each process keeps its own registry: with ``gateway serve --workers N`` a scrape sees one
worker, so run one worker per container (and scale containers) when scraping, or rely on EMF,
whose lines every worker writes.
"""

from __future__ import annotations

import hashlib
import hmac
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator
from itertools import accumulate

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from metering.ledger import UsageRecord
from metering.reports import ANONYMOUS_OPERATION
from observability.emf import EmfWriter
from settings import Settings

__all__ = [
    "LATENCY_BUCKETS",
    "NO_COMPANY",
    "OTHER",
    "RequestMetrics",
    "metrics_endpoint",
]

NO_COMPANY = "(none)"
OTHER = "(other)"
OUTCOMES = frozenset({"ok", "error", "timeout", "throttled", "rejected", "unauthenticated"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_MAX_ERROR_CODES = 50
_MAX_LABEL_LENGTH = 128


class _BoundedLabel:
    """The first ``limit`` distinct values are themselves; later ones are :data:`OTHER`."""

    __slots__ = ("_known", "_limit", "_overflow")

    def __init__(self, limit: int, overflow: Counter) -> None:
        self._known: set[str] = set()
        self._limit = limit
        self._overflow = overflow

    def __call__(self, value: str, *, admit: bool = True) -> str:
        if len(value) > _MAX_LABEL_LENGTH:
            value = value[:_MAX_LABEL_LENGTH]
        if value in self._known:
            return value
        if admit and len(self._known) < self._limit:
            self._known.add(value)
            return value
        self._overflow.inc()
        return OTHER


class _Tally:
    """One (company, operation, outcome) series: requests and billable cost points."""

    __slots__ = ("cost_points", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.cost_points = 0


class _Latencies:
    """One company's latency histogram: a count per bucket (not cumulative) and the sum."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0


class _RequestCollector(Collector):
    """Per-request counts kept as plain numbers, turned into metric families at scrape
    time: ``prometheus_client``'s own counters take a lock on every increment and search
    the histogram's buckets in Python, about 2% of a one-badge request's instructions."""

    def __init__(self) -> None:
        self.tallies: dict[tuple[str, str, str], _Tally] = {}
        self.latencies: dict[str, _Latencies] = {}
        self.errors: dict[tuple[str, str], int] = {}

    def collect(self) -> Iterator[Metric]:
        # Scrapes run on a worker thread while the loop counts: copy each table first
        # (one C-level call under the GIL) so no dict changes size while it is read.
        requests = CounterMetricFamily(
            "gateway_requests", "Requests answered.", labels=_SERIES_LABELS
        )
        cost = CounterMetricFamily(
            "gateway_cost_points",
            "Billable cost points (actual cost of executed operations, 0 for refused ones).",
            labels=_SERIES_LABELS,
        )
        for key, tally in list(self.tallies.items()):
            requests.add_metric(key, tally.requests)
            cost.add_metric(key, tally.cost_points)
        latency = HistogramMetricFamily(
            "gateway_request_duration_seconds", "Time to answer a request.", labels=("company",)
        )
        for company, histogram in list(self.latencies.items()):
            total_seconds, counts = histogram.sum, list(histogram.counts)
            cumulative = list(accumulate(counts))
            latency.add_metric(
                (company,), list(zip(_BUCKET_NAMES, cumulative, strict=True)), total_seconds
            )
        errors = CounterMetricFamily(
            "gateway_request_errors",
            "Requests answered with an error code, per code (refusals included).",
            labels=("company", "code"),
        )
        for (company, code), count in list(self.errors.items()):
            errors.add_metric((company, code), count)
        yield from (requests, cost, latency, errors)


_SERIES_LABELS = ("company", "operation", "outcome")
_BUCKET_NAMES = (*(repr(float(bound)) for bound in LATENCY_BUCKETS), "+Inf")  # 0.005 ... 10.0


class RequestMetrics:
    """Prometheus metrics in a registry of their own, and EMF lines when enabled."""

    def __init__(self, *, max_operations: int = 50, emf: EmfWriter | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._emf = emf
        self._counts = _RequestCollector()
        self.registry.register(self._counts)
        overflow = Counter(
            "gateway_metrics_label_overflow",
            "Label values folded into (other) to keep the series bounded.",
            ("label",),
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._operation = _BoundedLabel(max_operations, overflow.labels("operation"))
        self._code = _BoundedLabel(_MAX_ERROR_CODES, overflow.labels("code"))

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestMetrics:
        emf = None
        if settings.emf_enabled:
            dimensions = [name for name in settings.emf_dimensions.split(",") if name]
            emf = EmfWriter(settings.emf_namespace, dimensions)
        return cls(max_operations=settings.metrics_max_operations, emf=emf)

    def observe(self, record: UsageRecord) -> None:
        """Count one answered request; call it once, after the answer is decided."""
        counts = self._counts
        company = record.company_id or NO_COMPANY
        name = record.operation_name
        # Unauthenticated requests may use known names but never take a slot.
        operation = (
            self._operation(name, admit=record.company_id is not None)
            if name
            else ANONYMOUS_OPERATION
        )
        outcome = record.outcome if record.outcome in OUTCOMES else OTHER
        key = (company, operation, outcome)
        tally = counts.tallies.get(key)
        if tally is None:
            tally = counts.tallies[key] = _Tally()
        tally.requests += 1
        tally.cost_points += record.billable_cost
        latency = counts.latencies.get(company)
        if latency is None:
            latency = counts.latencies[company] = _Latencies()
        seconds = record.duration_ms / 1000.0
        latency.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1  # le: upper bounds count
        latency.sum += seconds
        errors = counts.errors
        for code in record.error_codes:
            series = (company, self._code(code))
            errors[series] = errors.get(series, 0) + 1
        if self._emf is not None:
            self._emf.write(record, company=company, operation=operation, outcome=outcome)


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def metrics_endpoint(
    settings: Settings, registry: CollectorRegistry
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint serving ``registry`` in the Prometheus text format.

    It answers only requests with ``Authorization: Bearer <GATEWAY_METRICS_TOKEN>`` (compared
    in constant time, as digests, so not even the token's length leaks); everything else,
    and every request when no token is configured, gets the same 404 as an unknown path.
    Serve it on an internal listener too: the token is a second lock, not the only one.
    """
    token = settings.metrics_token
    expected = None if token is None else _digest(token.get_secret_value())

    async def metrics(request: Request) -> Response:
        if expected is None or not _authorized(request, expected):
            return PlainTextResponse("Not Found", status_code=404)
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        body = await run_in_threadpool(encoder, registry)  # off the event loop
        return Response(body, headers={"content-type": content_type, "cache-control": "no-store"})

    return metrics


def _authorized(request: Request, expected: bytes) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    matches = hmac.compare_digest(_digest(given.strip()), expected)
    return scheme.lower() == "bearer" and matches
