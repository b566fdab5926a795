"""The backend transport against scripted HTTP servers on real sockets.

The backend client's own suite (``test_client.py``) runs it against the sample backend
with injected faults; these cover what that cannot script: connection reuse, the pool's
bound, silences, malformed answers and what is written on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

import backend.transport as transport_module
from backend.transport import (
    BackendTransport,
    ConnectionFailed,
    ConnectTimeout,
    ReadTimeout,
    query_string,
)

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
Handler = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """Reads one request head at a time and lets ``handler`` answer it."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                await self.handler(head, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[tuple[Server, str]]]]:
    servers: list[Server] = []

    async def start(handler: Handler) -> tuple[Server, str]:
        server = Server(handler)
        servers.append(server)
        return server, await server.start()

    yield start
    for server in servers:
        assert server.server is not None
        server.server.close()


def _transport(url: str, **options: float) -> BackendTransport:
    settings = {"pool_size": 4, "connect_timeout": 1.0, "read_timeout": 1.0, **options}
    return BackendTransport(
        url,
        pool_size=int(settings["pool_size"]),
        connect_timeout=settings["connect_timeout"],
        read_timeout=settings["read_timeout"],
    )


async def _ok(head: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(OK)


async def test_a_kept_alive_connection_serves_the_next_request(serve: Any) -> None:
    server, url = await serve(_ok)
    transport = _transport(url)
    for _ in range(3):
        answer = await transport.request("GET", "/api/v1/badges/", {"X-Request-ID": "r1"})
        assert (answer.status, answer.body) == (200, b"{}")
    assert server.connections == 1
    head = server.requests[0].decode()
    assert head.startswith("GET /api/v1/badges/ HTTP/1.1\r\n")
    assert "X-Request-ID: r1\r\n" in head and "Host: 127.0.0.1:" in head
    await transport.close()


async def test_connection_close_is_honoured(serve: Any) -> None:
    async def closing(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
        writer.close()

    server, url = await serve(closing)
    transport = _transport(url)
    for _ in range(2):
        assert (await transport.request("GET", "/x/", {})).body == b"{}"
    assert server.connections == 2
    await transport.close()


async def test_a_get_on_a_connection_the_server_closed_is_sent_again_once(serve: Any) -> None:
    answered: list[int] = []

    async def once_per_connection(head: bytes, writer: asyncio.StreamWriter) -> None:
        if answered and answered[-1] == id(writer):
            writer.transport.abort()  # the server drops the kept-alive connection
            return
        answered.append(id(writer))
        writer.write(OK)

    server, url = await serve(once_per_connection)
    transport = _transport(url)
    await transport.request("GET", "/x/", {})
    assert (await transport.request("GET", "/x/", {})).status == 200  # re-sent, new connection
    assert server.connections == 2
    with pytest.raises(ConnectionFailed):  # a POST is never re-sent by the transport
        await transport.request("POST", "/x/", {}, b"{}")
    await transport.close()


async def test_bytes_after_an_answer_never_reach_the_next_caller(serve: Any) -> None:
    async def answer_twice(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b"/first/" in head:  # a second, unasked-for answer in the same write
            writer.write(OK + b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
        else:
            writer.write(OK)

    server, url = await serve(answer_twice)
    transport = _transport(url)
    assert (await transport.request("GET", "/first/", {})).body == b"{}"
    assert (await transport.request("GET", "/second/", {})).body == b"{}"
    assert server.connections == 2  # the first connection was dropped, not reused
    await transport.close()


async def test_interim_answers_are_skipped(serve: Any) -> None:
    async def early_hints(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + OK)

    server, url = await serve(early_hints)
    transport = _transport(url)
    for _ in range(2):
        assert (await transport.request("GET", "/x/", {})) == (200, b"{}", None)
    assert server.connections == 1
    await transport.close()


async def test_an_answer_too_large_is_refused(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_module, "MAX_ANSWER_BYTES", 10)
    _, url = await serve(_ok)
    transport = _transport(url)
    assert (await transport.request("GET", "/x/", {})).body == b"{}"
    monkeypatch.setattr(transport_module, "MAX_ANSWER_BYTES", 1)
    with pytest.raises(ConnectionFailed, match="too large"):
        await transport.request("GET", "/x/", {})
    await transport.close()


class _DeadlinePassed:
    """``asyncio.timeout`` as it ends when its deadline passes: the cancellation it
    caused comes out as ``TimeoutError``."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is asyncio.CancelledError:
            raise TimeoutError


@pytest.mark.parametrize("gives_up", ["cancelled", "deadline"])
async def test_a_slot_handed_over_as_its_waiter_gives_up_is_passed_on(
    serve: Any, gives_up: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = await serve(_ok)
    transport = _transport(url, pool_size=1)
    await transport._take_slot()  # the only connection is busy
    if gives_up == "deadline":
        monkeypatch.setattr(asyncio, "timeout", lambda delay: _DeadlinePassed())
    waiter = asyncio.create_task(transport._take_slot())
    await asyncio.sleep(0)  # it is waiting now
    transport._release_slot()  # the slot is handed to the waiter ...
    waiter.cancel()  # ... which gives up before it runs again
    with pytest.raises(ConnectTimeout if gives_up == "deadline" else asyncio.CancelledError):
        await waiter
    assert transport._free == 1  # passed on, not lost
    await transport.close()


async def test_a_chunked_answer_and_retry_after_are_read(serve: Any) -> None:
    async def chunked(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
            b'Transfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n5\r\n":1}\n\r\n0\r\n\r\n'
        )

    _, url = await serve(chunked)
    transport = _transport(url)
    answer = await transport.request("GET", "/x/", {})
    assert answer == (429, b'{"a":1}\n', "7")
    await transport.close()


async def test_silence_is_a_read_timeout_but_a_slow_steady_answer_is_not(serve: Any) -> None:
    async def drip_or_hang(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b"/hang/" in head:
            return  # never answers
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
        for byte in b"[    ]":  # each piece well within the timeout, the whole beyond it
            await asyncio.sleep(0.15)
            writer.write(bytes([byte]))

    _, url = await serve(drip_or_hang)
    transport = _transport(url, read_timeout=0.5)
    assert (await transport.request("GET", "/drip/", {})).body == b"[    ]"
    with pytest.raises(ReadTimeout):
        await transport.request("GET", "/hang/", {})
    await transport.close()


async def test_an_answer_that_is_not_http_fails_the_connection(serve: Any) -> None:
    async def garbage(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    _, url = await serve(garbage)
    transport = _transport(url)
    with pytest.raises(ConnectionFailed):
        await transport.request("GET", "/x/", {})
    await transport.close()


async def test_the_pool_is_bounded_and_waiting_for_it_is_too(serve: Any) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def held(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b"/slow/" in head:
            arrived.set()
            await release.wait()
        writer.write(OK)

    server, url = await serve(held)
    transport = _transport(url, pool_size=1, read_timeout=5)
    slow = asyncio.create_task(transport.request("GET", "/slow/", {}))
    await arrived.wait()
    waiting = asyncio.create_task(transport.request("GET", "/fast/", {}))
    for _ in range(20):
        await asyncio.sleep(0)  # turns of the loop: nothing would ever send it
    assert not waiting.done() and len(server.requests) == 1  # the one connection is taken
    release.set()
    assert (await slow).status == 200 and (await waiting).status == 200
    assert server.connections == 1  # the waiter got the freed connection
    await transport.close()


async def test_waiting_for_a_connection_is_bounded(serve: Any) -> None:
    arrived = asyncio.Event()

    async def dripping(head: bytes, writer: asyncio.StreamWriter) -> None:
        arrived.set()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):  # never silent for long, never done in time
            await asyncio.sleep(0.1)
            writer.write(b" ")

    _, url = await serve(dripping)
    transport = _transport(url, pool_size=1, connect_timeout=0.1, read_timeout=0.5)
    holder = asyncio.create_task(transport.request("GET", "/slow/", {}))
    await arrived.wait()
    with pytest.raises(ConnectTimeout):  # no free connection within connect + read
        await transport.request("GET", "/fast/", {})
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    await transport.close()


async def test_a_cancelled_exchange_never_hands_its_connection_on(serve: Any) -> None:
    arrived = asyncio.Event()

    async def hang_first(head: bytes, writer: asyncio.StreamWriter) -> None:
        if b"/hang/" in head:
            arrived.set()
        else:
            writer.write(OK)

    server, url = await serve(hang_first)
    transport = _transport(url, read_timeout=5)
    call = asyncio.create_task(transport.request("GET", "/hang/", {}))
    await arrived.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert (await transport.request("GET", "/x/", {})).status == 200
    assert server.connections == 2  # its late answer can never reach the next caller
    await transport.close()


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        ("GET", "/x/", {"X-Request-ID": "r1\r\nX-Admin: yes"}),  # header injection
        ("GET", "/x/", {"X-Request-ID": "r1\x00"}),
        ("GET", "/x/", {"X Request": "r1"}),  # not a header name
        ("GET", "/x/", {"Authorization": "Bearer \u20ac"}),  # not latin-1
        ("GET", "/x/ HTTP/1.1\r\nX-Admin: yes\r\n\r\nGET /y/", {}),  # request smuggling
        ("GET\r\n", "/x/", {}),
        ("HEAD", "/x/", {}),  # its answer's length would be misread
    ],
)
async def test_nothing_that_could_change_the_requests_framing_is_sent(
    serve: Any, method: str, target: str, headers: dict[str, str]
) -> None:
    server, url = await serve(_ok)
    transport = _transport(url)
    with pytest.raises(ValueError) as refused:
        await transport.request(method, target, headers)
    assert "Bearer" not in str(refused.value) and refused.value.__cause__ is None
    assert server.requests == []  # nothing was sent
    await transport.close()


async def test_a_refused_connection_fails_the_call(serve: Any) -> None:
    server, url = await serve(_ok)
    transport = _transport(url)
    await transport.close()
    assert server.server is not None
    server.server.close()
    await server.server.wait_closed()
    with pytest.raises(ConnectionFailed):
        await _transport(url).request("GET", "/x/", {})


@given(
    st.dictionaries(
        st.sampled_from(["ids", "search", "recipient_email", "status", "page"]),
        st.one_of(st.text(max_size=30), st.integers(min_value=0, max_value=10**12)),
    )
)
def test_query_values_round_trip_and_never_add_a_parameter(params: dict[str, Any]) -> None:
    query = query_string(params)
    assert parse_qsl(query, keep_blank_values=True) == [(k, str(v)) for k, v in params.items()]
    assert not any(c in query for c in " #\r\n")
