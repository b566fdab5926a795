"""Per-call cost of BackendClient versus bare aiohttp and httpx, same run, same backend.

Why the backend client is built on aiohttp rather than the design card's httpx: this
measures both (docs/performance.md). Starts a sample backend (no access log) unless
``--url`` is given, then times GETs of one badge from ``--concurrency`` tasks,
interleaving rounds::

    .venv/bin/python -m bench.client_overhead --calls 5000 --rounds 5 --concurrency 16

``bare`` is ``session.get`` + ``orjson.loads`` on a default aiohttp session; ``bare+timeouts``
is the same with a ``ClientTimeout`` like the one the client had on aiohttp (per-read
timers are not free); ``client`` is ``BackendClient.get("/api/v1/badges/{id}/", {"id": 1})``
on its own transport (:mod:`backend.transport`); ``httpx`` is an
``httpx.AsyncClient`` with a pool of the same size; ``floor`` is the least any client
must do: one kept-alive HTTP/1.1 connection per task, the request written as bytes and
the answer parsed by httptools (uvicorn's parser), with no pool, timeout or error
handling: what a leaner transport under ``BackendClient`` could approach. Wall time
includes the backend's own work (it runs in another process); CPU time is this
process's only.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httptools
import httpx
import orjson

from backend.client import BackendClient
from observability.request_id import bind_request_id
from settings import Settings

REPO = Path(__file__).resolve().parents[1]
USERNAME = "gateway-service"
PASSWORD = "sample-backend-password"  # the sample backend's default; not a secret


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_backend() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sample_backend", "--port", str(port), "--no-access-log"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the sample backend did not start")


class _BareConnection(asyncio.Protocol):
    """One keep-alive connection answering one request at a time (``floor``)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.answer: asyncio.Future[bytes] | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.answer is not None
        self.answer.set_result(b"".join(self.body))
        self.body = []

    async def get(self, request: bytes) -> bytes:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.answer


async def _timed(
    calls: int, one: Callable[[], Awaitable[object]], concurrency: int = 1
) -> tuple[float, float]:
    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.process_time() - cpu) / calls * 1e6,
    )


async def bench(url: str, calls: int, rounds: int, concurrency: int) -> None:
    settings = Settings(
        backend_url=url,
        backend_username=USERNAME,
        backend_password=PASSWORD,
        key_pepper="bench-pepper-" + "x" * 20,
    )
    bind_request_id("bench-request-id")
    async with BackendClient(settings) as client:
        await client.get("/api/v1/badges/{id}/", {"id": 1})
        authorization = client.tokens.cached_authorization() or ""
        headers = {"Authorization": authorization, "X-Request-ID": "bench-request-id"}
        badge_url = url + "/api/v1/badges/1/"
        timeout = aiohttp.ClientTimeout(
            connect=settings.backend_connect_timeout + settings.backend_read_timeout,
            sock_connect=settings.backend_connect_timeout,
            sock_read=settings.backend_read_timeout,
        )
        limits = httpx.Limits(max_connections=settings.backend_pool_size)
        async with (
            aiohttp.ClientSession() as bare,
            aiohttp.ClientSession(timeout=timeout) as timed,
            httpx.AsyncClient(limits=limits) as plain_httpx,
        ):

            async def get_bare() -> object:
                async with bare.get(badge_url, headers=headers) as response:
                    return orjson.loads(await response.read())

            async def get_timed() -> object:
                async with timed.get(badge_url, headers=headers) as response:
                    return orjson.loads(await response.read())

            async def get_client() -> object:
                return await client.get("/api/v1/badges/{id}/", {"id": 1})

            async def get_httpx() -> object:
                response = await plain_httpx.get(badge_url, headers=headers)
                return orjson.loads(response.content)

            host, port = url.removeprefix("http://").rsplit(":", 1)
            request = (
                f"GET /api/v1/badges/1/ HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: {authorization}\r\nX-Request-ID: bench-request-id\r\n\r\n"
            ).encode()
            loop = asyncio.get_running_loop()
            idle: list[_BareConnection] = []

            async def get_floor() -> object:
                if idle:
                    connection = idle.pop()
                else:
                    _, connection = await loop.create_connection(_BareConnection, host, int(port))
                body = await connection.get(request)
                idle.append(connection)
                return orjson.loads(body)

            variants = {
                "bare": get_bare,
                "bare+timeouts": get_timed,
                "client": get_client,
                "httpx": get_httpx,
                "floor": get_floor,
            }
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for one in variants.values():
                await _timed(min(calls, 500), one, concurrency)  # warm-up
            for _ in range(rounds):
                for name, one in variants.items():
                    results[name].append(await _timed(calls, one, concurrency))
    print(
        f"{calls * rounds} GETs per variant from {concurrency} concurrent tasks,"
        f" median of {rounds} rounds:"
    )
    base_wall = statistics.median(w for w, _ in results["bare"])
    base_cpu = statistics.median(c for _, c in results["bare"])
    for name, samples in results.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(
            f"  {name:14} wall {wall:7.1f} us/call ({wall - base_wall:+6.1f})"
            f"   cpu {cpu:7.1f} us/call ({cpu - base_cpu:+6.1f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running sample backend (default: start one)")
    parser.add_argument("--calls", type=int, default=1000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    process = None
    url = args.url
    if url is None:
        process, url = _start_backend()
    try:
        asyncio.run(bench(url, args.calls, args.rounds, args.concurrency))
    finally:
        if process is not None:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
