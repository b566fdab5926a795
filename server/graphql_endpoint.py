"""``/graphql``: the partner endpoint, a thin ASGI app over graphql-core.

This is the hot path, kept flat so a request can be followed top to bottom:

    request ID -> method/content type -> API key -> body -> cached parse+validate
    -> scope check -> cost: charge the bucket -> execute (resolvers call the backend)
    -> cost: settle -> JSON answer with extensions.cost and RateLimit headers
    -> usage event committed to the ledger (grouped with concurrent requests' events)
    -> answer sent -> metrics and the access log

It runs the Strawberry-built schema through graphql-core directly with cached documents
and orjson, which measured 1.7x the throughput of Strawberry's own ASGI view
(docs/performance.md)::

    endpoint = GraphQLEndpoint(schema=..., documents=..., authenticator=..., api=..., settings=...)
    Route("/graphql", endpoint)
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, OperationType
from starlette.types import Message, Receive, Scope, Send

from auth.authenticator import Authenticator, extract_api_key
from auth.failed_auth import FailedAuthLimiter
from auth.lifecycle import KeyLifecycle
from auth.principal import Principal
from auth.router_trust import RouterTrust
from backend.api import CredentialsApi
from errors import (
    PARSE_FAILED,
    VALIDATION_FAILED,
    BackendError,
    ClientError,
    Forbidden,
    GatewayError,
    RequestTimeout,
    Throttled,
    TooManyFailedAuthentications,
    Unauthenticated,
    UsageNotRecorded,
)
from metering.ledger import LedgerUnavailable, UsageLedger, UsageRecord
from metering.meter import Charge, Meter, MeterRefusal
from observability.access_log import AccessLog
from observability.calls import open_call_log
from observability.logging import get_logger
from observability.metrics import RequestMetrics
from observability.request_id import bind_request_id, request_id_from_header
from observability.sentry import capture_request_error
from observability.trace_context import bind_trace
from observability.trace_store import TraceWriter
from observability.tracing import RequestSpan, Tracer
from resolvers.context import RequestContext
from server.deadline import Deadlines
from server.documents import DocumentCache, PreparedDocument
from server.executor import executor_for
from server.graphiql import Explorer
from server.operation_plan import OperationPlan
from server.responses import Reply, error_reply, format_graphql_error, json_reply, send_reply
from settings import Settings
from storage.database import Database

__all__ = ["GraphQLEndpoint"]

error_log = get_logger("gateway.errors")

_MAX_OPERATION_NAME = 128
EXPLORER = "explorer"  # the GraphiQL page: not an API request, not in the ledger
_SCOPE_FOR_OPERATION = {OperationType.QUERY: "read", OperationType.MUTATION: "write"}
_WWW_AUTHENTICATE = ((b"www-authenticate", b'Bearer realm="partner-api"'),)
_ALLOW_POST = ((b"allow", b"POST"),)
_ALLOW_GET_POST = ((b"allow", b"GET, POST"),)

# One request's operation: the query, its variables and the operation to run.
Operation = tuple[str, dict[str, Any] | None, str | None]


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


class Exchange:
    """One request's state as the endpoint learns it, handed down instead of six arguments."""

    __slots__ = ("company_name", "errors", "headers", "request_id", "span", "usage", "variables")

    def __init__(self, headers: dict[bytes, bytes], request_id: str, span: RequestSpan) -> None:
        self.headers = headers
        self.request_id = request_id
        self.span = span
        self.usage = UsageRecord(request_id=request_id, outcome="ok", duration_ms=0.0)
        self.company_name: str | None = None
        # For the trace store: the partner's variables and the errors it was sent.
        self.variables: dict[str, Any] | None = None
        self.errors: list[dict[str, Any]] = []


