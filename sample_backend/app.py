"""The aiohttp application: one catch-all handler that routes, authenticates and answers.

Per request, in this order (DRF's): admin API, fault injection, URL resolution (with
Django's APPEND_SLASH 301), JWT authentication, staff permission, method, view. Every
request gets one access-log line on stderr and its ``X-Request-ID`` echoed::

    app = create_app(BackendConfig(access_lifetime=60))   # in-process, e.g. for tests
    server = create_server(BackendConfig())                # what __main__ serves
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote, unquote

from aiohttp import web
from multidict import CIMultiDictProxy

from sample_backend.admin import ADMIN_PREFIX, handle_admin
from sample_backend.auth import WWW_AUTHENTICATE
from sample_backend.config import BackendConfig
from sample_backend.context import Call, State
from sample_backend.faults import Fault, error_html_body, throttled_detail
from sample_backend.recorder import access_log
from sample_backend.responses import JSON, ApiError, Reply, json_reply, method_not_allowed
from sample_backend.routing import Route, resolve

__all__ = ["STATE_KEY", "create_app", "create_server"]

STATE_KEY = web.AppKey("sample_backend_state", State)

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NOT_FOUND = b'{"detail":"Not found."}'
_PARSES = ["application/json", "application/x-www-form-urlencoded"]


def _metadata(route: Route) -> Reply:
    """DRF's SimpleMetadata answer to OPTIONS."""
    return json_reply(
        200,
        {"name": route.name, "description": "", "renders": [JSON], "parses": _PARSES},
    )


