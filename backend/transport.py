"""HTTP/1.1 to the backend: kept-alive connections on asyncio protocols, parsed by httptools.

Every backend call of the gateway is one exchange on a pooled connection. aiohttp's
request path (a request and a response object, cookie and redirect handling, per-read
timers, URL parsing) cost ~116 µs of CPU per GET on this machine, against ~36 for the
least any client must do (``bench/client_overhead.py``, docs/performance.md); this
transport does only what :class:`~backend.client.BackendClient` needs::

    transport = BackendTransport("http://backend:8000", pool_size=100,
                                 connect_timeout=3.0, read_timeout=10.0)
    answer = await transport.request("GET", "/api/v1/badges/?ids=1", {"X-Request-ID": "r1"})
    answer.status, answer.body, answer.retry_after
    await transport.close()

What it keeps of a full client: at most ``pool_size`` connections, and a bounded wait for
one (``connect_timeout + read_timeout``); keep-alive with an idle expiry and the server's
``Connection: close``; a GET re-sent at once, once, when the kept-alive connection it
went out on turns out closed by the server before any answer (RFC 9112 section 9.3.1);
a connection dropped, never reused, when its exchange fails or is cancelled, or when the
server sends anything but the one answer asked for; interim (1xx) answers skipped; TLS
with hostname checking for ``https://``; control characters refused in the request line
and headers; answers capped in size. It never follows a redirect, asks for no
compression, sends no HEAD, and needs every answer to carry its length (Content-Length
or chunked), as DRF behind any WSGI server does.

Exceptions::

    TransportError            the exchange did not produce a complete answer
    ├── ConnectTimeout        no connection within connect_timeout (or no free one in time)
    ├── ReadTimeout           the backend went silent for read_timeout while answering
    └── ConnectionFailed      refused, reset, closed early, or not HTTP
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections import deque
from collections.abc import Mapping
from typing import NamedTuple, cast
from urllib.parse import quote, urlsplit

import httptools

__all__ = [
    "Answer",
    "BackendTransport",
    "ConnectTimeout",
    "ConnectionFailed",
    "ReadTimeout",
    "TransportError",
    "query_string",
]


class TransportError(Exception):
    """The exchange did not produce a complete answer."""


class ConnectTimeout(TransportError):
    """No connection within the connect timeout, or no free pooled one in time."""


class ReadTimeout(TransportError):
    """The backend went silent for longer than the read timeout while answering."""


class ConnectionFailed(TransportError):
    """Refused, reset, closed before the answer was complete, or not HTTP."""


class Answer(NamedTuple):
    status: int
    body: bytes
    retry_after: str | None  # the Retry-After header, as sent


_SAFE_QUERY_VALUE = re.compile(r"[A-Za-z0-9._~,-]*")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})  # no HEAD: see above
_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110 token)
_TARGET = re.compile(r"/[\x21-\x7e]*")  # a path and query, already percent-encoded
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # never in a header value
_CHECKED_NAMES: set[str] = set()
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # an answer bigger than this is refused, not buffered
_MAX_HEADER_BYTES = 64 * 1024


def query_string(params: Mapping[str, str | int]) -> str:
    """``a=1&b=x%20y``: names are ours, values percent-encoded unless plainly safe."""
    parts = []
    for name, value in params.items():
        text = str(value)
        if not _SAFE_QUERY_VALUE.fullmatch(text):
            text = quote(text, safe="")
        parts.append(f"{name}={text}")
    return "&".join(parts)


class _Connection(asyncio.Protocol):
    """One connection, one exchange at a time; the parser calls back as the answer comes."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[Answer] | None = None  # the exchange waiting
        self._body: list[bytes] = []
        self._retry_after: str | None = None
        self._header_bytes = 0  # of the current answer
        self._body_bytes = 0
        self._last_read = 0.0
        self._silence: asyncio.TimerHandle | None = None
        self.closed = False
        self.reusable = True
        self.answered_bytes = False  # any byte of the current exchange's answer arrived
        self.idle_since = 0.0

    # -- the exchange -------------------------------------------------------------------

    async def exchange(self, request: bytes) -> Answer:
        transport = self._transport
        if transport is None or self.closing():
            raise ConnectionFailed("the connection is closed")
        answer: asyncio.Future[Answer] = self._loop.create_future()
        self._answer = answer
        self._body, self._retry_after = [], None
        self._header_bytes = self._body_bytes = 0
        self.answered_bytes = False
        self._last_read = self._loop.time()
        self._silence = self._loop.call_at(self._last_read + self._read_timeout, self._silent)
        transport.write(request)
        try:
            return await answer
        except BaseException:
            self.abort()  # failed or cancelled mid-exchange: its state is unknown
            raise
        finally:
            if self._silence is not None:
                self._silence.cancel()
                self._silence = None
            self._answer = None

    def _silent(self) -> None:
        """The read timer: fires once per silence, re-armed if data came meanwhile."""
        waited = self._loop.time() - self._last_read
        if waited < self._read_timeout:
            self._silence = self._loop.call_at(self._last_read + self._read_timeout, self._silent)
            return
        self._silence = None
        self._fail(ReadTimeout(f"no data from the backend for {self._read_timeout:g} s"))

    def _fail(self, error: TransportError) -> None:
        answer = self._answer
        if answer is not None and not answer.done():
            answer.set_exception(error)
        self.abort()

    def closing(self) -> bool:
        return self.closed or self._transport is None or self._transport.is_closing()

    def abort(self) -> None:
        self.reusable = False
        if self._transport is not None and not self.closed:
            self._transport.abort()

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCP and SSL transports are not always registered as asyncio.Transport.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        answer = self._answer
        if answer is None or answer.done():  # nothing asked: a server talking out of turn
            self.abort()
            return
        self.answered_bytes = True
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(ConnectionFailed("the backend's answer is not HTTP/1.1"))

    def eof_received(self) -> bool:
        return False  # close; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        self._fail(ConnectionFailed("the backend closed the connection"))

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        answer = self._answer
        if answer is None or answer.done():  # a second answer to one request: drop it
            self._fail(ConnectionFailed("the backend sent an answer nobody asked for"))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > _MAX_HEADER_BYTES:
            self._fail(ConnectionFailed("the backend's answer is too large"))
        if name.lower() == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > MAX_ANSWER_BYTES:
            self._fail(ConnectionFailed("the backend's answer is too large"))
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # interim (103 Early Hints, 100 Continue): the answer follows
            if status == 101:  # a protocol switch was never asked for
                self._fail(ConnectionFailed("the backend switched protocols"))
            self._body, self._retry_after = [], None
            self._header_bytes = self._body_bytes = 0
            return
        answer = Answer(status, b"".join(self._body), self._retry_after)
        self._body, self._retry_after = [], None
        if not self._parser.should_keep_alive():
            self.reusable = False
        future = self._answer
        if future is not None and not future.done():
            future.set_result(answer)


