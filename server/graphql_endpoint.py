"""``/graphql``: the partner endpoint, a thin ASGI app over graphql-core.

This is the hot path, kept flat so a request can be followed top to bottom:

    request ID -> method/content type -> API key -> body -> cached parse+validate
    -> scope check -> cost: charge the bucket -> execute (resolvers call the backend)
    -> cost: settle -> JSON response with extensions.cost and RateLimit headers -> access log

It runs the Strawberry-built schema through graphql-core directly with cached documents
and orjson, which measured 1.7x the throughput of Strawberry's own ASGI view
(docs/performance.md)::

    endpoint = GraphQLEndpoint(schema=..., documents=..., authenticator=..., api=..., settings=...)
    Route("/graphql", endpoint)
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, GraphQLSchema, OperationType, execute
from starlette.types import Receive, Scope, Send

from auth.authenticator import Authenticator, extract_api_key
from auth.failed_auth import FailedAuthLimiter, client_address
from auth.lifecycle import KeyLifecycle
from auth.principal import Principal
from backend.api import CredentialsApi
from errors import (
    PARSE_FAILED,
    VALIDATION_FAILED,
    BackendError,
    ClientError,
    Forbidden,
    GatewayError,
    Throttled,
    TooManyFailedAuthentications,
    Unauthenticated,
)
from metering.cost import CostPlan
from metering.meter import Meter, MeterRefusal
from observability.logging import get_logger
from observability.request_id import bind_request_id, request_id_from_header
from resolvers.context import RequestContext
from server.documents import DocumentCache, PreparedDocument
from server.responses import error_entry, format_graphql_error, send_bytes, send_json
from settings import Settings

__all__ = ["GraphQLEndpoint"]

access_log = get_logger("gateway.access")
error_log = get_logger("gateway.errors")

_MAX_OPERATION_NAME = 128
_SCOPE_FOR_OPERATION = {OperationType.QUERY: "read", OperationType.MUTATION: "write"}
_WWW_AUTHENTICATE = ((b"www-authenticate", b'Bearer realm="partner-api"'),)


class RequestRefused(ClientError):
    """A request the endpoint answers without executing; carries its HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_REQUEST",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self.status = status
        self.code = code  # type: ignore[misc]  # per-instance: one class, many refusals
        self.headers = headers
        super().__init__(message)