def _malformed(body: bytes) -> bytes:
    """A JSON body cut short, so that no JSON parser accepts it."""
    if len(body) < 2:
        return b'{"detail": "'
    return body[: len(body) // 2]


class _Incoming:
    """What the dispatcher knows about one request before answering it."""

    __slots__ = ("headers", "method", "path", "query", "request", "request_id", "start")

    def __init__(self, request: web.BaseRequest) -> None:
        self.start = time.perf_counter()
        self.request = request
        self.method = request.method
        self.path, _, self.query = request.raw_path.partition("?")
        if "%" in self.path:
            self.path = unquote(self.path)
        self.headers: CIMultiDictProxy[str] = request.headers
        self.request_id = self.headers.get("X-Request-ID")


class _Dispatcher:
    """The application's only handler."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.log = state.config.access_log

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        incoming = _Incoming(request)
        if incoming.path.startswith(ADMIN_PREFIX):
            return await self._admin(incoming)
        faults = self.state.faults
        fault = faults.take(incoming.method, incoming.path) if faults else None
        if fault is None:
            reply = await self._api(incoming)
            self._finish(incoming, reply.status, None)
            return self._response(reply, incoming.request_id)
        if fault.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.close()
            self._finish(incoming, None, fault.kind)
            # Writing to the closed transport fails; aiohttp then drops the request.
            return web.Response(status=500)
        reply = await self._faulty(fault, incoming)
        self._finish(incoming, reply.status, fault.kind)
        return self._response(reply, incoming.request_id)

    async def _admin(self, incoming: _Incoming) -> web.StreamResponse:
        method = incoming.method
        body = await incoming.request.read() if method in _BODY_METHODS else b""
        reply = handle_admin(self.state, method, incoming.path, body)
        if self.log:
            access_log(
                method,
                incoming.path,
                incoming.query,
                status=reply.status,
                request_id=incoming.request_id,
                duration=time.perf_counter() - incoming.start,
            )
        return self._response(reply, incoming.request_id)

    async def _faulty(self, fault: Fault, incoming: _Incoming) -> Reply:
        kind = fault.kind
        if kind == "error_html":
            return Reply(fault.status, error_html_body(fault.status), "text/html")
        if kind == "throttle":
            wait = fault.retry_after
            return json_reply(
                429, {"detail": throttled_detail(wait)}, headers={"Retry-After": str(wait)}
            )
        if kind == "redirect":  # what a misconfigured proxy might send: never to be followed
            return Reply(302, b"", "text/html", headers={"Location": fault.location})
        if kind == "delay":
            await asyncio.sleep(fault.delay_ms / 1000)
            return await self._api(incoming)
        # malformed_json: the real answer (side effects included), cut short, as a 200.
        real = await self._api(incoming)
        return Reply(200, _malformed(real.body), JSON)

    def _finish(self, incoming: _Incoming, status: int | None, fault_kind: str | None) -> None:
        headers = incoming.headers
        self.state.recorder.record(
            incoming.method,
            incoming.path,
            incoming.query,
            request_id=incoming.request_id,
            idempotency_key=headers.get("Idempotency-Key"),
            status=status,
            authorization_present="Authorization" in headers,
            fault=fault_kind,
        )
        if self.log:
            access_log(
                incoming.method,
                incoming.path,
                incoming.query,
                status=status,
                request_id=incoming.request_id,
                duration=time.perf_counter() - incoming.start,
                fault=fault_kind,
            )

    @staticmethod
    def _response(reply: Reply, request_id: str | None) -> web.Response:
        response_headers = {"Content-Type": reply.content_type}
        if reply.headers:
            response_headers.update(reply.headers)
        if request_id is not None:
            response_headers["X-Request-ID"] = request_id
        return web.Response(status=reply.status, body=reply.body, headers=response_headers)

    async def _api(self, incoming: _Incoming) -> Reply:
        path = incoming.path
        resolved = resolve(path)
        if resolved is None:
            if not path.endswith("/") and resolve(path + "/") is not None:
                # Django's CommonMiddleware (APPEND_SLASH): a relative Location.
                location = quote(path + "/", safe="/:@!$&'()*+,;=-._~")
                if incoming.query:
                    location += "?" + incoming.query
                return Reply(301, b"", "text/html; charset=utf-8", {"Location": location})
            return Reply(404, _NOT_FOUND)
        route, param = resolved
        try:
            reply = await self._view(incoming, route, param)
        except ApiError as exc:
            reply = exc.reply()
        if reply.headers is None:
            reply.headers = {"Allow": route.allow}
        else:
            reply.headers["Allow"] = route.allow
        return reply

    async def _view(self, incoming: _Incoming, route: Route, param: str | None) -> Reply:
        request, method, headers = incoming.request, incoming.method, incoming.headers
        call = Call(method, param, incoming.query, request.host, request.raw_path)
        if route.authenticated:
            user = self.state.tokens.authenticate(headers.get("Authorization"))
            if user is None:
                raise ApiError.detail(
                    401,
                    "Authentication credentials were not provided.",
                    headers={"WWW-Authenticate": WWW_AUTHENTICATE},
                )
            if not user.is_staff:
                raise ApiError.detail(403, "You do not have permission to perform this action.")
            call.user = user
        view = route.views.get("GET" if method == "HEAD" else method)
        if view is None:
            if method == "OPTIONS":
                return _metadata(route)
            raise method_not_allowed(method)
        if method in _BODY_METHODS:
            call.body = await request.read()
            call.content_type = headers.get("Content-Type")
            call.idempotency_key = headers.get("Idempotency-Key") or None
        return view(self.state, call)


def create_app(config: BackendConfig | None = None) -> web.Application:
    """The sample backend as an aiohttp application (seeded, no faults).

    Its :class:`State` is ``app[STATE_KEY]``.
    """
    state = State.create(config or BackendConfig())
    app = web.Application()
    app[STATE_KEY] = state
    app.router.add_route("*", "/{tail:.*}", _Dispatcher(state).handle)
    return app


def create_server(config: BackendConfig | None = None) -> web.Server:
    """The same backend as a low-level aiohttp server: no router or middleware layer.

    What ``python -m sample_backend`` runs: a quarter faster than :func:`create_app`
    because every request goes straight to the dispatcher.
    """
    state = State.create(config or BackendConfig())
    return web.Server(_Dispatcher(state).handle, access_log=None)
