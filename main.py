"""The gateway's ASGI application: every part built once per process, then wired.

Request path: uvicorn -> Starlette router -> ``/graphql`` (server.graphql_endpoint)
-> auth -> resolvers -> backend client. Run it with ``gateway serve``, or directly::

    uvicorn --factory main:create_app
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from auth.authenticator import Authenticator
from backend.api import CredentialsApi
from backend.client import BackendClient
from observability.logging import configure_logging, get_logger
from schema.partner_schema import build_schema
from schema.sdl import partner_sdl, subgraph_sdl
from server.documents import DocumentCache
from server.graphiql import graphiql_html
from server.graphql_endpoint import GraphQLEndpoint
from server.health import liveness, readiness
from settings import Settings, load_settings
from storage.database import Database

__all__ = ["create_app"]

log = get_logger("gateway")

# Last-used times are written in batches, never once per request.
LAST_USED_FLUSH_SECONDS = 30.0


async def _every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:  # a failed flush is retried next time; it must not stop the loop
            log.exception("periodic job failed", job=getattr(job, "__name__", "job"))


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    configure_logging(settings)

    schema = build_schema()
    database = Database.from_settings(settings)
    backend = BackendClient(settings)
    authenticator = Authenticator.from_settings(database, settings)
    endpoint = GraphQLEndpoint(
        schema=schema._schema,
        documents=DocumentCache(
            schema._schema,
            max_tokens=settings.max_query_tokens,
            hide_suggestions=not settings.field_suggestions,
        ),
        authenticator=authenticator,
        api=CredentialsApi(backend),
        settings=settings,
        graphiql_page=graphiql_html() if settings.graphiql else None,
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
        flusher = asyncio.create_task(
            _every(LAST_USED_FLUSH_SECONDS, authenticator.flush_last_used)
        )
        log.info("gateway started", backend=settings.backend_url)
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await authenticator.flush_last_used()
            await backend.close()
            await database.dispose()
            log.info("gateway stopped")

    return Starlette(
        routes=[
            Route("/graphql", endpoint),  # ASGI: answers every method itself
            Route("/graphql/schema.graphql", schema_sdl, methods=["GET"]),
            Route("/graphql/subgraph.graphql", schema_subgraph_sdl, methods=["GET"]),
            Route("/healthz", liveness, methods=["GET"]),
            Route("/readyz", readiness(database, backend), methods=["GET"]),
        ],
        lifespan=lifespan,
    )
