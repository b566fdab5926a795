"""The HTTP client of the backend: pooled transport, JWT auth, retries, typed errors.

One :class:`BackendClient` per process (one pool of keep-alive HTTP/1.1 connections,
:mod:`backend.transport`); every backend call of the gateway goes through it::

    async with BackendClient(settings) as client:
        badge = await client.get("/api/v1/badges/{id}/", {"id": 42})
        page = await client.get("/api/v1/badges/", params={"organization": 1, "page": 1})
        issued = await client.post(
            "/api/v1/credentials/", json={"badge": 42, "recipient": {"email": "a@b.co"}},
            idempotency_key="gw-7f3a",
        )

What a call does:

* headers: ``Authorization: Bearer <access>`` (see :mod:`backend.tokens`),
  ``X-Request-ID: current_request_id()``, ``Idempotency-Key`` when given;
* path parameters are validated before being formatted into the template: an ``int``
  (a backend id, ``>= 0``) or a UUID (a ``str`` or :class:`uuid.UUID`, sent in canonical
  form); anything else is a ``BadUserInput``, so no input can add a path segment;
* a 401 invalidates the access token, re-authenticates once (single-flight: refresh,
  else log in) and retries the request once, whatever its method (a 401 means it was
  not processed); a second 401 is a ``BackendRejected(401)``. A 403 is not retried: a
  new token would not make the service account staff;
* GETs, and POSTs with an ``Idempotency-Key``, are retried on connection errors, connect
  timeouts, 502/503/504 and 429, at most ``backend_max_retries`` times with full-jitter
  backoff or the 429's ``Retry-After`` (see :mod:`backend.retry`); a read timeout is
  not. (Below this policy, the transport re-sends a GET once, at once, when a pooled
  keep-alive connection turns out closed by the server: RFC 9112 section 9.3.1.)
* a circuit breaker (:mod:`backend.circuit`) counts consecutive failed attempts (no
  answer, 502/503/504/429, a 2xx that is not JSON, cancelled by the deadline); after
  ``backend_circuit_failures`` of them, calls fail at once with ``BackendUnavailable``
  for ``backend_circuit_reset`` seconds, then one probe decides whether to close it;
* timeouts: ``backend_connect_timeout`` bounds the TCP connect; ``backend_read_timeout``
  the longest silence of the backend while it answers (time to first byte included);
  waiting for a free pooled connection is bounded by their sum;
* outcomes: 2xx → the decoded JSON (orjson); 400 → ``BackendValidationError`` with DRF's
  field errors as they came (nested); 404 → ``BackendNotFound``; 409 →
  ``BackendConflict``; other 3xx/4xx → ``BackendRejected(status)``; 5xx, 429, refused or
  dropped connections, a 2xx that is not JSON → ``BackendUnavailable``; connect and read
  timeouts → ``BackendTimeout``. A DRF ``detail`` is kept on ``exc.detail`` for logs; no
  backend body, URL or token ever reaches ``str(exc)`` or ``exc.public_message``.

Tracing: pass ``on_call`` (or set ``client.on_call``) to receive one :class:`BackendCall`
per HTTP attempt, token calls included. Without an observer the cost is a ``None`` check.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from time import perf_counter
from types import TracebackType
from typing import Any, Final, Self

import orjson

from backend.circuit import CircuitBreaker
from backend.retry import (
    CONNECT_TIMEOUT,
    CONNECTION_ERROR,
    INVALID_JSON,
    READ_TIMEOUT,
    RETRY_STATUSES,
    UNAUTHORIZED,
    backoff_delay,
    parse_retry_after,
    reason_for_status,
    should_retry,
)
from backend.tokens import TokenManager
from backend.transport import (
    BackendTransport,
    ConnectionFailed,
    ConnectTimeout,
    ReadTimeout,
    query_string,
)
from errors import (
    BackendConflict,
    BackendError,
    BackendNotFound,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    BackendValidationError,
    BadUserInput,
)
from observability.request_id import current_request_id
from observability.trace_context import trace_headers
from settings import Settings

__all__ = ["BackendCall", "BackendClient", "CallObserver", "format_path"]

logger = logging.getLogger(__name__)

_MAX_ID: Final = 2**63 - 1
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAX_DETAIL: Final = 500
_MAX_IDEMPOTENCY_KEY: Final = 255
_USER_AGENT: Final = "partner-gateway"
_JSON: Final = "application/json"
#: A 2xx whose body is not JSON.
_INVALID_JSON: Final = INVALID_JSON
#: Statuses that say the backend cannot serve now (the circuit breaker counts them).
_UNAVAILABLE: Final = RETRY_STATUSES


@dataclass(frozen=True, slots=True)
class BackendCall:
    """One HTTP attempt to the backend, for tracing and metrics.

    ``attempt`` counts from 1 within one client call; ``retry_reason`` says why this
    attempt was made (``None`` for the first; ``"http_503"``, ``"connection_error"``,
    ``"connect_timeout"``, ``"http_429"``, ``"unauthorized"``... for later ones).
    ``status`` is ``None`` when no response arrived; ``error`` then says why
    (``"connection_error"``, ``"connect_timeout"``, ``"read_timeout"``),
    and is ``"invalid_json"`` for a 2xx whose body could not be decoded.
    """

    method: str
    path_template: str
    status: int | None
    duration_ms: float
    attempt: int
    retry_reason: str | None
    request_id: str
    error: str | None = None


#: Receives each :class:`BackendCall`; must be fast and must not raise (errors are logged).
CallObserver = Callable[[BackendCall], None]


def _path_segment(name: str, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= _MAX_ID:
            return str(value)
    elif isinstance(value, uuid.UUID):
        return str(value)
    elif isinstance(value, str):
        if _CANONICAL_UUID.fullmatch(value):
            return value
        try:
            return str(uuid.UUID(value))  # other spellings, sent in the canonical one
        except ValueError:
            pass
    raise BadUserInput(f"`{name}` is not a valid identifier.", field=name)


def format_path(path_template: str, path_params: Mapping[str, object] | None = None) -> str:
    """``"/api/v1/badges/{id}/"`` + ``{"id": 42}`` → ``"/api/v1/badges/42/"``.

    Values must be ids (``int >= 0``) or UUIDs; anything else raises ``BadUserInput``.
    A template without the trailing slash (the backend would answer 301) or with a
    placeholder left unfilled is a programming error: ``ValueError``.
    """
    if not path_template.startswith("/") or not path_template.endswith("/"):
        raise ValueError(f"backend path must start and end with '/': {path_template!r}")
    if not path_params:
        if "{" in path_template:
            raise ValueError(f"backend path {path_template!r} needs path parameters")
        return path_template
    segments = {name: _path_segment(name, value) for name, value in path_params.items()}
    try:
        return path_template.format_map(segments)
    except (KeyError, IndexError) as exc:
        raise ValueError(f"backend path {path_template!r} is missing {exc}") from None


def _check_idempotency_key(key: str) -> str:
    if not 0 < len(key) <= _MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise ValueError("an Idempotency-Key must be 1-255 printable ASCII characters")
    return key


def _detail(raw: bytes) -> str:
    """DRF's ``detail`` from an error body, for logs only (short, and never raises)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail)[:_MAX_DETAIL] if detail is not None else ""


