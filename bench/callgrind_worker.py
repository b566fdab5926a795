"""One gateway, in process, under callgrind: N requests counted, nothing else.

Run by :mod:`bench.instructions` as a script, with ``PYTHONPATH`` set to the checkout
being measured, so it imports nothing from this one: only that checkout's ``main``.
The ``/graphql`` pipeline runs as an ASGI app (no uvicorn, no sockets on the partner
side) against the live sample backend, 16 requests at a time. Instrumentation is off
during start-up and warm-up and switched on with ``callgrind_control`` just before the
measured requests; a dump right after them holds exactly their instructions::

    valgrind --tool=callgrind --instr-atstart=no python bench/callgrind_worker.py BODY KEY N
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import MutableMapping
from typing import Any

__all__ = ["main"]

CONCURRENCY = 16
WARMUP_PER_WORKER = 20


def _callgrind(*command: str) -> None:
    """``callgrind_control`` on this process. Valgrind serves it between instructions,
    not while we block in a system call, so wait by computing, not by ``wait()``."""
    control = subprocess.Popen(
        ["callgrind_control", *command, str(os.getpid())],  # noqa: S607
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    spin = 0
    while control.poll() is None:
        spin = (spin + 1) % 1_000_003


async def _measure(body: bytes, api_key: str, requests: int) -> int:
    from main import create_app  # noqa: PLC0415 - from the checkout under measurement

    app = create_app()
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", b"Bearer " + api_key.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def client(count: int) -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    router = app.router
    async with router.router.lifespan_context(router):
        await asyncio.gather(*(client(WARMUP_PER_WORKER) for _ in range(CONCURRENCY)))
        expected = statuses[0]
        statuses.clear()
        _callgrind("--instr=on")
        await asyncio.gather(*(client(requests // CONCURRENCY) for _ in range(CONCURRENCY)))
        _callgrind("--dump")
    if set(statuses) != {expected}:
        raise RuntimeError(f"statuses changed during the run: {sorted(set(statuses))}")
    return len(statuses)


def main(argv: list[str]) -> None:
    body, api_key, requests = argv[0].encode(), argv[1], int(argv[2])
    # The gateway's JSON lines go to a file, as in production; keep them off the pipe.
    log = os.open(os.environ["BENCH_GATEWAY_LOG"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 1)
    try:
        import uvloop  # noqa: PLC0415

        counted = uvloop.run(_measure(body, api_key, requests))
    except ImportError:
        counted = asyncio.run(_measure(body, api_key, requests))
    print(f"requests={counted}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