class GraphQLEndpoint:
    def __init__(
        self,
        *,
        schema: GraphQLSchema,
        documents: DocumentCache,
        authenticator: Authenticator,
        api: CredentialsApi,
        settings: Settings,
        explorer: Explorer | None,
        meter: Meter,
        ledger: UsageLedger,
        metrics: RequestMetrics | None = None,
        failed_auth: FailedAuthLimiter | None = None,
        keys: KeyLifecycle | None = None,
        database: Database | None = None,
        tracer: Tracer | None = None,
        traces: TraceWriter | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        self.access_log = access_log or AccessLog.from_settings(settings)
        self._tracer = tracer or Tracer()  # the disabled one: no spans, no allocation
        self._traces = traces
        self._schema = schema
        self._executor = executor_for(schema)  # plain leaves read without resolvers
        self._database = database
        self._meter = meter
        self._ledger = ledger
        self._metrics = metrics
        self._failed_auth = failed_auth or FailedAuthLimiter(
            limit=settings.auth_failure_limit, window=settings.auth_failure_window
        )
        self._router_trust = RouterTrust.from_settings(settings)  # X-Forwarded-For, if proven
        self._keys = keys
        self._documents = documents
        self._authenticator = authenticator
        self._api = api
        self._settings = settings
        self._explorer = explorer
        self._max_body = settings.max_body_bytes
        self._deadline = settings.request_deadline
        self._deadlines = Deadlines(settings.request_deadline)
        self._allow = _ALLOW_GET_POST if settings.get_queries else _ALLOW_POST

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = dict(scope["headers"])  # duplicates collapse to the last: fine here
        request_id = request_id_from_header(_latin1(headers.get(b"x-request-id")))
        token = bind_request_id(request_id)
        trace = self._tracer.trace_context(
            _latin1(headers.get(b"traceparent")), _latin1(headers.get(b"tracestate"))
        )
        trace_token = bind_trace(trace)
        exchange = Exchange(
            headers, request_id, self._tracer.start_request(trace, request_id=request_id)
        )
        usage = exchange.usage
        calls = open_call_log()
        try:
            reply = await self._reply(scope, receive, exchange)
            usage.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            usage.backend_calls = len(calls)
            if usage.outcome != EXPLORER:
                reply = await self._record(usage, reply, request_id)
        finally:
            trace_token.var.reset(trace_token)
            token.var.reset(token)
        # The usage event is committed: only now does the partner get an answer.
        await send_reply(send, reply, request_id)
        if usage.outcome == EXPLORER:
            return
        # After the answer, off its latency: span, stored trace, metrics, access log.
        exchange.span.finish(usage, status=reply.status, calls=calls)
        if self._traces is not None:
            self._traces.submit(
                usage,
                calls,
                status=reply.status,
                trace=trace,
                variables=exchange.variables,
                errors=exchange.errors,
            )
        if self._metrics is not None:
            self._metrics.observe(usage)
        self.access_log.request(
            request_id=request_id,
            method=scope["method"],
            status=reply.status,
            duration_ms=usage.duration_ms,
            company=exchange.company_name,
            company_id=usage.company_id,
            key_id=usage.key_id,
            operation=usage.operation_name,
            type=usage.operation_type,
            outcome=usage.outcome,
            cost=usage.actual_cost,
            backend_calls=usage.backend_calls,
            error_codes=list(usage.error_codes) or None,
        )

    async def _record(self, usage: UsageRecord, reply: Reply, request_id: str) -> Reply:
        try:
            await self._ledger.record(usage)
        except LedgerUnavailable:
            error_log.exception("usage event not committed", request_id=request_id)
            error = UsageNotRecorded()
            return error_reply(503, error.public_message, error.code, request_id)
        return reply

    async def _reply(self, scope: Scope, receive: Receive, exchange: Exchange) -> Reply:
        usage, request_id = exchange.usage, exchange.request_id
        try:
            return await self._graphql(scope, receive, exchange)
        except RequestRefused as refusal:
            if usage.outcome == "ok":
                usage.outcome = "rejected"
            usage.error_codes = (refusal.code,)
            exchange.errors = [
                {"message": refusal.public_message, "extensions": {"code": refusal.code}}
            ]
            extra = refusal.headers or (_WWW_AUTHENTICATE if refusal.status == 401 else ())
            return error_reply(
                refusal.status, refusal.public_message, refusal.code, request_id, extra
            )
        except Exception as exc:
            usage.outcome = "error"
            usage.error_codes = (GatewayError.code,)
            error_log.exception("unhandled error in the GraphQL endpoint", request_id=request_id)
            capture_request_error(
                exc,
                request_id=request_id,
                company_id=usage.company_id,
                operation=usage.operation_name,
            )
            return error_reply(500, GatewayError.default_message, GatewayError.code, request_id)

    async def _graphql(self, scope: Scope, receive: Receive, exchange: Exchange) -> Reply:
        headers, request_id, usage, span = (
            exchange.headers,
            exchange.request_id,
            exchange.usage,
            exchange.span,
        )
        method = scope["method"]
        if method == "GET" and self._explorer is not None and _wants_html(headers):
            usage.outcome = EXPLORER
            return self._explorer.page()
        over_get = method == "GET" and self._settings.get_queries
        if method != "POST" and not over_get:
            raise RequestRefused(
                405, "Send GraphQL operations as POST with a JSON body.", headers=self._allow
            )
        if not over_get and not _is_json(headers.get(b"content-type")):
            # Forms, multipart and text/plain are refused: a browser cannot send a
            # cross-site request as application/json without a CORS preflight.
            raise RequestRefused(415, "The Content-Type must be application/json.")

        principal = await self._authenticate(scope, headers, usage)
        usage.company_id = principal.company_id
        usage.key_id = principal.key_id
        exchange.company_name = principal.company_name

        query, variables, operation_name = (
            _parse_query_string(scope["query_string"])
            if over_get
            else _parse_body(await self._read_body(receive))
        )
        usage.operation_name = operation_name
        exchange.variables = variables
        with span.phase("graphql.document"):
            prepared = self._documents.prepare(query)
        usage.document_hash = _document_hash(prepared, query)
        if operation_name is None and prepared.document is not None:
            usage.operation_name = prepared.sole_operation_name()
        if prepared.errors:
            code = PARSE_FAILED if prepared.phase == "parse" else VALIDATION_FAILED
            usage.outcome = "rejected"
            usage.error_codes = (code,)
            errors = [format_graphql_error(e, request_id, code) for e in prepared.errors]
            exchange.errors = errors
            return json_reply(400, {"errors": errors})
        operation_type = prepared.operation_type(operation_name)
        if operation_type is None:
            raise RequestRefused(
                400,
                "Name the operation to run with operationName: the document has several."
                if operation_name is None
                else f"The document has no operation {operation_name!r}.",
            )
        usage.operation_type = operation_type.value
        if over_get and operation_type is not OperationType.QUERY:
            raise RequestRefused(405, "Send mutations as POST.", headers=_ALLOW_POST)
        required_scope = _SCOPE_FOR_OPERATION[operation_type]
        if not principal.has_scope(required_scope):
            message = (
                f"This API key lacks the `{required_scope}` scope needed for a "
                f"{operation_type.value}."
            )
            raise RequestRefused(403, message, Forbidden.code)

        cost_plan = prepared.analysis("cost", operation_name, self._meter.model.plan)
        debug = headers.get(b"x-cost-debug") == b"fields"
        try:
            charge = await self._meter.charge(principal, cost_plan, variables, debug=debug)
        except MeterRefusal as refusal:
            return self._refuse_cost(refusal, request_id, usage)
        usage.requested_cost = charge.requested
        return await self._execute(exchange, principal, prepared, operation_name, charge)

    async def _execute(
        self,
        exchange: Exchange,
        principal: Principal,
        prepared: PreparedDocument,
        operation_name: str | None,
        charge: Charge,
    ) -> Reply:
        """Run the charged operation, settle its cost, and build the answer."""
        usage, request_id = exchange.usage, exchange.request_id
        assert prepared.document is not None
        # Backend calls and their retries included; what is still running when the
        # deadline passes is cancelled, and the partner gets a coded 504.
        deadline = self._deadlines.watch()
        context = RequestContext(
            principal,
            self._api,
            self._settings,
            self._meter,
            self._keys,
            self._database,
            release_deadline=partial(self._deadlines.release, deadline),
        )
        try:
            with exchange.span.phase("graphql.execute"):
                plan = prepared.analysis("execution", operation_name, self._plan_operation)
                result = plan.execute(
                    self._executor, context_value=context, variable_values=exchange.variables
                )
                if not isinstance(result, ExecutionResult):
                    result = await result
        except asyncio.CancelledError:
            if not self._deadlines.expired(deadline):
                raise
            return self._time_out(exchange, charge)
        finally:
            self._deadlines.release(deadline)
            context.close()
        report = await self._meter.settle(principal, charge, result.data)
        usage.actual_cost = report.actual or 0
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [self._error(error, request_id, usage) for error in result.errors]
            _drop_tracebacks(result.errors)  # logged and reported: now only a cycle
            exchange.errors = payload["errors"]
            usage.outcome = "error"
            usage.error_codes = sorted({e["extensions"]["code"] for e in payload["errors"]})
        payload["extensions"] = {"cost": report.extension()}
        return json_reply(200, payload, report.headers())

    def _time_out(self, exchange: Exchange, charge: Charge) -> Reply:
        """The deadline passed: no data, billed nothing, the requested cost stays spent."""
        usage = exchange.usage
        report = self._meter.forfeit(charge)
        usage.actual_cost = report.actual or 0
        usage.outcome = "timeout"
        usage.error_codes = (RequestTimeout.code,)
        error_log.warning("request deadline passed", deadline_s=self._deadline)
        exchange.errors = [
            {"message": RequestTimeout.default_message, "extensions": {"code": RequestTimeout.code}}
        ]
        return error_reply(
            504,
            RequestTimeout.default_message,
            RequestTimeout.code,
            exchange.request_id,
            report.headers(),
            {"cost": report.extension()},
        )

    def _plan_operation(self, document: DocumentNode, operation_name: str | None) -> OperationPlan:
        return OperationPlan(
            self._schema,
            document,
            operation_name,
            hide_suggestions=not self._settings.field_suggestions,
        )

    def _refuse_cost(self, refusal: MeterRefusal, request_id: str, usage: UsageRecord) -> Reply:
        error = refusal.error
        extra_headers = refusal.report.headers()
        if isinstance(error, Throttled):
            status = 429
            usage.outcome = "throttled"
            extra_headers.append(
                (b"retry-after", str(max(1, math.ceil(error.retry_after))).encode())
            )
        else:
            status = 400
            usage.outcome = "rejected"
        usage.requested_cost = refusal.report.requested
        usage.error_codes = (error.code,)
        return error_reply(
            status,
            error.public_message,
            error.code,
            request_id,
            extra_headers,
            {"cost": refusal.report.extension()},
        )

    async def _authenticate(
        self, scope: Scope, headers: dict[bytes, bytes], usage: UsageRecord
    ) -> Principal:
        raw_key = extract_api_key(scope["headers"])
        usage.outcome = "unauthenticated"  # until the key is accepted
        if raw_key is None:
            raise RequestRefused(
                401,
                "An API key is required: send it as `Authorization: Bearer <key>` or `X-API-Key`.",
                Unauthenticated.code,
            )
        limiter = self._failed_auth
        client = self._router_trust.client_address(scope, headers)
        # A blocked address learns nothing, not even whether its key was right.
        if (wait := limiter.retry_after(client)) is not None:
            raise _too_many_failures(wait)
        try:
            principal = await self._authenticator.authenticate(raw_key)
        except Unauthenticated as error:
            if (wait := await limiter.record_failure(client)) is not None:
                raise _too_many_failures(wait) from None
            raise RequestRefused(401, error.public_message, error.code) from None
        usage.outcome = "ok"
        return principal

    async def _read_body(self, receive: Receive) -> bytes:
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body: bytes = message.get("body", b"")  # the usual case: one message
            if len(body) > self._max_body:
                raise RequestRefused(413, f"The body exceeds {self._max_body} bytes.")
            return body
        try:  # a body in pieces must arrive within the deadline too (no slow drip)
            async with asyncio.timeout(self._deadline):
                return await self._read_pieces(message, receive)
        except TimeoutError:
            raise RequestRefused(
                408, f"The body did not arrive within {self._deadline:g} s."
            ) from None

    async def _read_pieces(self, message: Message, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                raise RequestRefused(400, "The client disconnected.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise RequestRefused(413, f"The body exceeds {self._max_body} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await receive()

    def _error(self, error: GraphQLError, request_id: str, usage: UsageRecord) -> dict[str, Any]:
        original = error.original_error
        if original is not None and not isinstance(original, GatewayError | GraphQLError):
            error_log.error(
                "resolver failed",
                path=error.path,
                exc_info=(type(original), original, original.__traceback__),
            )
            capture_request_error(
                original,
                request_id=request_id,
                company_id=usage.company_id,
                operation=usage.operation_name,
            )
        elif isinstance(original, BackendError):
            # Operators want backend failures in Sentry too: they are what partners see.
            error_log.warning("backend call failed", path=error.path, error=str(original))
            capture_request_error(
                original,
                request_id=request_id,
                company_id=usage.company_id,
                operation=usage.operation_name,
            )
        return format_graphql_error(error, request_id)


def _drop_tracebacks(errors: list[GraphQLError]) -> None:
    """A resolver's exception holds its traceback, whose frames hold the executor, which
    holds the exception: a reference cycle per failed field, left to the garbage
    collector with the whole request's state, unless the tracebacks go."""
    for error in errors:
        error.__traceback__ = None
        if error.original_error is not None:
            error.original_error.__traceback__ = None


def _document_hash(prepared: PreparedDocument, query: str) -> str:
    """SHA-256 of the document's text, computed once per cached document."""
    digest = prepared.analyses.get("hash")
    if digest is None:
        digest = prepared.analyses["hash"] = hashlib.sha256(query.encode()).hexdigest()
    return str(digest)


def _too_many_failures(retry_after: float) -> RequestRefused:
    error = TooManyFailedAuthentications(retry_after)
    retry = str(max(1, math.ceil(retry_after))).encode()
    return RequestRefused(429, error.public_message, error.code, ((b"retry-after", retry),))


def _parse_body(body: bytes) -> Operation:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestRefused(400, "The body is not valid JSON (UTF-8).") from None
    if isinstance(payload, list):
        raise RequestRefused(400, "Batched operations are not supported: send one at a time.")
    if not isinstance(payload, dict):
        raise RequestRefused(400, "The body must be a JSON object with a `query`.")
    return _operation(payload)


def _parse_query_string(raw: bytes) -> Operation:
    """``?query=...&variables=<JSON>&operationName=...``, percent-encoded UTF-8."""
    try:
        fields = parse_qs(raw.decode("ascii"), encoding="utf-8", errors="strict", max_num_fields=8)
        payload: dict[str, Any] = {name: values[-1] for name, values in fields.items()}
        if isinstance(payload.get("variables"), str):
            payload["variables"] = orjson.loads(payload["variables"])
    except UnicodeError:
        raise RequestRefused(400, "The query string is not percent-encoded UTF-8.") from None
    except orjson.JSONDecodeError:
        raise RequestRefused(400, "`variables` must be a JSON object.") from None
    except ValueError:  # parse_qs: more fields than an operation has
        raise RequestRefused(400, "Send `query`, `variables` and `operationName` only.") from None
    return _operation(payload)


def _operation(payload: dict[str, Any]) -> Operation:
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


def _is_json(content_type: bytes | None) -> bool:
    """``application/json``, with no parameter but an optional UTF-8 charset."""
    if content_type == b"application/json":
        return True  # nearly every request: no parsing
    if content_type is None:
        return False
    media_type, _, parameters = content_type.partition(b";")
    if media_type.strip().lower() != b"application/json":
        return False
    for parameter in parameters.split(b";") if parameters else ():
        name, _, value = parameter.partition(b"=")
        if name.strip().lower() != b"charset" or value.strip().strip(b'"').lower() not in (
            b"utf-8",
            b"utf8",
        ):
            return False
    return True


def _wants_html(headers: dict[bytes, bytes]) -> bool:
    return b"text/html" in headers.get(b"accept", b"")


def _latin1(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