class BackendTransport:
    """Pooled HTTP/1.1 connections to one origin (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        pool_size: int,
        connect_timeout: float,
        read_timeout: float,
        keepalive_timeout: float = 15.0,
        user_agent: str = "partner-gateway",
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("the backend URL must be http:// or https:// with a host")
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if url.scheme == "https" else None
        self._prefix = url.path.rstrip("/")
        host_header = url.netloc.rpartition("@")[2]  # never credentials in a Host header
        self._head = (
            f"Host: {host_header}\r\nUser-Agent: {user_agent}\r\nAccept: application/json\r\n"
        )
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keepalive = keepalive_timeout
        self._free = pool_size  # connections that may still be opened or handed out
        self._waiters: deque[asyncio.Future[None]] = deque()  # first come, first served
        self._idle: list[_Connection] = []
        self._closed = False

    async def request(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None = None,
    ) -> Answer:
        """One exchange: ``target`` is the path and query under the base URL. A method,
        target or header that could change the request's framing is a ``ValueError``."""
        request = self._request_bytes(method, target, headers, body)
        await self._take_slot()
        try:
            connection, reused = await self._connection()
            try:
                return await connection.exchange(request)
            except ConnectionFailed:
                if not (reused and method == "GET" and not connection.answered_bytes):
                    raise
            finally:
                self._give_back(connection)
            # The kept-alive connection had been closed by the server: once more, new.
            connection = await self._connect()
            try:
                return await connection.exchange(request)
            finally:
                self._give_back(connection)
        finally:
            self._release_slot()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.abort()

    # -- requests -------------------------------------------------------------------------

    def _request_bytes(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | None
    ) -> bytes:
        if method not in _METHODS or not _TARGET.fullmatch(target):
            raise ValueError("the request line is not one this transport sends")
        lines = [f"{method} {self._prefix}{target} HTTP/1.1\r\n{self._head}"]
        for name, value in headers.items():
            if name not in _CHECKED_NAMES:  # names come from code: each checked once
                if not _NAME.fullmatch(name):
                    raise ValueError(f"header name {name!r} is not a token")
                _CHECKED_NAMES.add(name)
            lines.append(f"{name}: {value}\r\n")
        if _CONTROL.search("\t".join(headers.values())):  # one scan for all the values
            raise ValueError("a header value has a control character")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}\r\n")
        lines.append("\r\n")
        try:
            head = "".join(lines).encode("latin-1")
        except UnicodeEncodeError:  # its .object would hold every header, tokens included
            raise ValueError("a header value is not latin-1") from None
        return head if body is None else head + body

    # -- the pool -------------------------------------------------------------------------

    async def _take_slot(self) -> None:
        if self._free > 0:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._connect_timeout + self._read_timeout):
                await waiter  # _release_slot hands its slot over directly
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                self._release_slot()  # handed over as we gave up (timeout, cancel): pass it on
            if isinstance(error, TimeoutError):
                raise ConnectTimeout("no free backend connection in time") from None
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _release_slot(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    async def _connection(self) -> tuple[_Connection, bool]:
        """A kept-alive connection if one is fresh, else a new one; and which it is."""
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if (
                connection.reusable
                and not connection.closing()
                and now - connection.idle_since < self._keepalive
            ):
                return connection, True
            connection.abort()
        return await self._connect(), False

    async def _connect(self) -> _Connection:
        if self._closed:
            raise ConnectionFailed("the backend transport is closed")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop, self._read_timeout),
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                )
        except TimeoutError:
            raise ConnectTimeout(
                f"no connection to the backend within {self._connect_timeout:g} s"
            ) from None
        except OSError as error:  # refused, unreachable, TLS failures (ssl.SSLError)
            reason = error.strerror or type(error).__name__
            raise ConnectionFailed(f"cannot connect to the backend: {reason}") from None
        return connection

    def _give_back(self, connection: _Connection) -> None:
        if connection.reusable and not connection.closing() and not self._closed:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.abort()
