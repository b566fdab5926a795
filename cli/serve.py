"""``gateway serve``: check the schema (creating it in an empty database), then serve.

::

    gateway serve --host 0.0.0.0 --port 8000

uvicorn builds the app with ``main.create_app()``; it logs through our structlog setup
(``log_config=None``), trusts proxy headers and sends no ``Server`` header.
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


def run_gateway(host: str, port: int) -> None:
    """Serve the gateway in the foreground until interrupted."""
    import uvicorn  # noqa: PLC0415 - only the serving commands pay for importing it

    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal: nothing left to do.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            loop="uvloop" if find_spec("uvloop") else "asyncio",
            http="httptools" if find_spec("httptools") else "h11",
            log_config=None,
            access_log=False,  # the app logs each request itself, with its request id
            proxy_headers=True,
            server_header=False,
        )


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Default: GATEWAY_HOST.", show_default=False)
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65535, help="Default: GATEWAY_PORT.", show_default=False),
    ] = None,
) -> None:
    """Serve the partner GraphQL API."""
    settings = load_settings_or_exit()
    try:
        if asyncio.run(ensure_schema(settings.database_url)):
            typer.echo("Created the database schema.", err=True)
    except SchemaError as exc:
        fail(str(exc))
    run_gateway(host or settings.host, port or settings.port)