class GraphQLEndpoint:
    def __init__(
        self,
        *,
        schema: GraphQLSchema,
        documents: DocumentCache,
        authenticator: Authenticator,
        api: CredentialsApi,
        settings: Settings,
        graphiql_page: bytes | None,
        meter: Meter,
        failed_auth: FailedAuthLimiter | None = None,
        keys: KeyLifecycle | None = None,
    ) -> None:
        self._schema = schema
        self._meter = meter
        self._failed_auth = failed_auth or FailedAuthLimiter(
            limit=settings.auth_failure_limit, window=settings.auth_failure_window
        )
        self._keys = keys
        self._documents = documents
        self._authenticator = authenticator
        self._api = api
        self._settings = settings
        self._graphiql_page = graphiql_page
        self._max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])  # duplicates collapse to the last: fine here
        request_id = request_id_from_header(_latin1(headers.get(b"x-request-id")))
        token = bind_request_id(request_id)
        log: dict[str, Any] = {"method": scope["method"]}
        try:
            status = await self._respond(scope, receive, send, headers, request_id, log)
        finally:
            token.var.reset(token)
        access_log.info(
            "request",
            request_id=request_id,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            **log,
        )

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, bytes],
        request_id: str,
        log: dict[str, Any],
    ) -> int:
        try:
            return await self._graphql(scope, receive, send, headers, request_id, log)
        except RequestRefused as refusal:
            log["outcome"] = "rejected"
            extra = refusal.headers or (_WWW_AUTHENTICATE if refusal.status == 401 else ())
            body = {"errors": [error_entry(refusal.public_message, refusal.code, request_id)]}
            await send_json(send, refusal.status, body, request_id, headers=extra)
            return refusal.status
        except Exception:
            log["outcome"] = "error"
            error_log.exception("unhandled error in the GraphQL endpoint", request_id=request_id)
            body = {
                "errors": [error_entry(GatewayError.default_message, GatewayError.code, request_id)]
            }
            await send_json(send, 500, body, request_id)
            return 500

    async def _graphql(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, bytes],
        request_id: str,
        log: dict[str, Any],
    ) -> int:
        method = scope["method"]
        if method == "GET" and self._graphiql_page is not None and _wants_html(headers):
            log["outcome"] = "explorer"
            await send_bytes(
                send, 200, self._graphiql_page, request_id, content_type=b"text/html; charset=utf-8"
            )
            return 200
        if method != "POST":
            raise RequestRefused(405, "Send GraphQL operations as POST with a JSON body.")
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            raise RequestRefused(415, "The Content-Type must be application/json.")

        principal = await self._authenticate(scope)
        log["company"] = principal.company_name
        log["key_id"] = principal.key_id

        query, variables, operation_name = _parse_body(await self._read_body(receive))
        log["operation"] = operation_name
        prepared = self._documents.prepare(query)
        if prepared.errors:
            log["outcome"] = "rejected"
            code = PARSE_FAILED if prepared.phase == "parse" else VALIDATION_FAILED
            errors = [format_graphql_error(e, request_id, code) for e in prepared.errors]
            await send_json(send, 400, {"errors": errors}, request_id)
            return 400
        operation_type = prepared.operation_type(operation_name)
        if operation_type is None:
            raise RequestRefused(
                400,
                "Name the operation to run with operationName: the document has several."
                if operation_name is None
                else f"The document has no operation {operation_name!r}.",
            )
        log["type"] = operation_type.value
        required_scope = _SCOPE_FOR_OPERATION[operation_type]
        if not principal.has_scope(required_scope):
            message = (
                f"This API key lacks the `{required_scope}` scope needed for a "
                f"{operation_type.value}."
            )
            raise RequestRefused(403, message, Forbidden.code)

        cost_plan = self._cost_plan(prepared, operation_name)
        debug = headers.get(b"x-cost-debug") == b"fields"
        try:
            charge = await self._meter.charge(principal, cost_plan, variables, debug=debug)
        except MeterRefusal as refusal:
            return await self._refuse_cost(send, refusal, request_id, log)

        assert prepared.document is not None
        result = execute(
            self._schema,
            prepared.document,
            context_value=RequestContext(
                principal, self._api, self._settings, self._meter, self._keys
            ),
            variable_values=variables,
            operation_name=operation_name,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        report = await self._meter.settle(principal, charge, result.data)
        log["cost"] = report.actual
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [self._error(error, request_id) for error in result.errors]
            log["outcome"] = "error"
            log["error_codes"] = sorted({e["extensions"]["code"] for e in payload["errors"]})
        else:
            log["outcome"] = "ok"
        payload["extensions"] = {"cost": report.extension()}
        await send_bytes(send, 200, orjson.dumps(payload), request_id, headers=report.headers())
        return 200

    def _cost_plan(self, prepared: PreparedDocument, operation_name: str | None) -> CostPlan:
        """The operation's cost structure, analysed once per document and operation."""
        key = ("cost", operation_name)
        plan = prepared.analyses.get(key)
        if plan is None:
            assert prepared.document is not None
            plan = prepared.analyses[key] = self._meter.model.plan(
                prepared.document, operation_name
            )
        return plan

    async def _refuse_cost(
        self, send: Send, refusal: MeterRefusal, request_id: str, log: dict[str, Any]
    ) -> int:
        error = refusal.error
        extra_headers = refusal.report.headers()
        if isinstance(error, Throttled):
            status = 429
            log["outcome"] = "throttled"
            extra_headers.append(
                (b"retry-after", str(max(1, math.ceil(error.retry_after))).encode())
            )
        else:
            status = 400
            log["outcome"] = "rejected"
        log["cost"] = refusal.report.requested
        body = {
            "errors": [error_entry(error.public_message, error.code, request_id)],
            "extensions": {"cost": refusal.report.extension()},
        }
        await send_json(send, status, body, request_id, headers=extra_headers)
        return status

    async def _authenticate(self, scope: Scope) -> Principal:
        raw_key = extract_api_key(scope["headers"])
        if raw_key is None:
            raise RequestRefused(
                401,
                "An API key is required: send it as `Authorization: Bearer <key>` or `X-API-Key`.",
                Unauthenticated.code,
            )
        limiter = self._failed_auth
        client = client_address(scope)
        # A blocked address learns nothing, not even whether its key was right.
        if (wait := limiter.retry_after(client)) is not None:
            raise _too_many_failures(wait)
        try:
            return await self._authenticator.authenticate(raw_key)
        except Unauthenticated as error:
            if (wait := await limiter.record_failure(client)) is not None:
                raise _too_many_failures(wait) from None
            raise RequestRefused(401, error.public_message, error.code) from None

    async def _read_body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestRefused(400, "The client disconnected.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise RequestRefused(413, f"The body exceeds {self._max_body} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _error(self, error: GraphQLError, request_id: str) -> dict[str, Any]:
        original = error.original_error
        if original is not None and not isinstance(original, GatewayError | GraphQLError):
            error_log.error(
                "resolver failed",
                path=error.path,
                exc_info=(type(original), original, original.__traceback__),
            )
        elif isinstance(original, BackendError):
            error_log.warning("backend call failed", path=error.path, error=str(original))
        return format_graphql_error(error, request_id)


def _too_many_failures(retry_after: float) -> RequestRefused:
    error = TooManyFailedAuthentications(retry_after)
    retry = str(max(1, math.ceil(retry_after))).encode()
    return RequestRefused(429, error.public_message, error.code, ((b"retry-after", retry),))


def _parse_body(body: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, "The body is not valid JSON (UTF-8).") from None
    if isinstance(payload, list):
        raise RequestRefused(400, "Batched operations are not supported: send one at a time.")
    if not isinstance(payload, dict):
        raise RequestRefused(400, "The body must be a JSON object with a `query`.")
    query = payload.get("query")
    variables = payload.get("variables")
    operation_name = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise RequestRefused(400, "The body must have a `query` string.")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, "`variables` must be a JSON object.")
    if operation_name is not None and (
        not isinstance(operation_name, str) or len(operation_name) > _MAX_OPERATION_NAME
    ):
        raise RequestRefused(
            400, f"`operationName` must be a string of at most {_MAX_OPERATION_NAME} characters."
        )
    return query, variables, operation_name


def _wants_html(headers: dict[bytes, bytes]) -> bool:
    return b"text/html" in headers.get(b"accept", b"")


def _latin1(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
