"""``gateway serve``: check the schema (creating it in an empty database), then serve.

::

    gateway serve --host 0.0.0.0 --port 8000 [--workers 4]

uvicorn builds the app with ``main.create_app()``; it logs through our structlog setup
(``log_config=None``), ignores proxy headers (``X-Forwarded-For`` from 127.0.0.1 would
otherwise replace the client's address: auth/router_trust.py trusts it only from a router
that proves itself) and sends no ``Server`` header. Several workers share nothing in
memory, so they need Redis for the state that must be shared (cost buckets, quotas,
failed-authentication counts, key revocations): without ``GATEWAY_REDIS_URL`` more than
one worker is refused rather than under-counted.
"""

from __future__ import annotations

import asyncio
import contextlib
from importlib.util import find_spec
from typing import Annotated

import typer

from cli.common import fail, load_settings_or_exit
from storage.migrate import SchemaError, ensure_schema

__all__ = ["APP_FACTORY", "run_gateway", "serve"]

APP_FACTORY = "main:create_app"


def run_gateway(host: str, port: int, workers: int = 1, keep_alive: int = 75) -> None:
    """Serve the gateway in the foreground until interrupted."""
    import uvicorn  # noqa: PLC0415 - only the serving commands pay for importing it

    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal: nothing left to do.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop" if find_spec("uvloop") else "asyncio",
            http="httptools" if find_spec("httptools") else "h11",
            log_config=None,
            access_log=False,  # the app logs each request itself, with its request id
            proxy_headers=False,  # the socket peer, whatever X-Forwarded-For says
            server_header=False,
            timeout_keep_alive=keep_alive,
        )


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Default: GATEWAY_HOST.", show_default=False)
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Default: GATEWAY_PORT.", show_default=False),
    ] = None,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, help="Worker processes; more than 1 needs Redis."),
    ] = 1,
) -> None:
    """Serve the partner GraphQL API."""
    settings = load_settings_or_exit()
    if workers > 1 and settings.redis_url is None:
        fail(
            f"Refusing to start {workers} workers without GATEWAY_REDIS_URL: each would keep "
            "its own cost buckets and quotas, and partners would get up to "
            f"{workers} times their plan."
        )
    try:
        if asyncio.run(ensure_schema(settings.database_url)):
            typer.echo("Created the database schema.", err=True)
    except SchemaError as exc:
        fail(str(exc))
    run_gateway(host or settings.host, port or settings.port, workers, settings.keep_alive)