# (status, body, Retry-After, failure, cause, whether the attempt was the circuit's probe)
_Outcome = tuple[int, bytes, str | None, str | None, Exception | None, bool]


class BackendClient:
    """The gateway's only way to the backend. See the module docstring.

    ``clock`` (seconds, ``time.time``) drives token expiry; ``monotonic`` the circuit
    breaker; ``sleep`` waits between retries; ``rand`` draws the jitter. Tests inject
    them to run without waiting.
    """

    __slots__ = (
        "_base_url",
        "_breaker",
        "_clock",
        "_max_retries",
        "_rand",
        "_retry_after_cap",
        "_retry_backoff",
        "_settings",
        "_sleep",
        "_tokens",
        "_transport",
        "on_call",
    )

    def __init__(
        self,
        settings: Settings,
        *,
        on_call: CallObserver | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._base_url = settings.backend_url  # validated, without a trailing slash
        self._max_retries = settings.backend_max_retries
        self._retry_backoff = settings.backend_retry_backoff
        self._retry_after_cap = settings.backend_retry_after_cap
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._transport: BackendTransport | None = None
        self._tokens = TokenManager(settings, self.post_unauthenticated, clock=clock)
        self._breaker = CircuitBreaker(
            failure_threshold=settings.backend_circuit_failures,
            reset_timeout=settings.backend_circuit_reset,
            clock=monotonic,
        )
        self.on_call: CallObserver | None = on_call

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the connection pool (no I/O yet: the first call logs in). Idempotent."""
        if self._transport is not None:
            return
        settings = self._settings
        self._transport = BackendTransport(
            self._base_url,
            pool_size=settings.backend_pool_size,
            connect_timeout=settings.backend_connect_timeout,
            read_timeout=settings.backend_read_timeout,  # the longest silence from the backend
            keepalive_timeout=15.0,
            user_agent=_USER_AGENT,
        )

    async def close(self) -> None:
        """Cancel a token renewal in flight and close the pool. Idempotent."""
        transport, self._transport = self._transport, None
        await self._tokens.close()
        if transport is not None:
            await transport.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def started(self) -> bool:
        return self._transport is not None

    @property
    def tokens(self) -> TokenManager:
        """The service account's tokens (for readiness checks and tests)."""
        return self._tokens

    async def ping(self) -> bool:
        """For ``/readyz``: true when the client is started, its circuit is not open, and
        it holds or can get a token."""
        if self._transport is None or self._breaker.state == "open":
            return False
        try:
            await self._tokens.authorization()
        except BackendError:
            return False
        return True

    # -- calls --------------------------------------------------------------------------

    async def get(
        self,
        path_template: str,
        path_params: Mapping[str, object] | None = None,
        *,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """GET ``path_template`` (formatted with ``path_params``); the decoded JSON body."""
        path = format_path(path_template, path_params)
        return await self._request(
            "GET", path_template, path, params=params, body=None, idempotency_key=None
        )

    async def post(
        self,
        path_template: str,
        path_params: Mapping[str, object] | None = None,
        *,
        json: Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> Any:
        """POST ``json``; retried like a GET only when ``idempotency_key`` is given."""
        path = format_path(path_template, path_params)
        if idempotency_key is not None:
            _check_idempotency_key(idempotency_key)
        return await self._request(
            "POST",
            path_template,
            path,
            params=None,
            body=orjson.dumps(json),
            idempotency_key=idempotency_key,
        )

    async def post_unauthenticated(self, path: str, json: Mapping[str, Any]) -> Any:
        """POST without ``Authorization`` (the token endpoints). Retried like a GET:
        asking for a token twice is harmless."""
        path = format_path(path)
        return await self._request(
            "POST",
            path,
            path,
            params=None,
            body=orjson.dumps(json),
            idempotency_key=None,
            authenticated=False,
        )

    async def _request(
        self,
        method: str,
        path_template: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None,
        body: bytes | None,
        idempotency_key: str | None,
        authenticated: bool = True,
    ) -> Any:
        """One client call: attempts until a success, a final failure, or no retry left."""
        if self._transport is None:
            raise RuntimeError("BackendClient is not started: await client.start() first")
        target = f"{path}?{query_string(params)}" if params else path
        request_id = current_request_id()
        headers = _headers(request_id, body is not None, idempotency_key)
        # Token requests are safe to repeat; other POSTs only with an Idempotency-Key.
        idempotent = idempotency_key is not None or not authenticated
        tokens = self._tokens
        authorization = ""
        attempt = retries = 0
        reauthenticated = False
        retry_reason: str | None = None
        while True:
            attempt += 1
            if authenticated:
                authorization = tokens.cached_authorization() or await tokens.authorization()
                headers["Authorization"] = authorization
            observer = self.on_call
            started = perf_counter() if observer is not None else 0.0

            status, raw, retry_after_header, failure, cause, probe = await self._send(
                method, path_template, target, body, headers
            )
            succeeded = failure is None and 200 <= status < 300
            if succeeded:
                try:
                    data = orjson.loads(raw) if raw or status != 204 else None
                except orjson.JSONDecodeError:
                    failure, succeeded = _INVALID_JSON, False
            # Any answer but 502/503/504/429 shows the backend alive: a 404, even a 500.
            self._breaker.record(
                succeeded=failure is None and status not in _UNAVAILABLE, probe=probe
            )
            if observer is not None:
                _notify(observer, BackendCall(
                    method, path_template, status or None, (perf_counter() - started) * 1000.0,
                    attempt, retry_reason, request_id, failure,
                ))  # fmt: skip
            if succeeded:
                return data

            if failure is None and status == 401 and authenticated and not reauthenticated:
                # Revoked or expired mid-flight: re-authenticate once, retry once.
                reauthenticated = True
                tokens.invalidate(authorization)
                retry_reason = UNAUTHORIZED
                logger.info(
                    "backend %s %s answered 401; re-authenticating [request_id=%s]",
                    method, path_template, request_id,
                )  # fmt: skip
                continue

            reason = failure if failure is not None else reason_for_status(status)
            retry_after = (
                parse_retry_after(retry_after_header, now=self._clock()) if status == 429 else None
            )
            if should_retry(
                method,
                reason,
                retries_done=retries,
                max_retries=self._max_retries,
                idempotent=idempotent,
            ):
                delay = self._retry_delay(retries, retry_after)
                if delay is not None:
                    logger.warning(
                        "backend %s %s failed (%s), retry %d of %d in %.3fs [request_id=%s]",
                        method, path_template, reason, retries + 1, self._max_retries, delay,
                        request_id,
                    )  # fmt: skip
                    await self._sleep(delay)
                    retries += 1
                    retry_reason = reason
                    continue

            error = _final_error(f"{method} {path_template}", status, raw, failure, retry_after)
            error.add_note(f"request_id={request_id} attempts={attempt}")
            raise error from cause

    def _retry_delay(self, retries_done: int, retry_after: float | None) -> float | None:
        """Seconds before the next retry; ``None``: a ``Retry-After`` beyond the cap, give up."""
        if retry_after is None:
            return backoff_delay(
                retries_done, base=self._retry_backoff, cap=self._retry_after_cap, rand=self._rand
            )
        return retry_after if retry_after <= self._retry_after_cap else None

    async def _send(
        self,
        method: str,
        path_template: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> _Outcome:
        """One HTTP attempt: ``(status, body, Retry-After, failure, cause, probe)``.

        ``status`` is 0 and ``failure`` a retry reason when no complete response arrived.
        While the circuit is open it raises ``BackendUnavailable`` without sending.
        """
        transport = self._transport
        if transport is None:
            raise RuntimeError("BackendClient was closed")
        probe = self._breaker.before_attempt(f"{method} {path_template}")
        try:
            answer = await transport.request(method, target, headers, body)
        except ConnectTimeout as exc:
            return 0, b"", None, CONNECT_TIMEOUT, exc, probe
        except ReadTimeout as exc:  # the backend went silent
            return 0, b"", None, READ_TIMEOUT, exc, probe
        except ConnectionFailed as exc:  # refused, reset, dropped mid-answer, not HTTP
            return 0, b"", None, CONNECTION_ERROR, exc, probe
        except asyncio.CancelledError:  # the request's deadline ran out waiting on the backend
            self._breaker.record(succeeded=False, probe=probe)
            raise
        retry_after = answer.retry_after if answer.status == 429 else None
        return answer.status, answer.body, retry_after, None, None, probe


def _headers(request_id: str, has_body: bool, idempotency_key: str | None) -> dict[str, str]:
    headers = {"X-Request-ID": request_id}
    for name, value in trace_headers():  # traceparent (and tracestate): the gateway's span
        headers[name] = value
    if has_body:
        headers["Content-Type"] = _JSON
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


def _notify(observer: CallObserver, call: BackendCall) -> None:
    try:
        observer(call)
    except Exception:
        logger.warning("backend call observer failed", exc_info=True)


def _final_error(
    where: str,
    status: int,
    raw: bytes,
    failure: str | None,
    retry_after: float | None,
) -> BackendError:
    """The typed exception for an attempt that is not retried."""
    if failure is None:
        return _status_error(where, status, raw, retry_after)
    if failure == CONNECT_TIMEOUT:
        return BackendTimeout(f"{where}: connect timeout")
    if failure == READ_TIMEOUT:
        return BackendTimeout(f"{where}: read timeout")
    if failure == _INVALID_JSON:
        return BackendUnavailable(f"{where}: {status} with a body that is not JSON")
    return BackendUnavailable(f"{where}: {failure}")


def _status_error(where: str, status: int, raw: bytes, retry_after: float | None) -> BackendError:
    """The typed exception for a final non-2xx answer."""
    if status >= 500:
        # Possibly an HTML error page: never parsed, never logged.
        return BackendUnavailable(f"{where}: backend answered {status}")
    if status == 429:
        if retry_after is not None and math.isfinite(retry_after):
            return BackendUnavailable(
                f"{where}: throttled for {retry_after:g}s", retry_after=retry_after
            )
        return BackendUnavailable(f"{where}: throttled", retry_after=retry_after)
    if status == 400:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        if isinstance(body, dict):
            return BackendValidationError(body)
        if isinstance(body, list):  # DRF: ValidationError(["..."]) about the whole object
            return BackendValidationError({"non_field_errors": body})
        return BackendRejected(400, "400 without DRF field errors")
    if status == 404:
        return BackendNotFound(_detail(raw))
    if status == 409:
        return BackendConflict(_detail(raw))
    return BackendRejected(status, _detail(raw))
