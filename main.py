"""The gateway's ASGI application: every part built once per process, then wired.

Request path: uvicorn -> :class:`GatewayApp` -> ``/graphql`` (server.graphql_endpoint)
-> auth -> resolvers -> backend client; every other path goes through a Starlette
router. Run it with ``gateway serve``, or directly::

    uvicorn --factory main:create_app
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.broadcast import redis_client
from auth.services import AuthServices
from backend.api import CredentialsApi
from backend.client import BackendClient
from metering.buckets import BucketStore, InProcessBucketStore, RedisBucketStore
from metering.cost import CostModel
from metering.ledger import UsageLedger
from metering.limits import OperationLimits, operation_limit_rules
from metering.meter import Meter
from metering.plans import PlanCatalog
from observability.calls import record_call
from observability.logging import configure_logging, get_logger
from observability.metrics import RequestMetrics, metrics_endpoint
from observability.sentry import init_sentry
from observability.trace_store import TraceWriter
from observability.tracing import tracer_from_settings
from schema.partner_schema import build_schema
from schema.sdl import partner_sdl, subgraph_sdl
from server.direct_resolvers import install as install_direct_resolvers
from server.documents import DocumentCache
from server.graphiql import ASSETS_PATH, Explorer
from server.graphql_endpoint import GraphQLEndpoint
from server.health import liveness, readiness
from settings import Settings, load_settings
from storage.database import Database

__all__ = ["GatewayApp", "create_app"]

log = get_logger("gateway")

# A request allocates thousands of short-lived objects: collect the young generation less
# often than Python's default of every 700 allocations (measured in docs/performance.md).
GC_THRESHOLDS = (20_000, 20, 20)


async def _every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:  # a failed flush is retried next time; it must not stop the loop
            log.exception("periodic job failed", job=getattr(job, "__name__", "job"))


class GatewayApp:
    """Sends ``/graphql`` straight to its endpoint, everything else (and lifespan) to Starlette.

    Starlette's middleware stack and request objects cost about a tenth of a request's
    CPU on the hot path (docs/performance.md); the endpoint handles its own errors.
    """

    def __init__(self, graphql: ASGIApp, router: Starlette) -> None:
        self.graphql = graphql
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/graphql":
            await self.graphql(scope, receive, send)
        else:
            await self.router(scope, receive, send)


def _explorer(settings: Settings) -> Explorer | None:
    """GraphiQL's build, when the explorer is on; a missing build is no reason not to start."""
    if not settings.graphiql:
        return None
    explorer = Explorer.load(settings.explorer_dir)
    if not explorer.built:
        log.warning(
            "the explorer is not built: GET /graphql says how to build it",
            directory=str(explorer.directory),
            build="make explorer",
        )
    return explorer


def _explorer_assets(explorer: Explorer | None) -> list[BaseRoute]:
    if explorer is None or explorer.assets is None:
        return []
    return [Mount(ASSETS_PATH, app=explorer.assets)]


def create_app(settings: Settings | None = None) -> GatewayApp:
    settings = settings or load_settings()
    configure_logging(settings)
    init_sentry(settings)  # before build_schema(): its Strawberry integration hooks Schema

    schema = build_schema()
    install_direct_resolvers(schema)  # plain-argument resolvers skip Strawberry's wrapper
    database = Database.from_settings(settings)
    backend = BackendClient(settings, on_call=record_call)
    ledger = UsageLedger(database)
    metrics = RequestMetrics.from_settings(settings)
    tracer = tracer_from_settings(settings)
    traces = TraceWriter.from_settings(database, settings)
    auth = AuthServices.from_settings(database, settings)
    # Commands time out (1 s): a Redis that stops answering sends cost accounting to the
    # process's own buckets instead of holding every request until its deadline.
    redis = redis_client(settings.redis_url.get_secret_value()) if settings.redis_url else None
    buckets: BucketStore = (
        InProcessBucketStore()
        if redis is None
        else RedisBucketStore(redis, prefix=f"{settings.redis_prefix}:")
    )
    meter = Meter(
        CostModel(schema._schema, default_list_size=settings.default_list_size),
        buckets,
        PlanCatalog.default(),
    )
    explorer = _explorer(settings)
    endpoint = GraphQLEndpoint(
        schema=schema._schema,
        documents=DocumentCache(
            schema._schema,
            max_tokens=settings.max_query_tokens,
            hide_suggestions=not settings.field_suggestions,
            extra_rules=(
                *operation_limit_rules(
                    OperationLimits(
                        max_depth=settings.max_depth,
                        max_aliases=settings.max_aliases,
                        max_root_fields=settings.max_root_fields,
                        max_directives=settings.max_directives,
                    )
                ),
                *(() if settings.introspection else (NoSchemaIntrospectionCustomRule,)),
            ),
        ),
        authenticator=auth.authenticator,
        failed_auth=auth.limiter,
        keys=auth.keys,
        api=CredentialsApi(backend),
        settings=settings,
        explorer=explorer,
        meter=meter,
        ledger=ledger,
        metrics=metrics,
        database=database,
        tracer=tracer,
        traces=traces,
    )
    published_sdl = partner_sdl(schema)
    federation_sdl = subgraph_sdl(schema)

    async def schema_sdl(_request: Request) -> Response:
        return PlainTextResponse(published_sdl, media_type="application/graphql")

    async def schema_subgraph_sdl(_request: Request) -> Response:
        return PlainTextResponse(federation_sdl, media_type="application/graphql")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await backend.start()
        await ledger.start()
        await traces.start()
        await auth.start()
        # Last-used times, re-hashes and refusal events: written in batches, never per request.
        flusher = asyncio.create_task(_every(settings.key_flush_interval, auth.authenticator.flush))
        # Everything built so far lives as long as the process: keep it out of the
        # collector's generations, so full collections stay short (p99 latency).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        log.info("gateway started", backend=settings.backend_url)
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            # uvicorn has drained in-flight requests (each waited for its usage event):
            # what is left in the ledger's queue is committed before the process ends.
            await ledger.close()
            await traces.close()  # what is queued is written first
            await tracer.close()  # flushes spans still queued
            await auth.close()  # stops listening to Redis, flushes what is pending
            await buckets.close()
            if redis is not None:
                await redis.aclose()
            await backend.close()
            await database.dispose()
            endpoint.access_log.flush()
            log.info("gateway stopped")

    router = Starlette(
        routes=[
            Route("/graphql/schema.graphql", schema_sdl, methods=["GET"]),
            Route("/graphql/subgraph.graphql", schema_subgraph_sdl, methods=["GET"]),
            Route("/healthz", liveness, methods=["GET"]),
            Route("/readyz", readiness(database, backend), methods=["GET"]),
            Route("/metrics", metrics_endpoint(settings, metrics.registry), methods=["GET"]),
            *_explorer_assets(explorer),
        ],
        lifespan=lifespan,
    )
    return GatewayApp(endpoint, router)
