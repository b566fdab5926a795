"""``python -m sample_backend``: run the sample backend until SIGINT or SIGTERM.

::

    python -m sample_backend --port 8001 --access-lifetime 300
    # sample backend listening on http://127.0.0.1:8001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from sample_backend.app import create_server
from sample_backend.config import BackendConfig

__all__ = ["main", "parse_args", "serve"]

_DEFAULTS = BackendConfig()


def parse_args(argv: Sequence[str] | None = None) -> BackendConfig:
    """The configuration given on the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sample_backend",
        description="Sample implementation of the credentials backend's REST contract.",
    )
    parser.add_argument("--host", default=_DEFAULTS.host)
    parser.add_argument("--port", type=int, default=_DEFAULTS.port, help="0 picks a free port")
    parser.add_argument(
        "--access-lifetime",
        type=int,
        default=_DEFAULTS.access_lifetime,
        metavar="SECONDS",
        help="access token lifetime (0: tokens are born expired)",
    )
    parser.add_argument(
        "--refresh-lifetime",
        type=int,
        default=_DEFAULTS.refresh_lifetime,
        metavar="SECONDS",
        help="refresh token lifetime",
    )
    parser.add_argument("--username", default=_DEFAULTS.username, help="staff service account")
    parser.add_argument("--password", default=_DEFAULTS.password)
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request"
    )
    args = parser.parse_args(argv)
    try:
        return BackendConfig(
            host=args.host,
            port=args.port,
            access_lifetime=args.access_lifetime,
            refresh_lifetime=args.refresh_lifetime,
            username=args.username,
            password=args.password,
            access_log=not args.no_access_log,
        )
    except ValueError as exc:
        parser.error(str(exc))


async def serve(config: BackendConfig) -> None:
    """Serve until SIGINT/SIGTERM, printing the listening line once ready."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.ServerRunner(create_server(config), handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=1024, reuse_address=True)
    await site.start()
    port = config.port
    for address in runner.addresses:  # the real port when --port 0
        port = int(address[1])
        break
    print(f"sample backend listening on http://{config.host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: parse the arguments and serve (on uvloop when it is installed)."""
    config = parse_args(argv)
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up
    except ImportError:
        asyncio.run(serve(config))
    else:
        uvloop.run(serve(config))
    sys.stderr.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
