"""Raw ASGI JSON responses and GraphQL error entries, on the hot path.

Every error a partner reads carries ``extensions.code`` and ``extensions.requestId``;
every response carries the ``X-Request-ID`` header::

    reply = error_reply(401, "A valid API key is required.", "UNAUTHENTICATED", request_id)
    await send_reply(send, reply, request_id)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.types import Send

from errors import BackendUnavailable, graphql_error_code, graphql_error_message

__all__ = [
    "Reply",
    "error_entry",
    "error_reply",
    "format_graphql_error",
    "json_reply",
    "send_reply",
]

_JSON = b"application/json"


def error_entry(
    message: str,
    code: str,
    request_id: str,
    *,
    locations: Sequence[Any] | None = None,
    path: Sequence[str | int] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"message": message}
    if locations:
        entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in locations]
    if path:
        entry["path"] = list(path)
    extensions = {"code": code, "requestId": request_id}
    if extra:
        extensions.update(extra)
    entry["extensions"] = extensions
    return entry


def format_graphql_error(
    error: GraphQLError, request_id: str, code: str | None = None
) -> dict[str, Any]:
    """One entry of ``errors``; ``code`` overrides the mapping (parse, validation phases)."""
    message = error.message if code is not None else graphql_error_message(error)
    original = error.original_error
    retry_after = original.retry_after if isinstance(original, BackendUnavailable) else None
    if retry_after is not None and not math.isfinite(retry_after):
        retry_after = None
    return error_entry(
        message,
        code or graphql_error_code(error),
        request_id,
        locations=error.locations,
        path=error.path,
        # The backend's Retry-After, or how long the circuit stays open: when to come back.
        extra=None if retry_after is None else {"retryAfter": max(1, math.ceil(retry_after))},
    )


@dataclass(slots=True)
class Reply:
    """An answer decided but not yet sent: the endpoint commits usage first, then sends."""

    status: int
    body: bytes
    headers: Sequence[tuple[bytes, bytes]] = ()
    content_type: bytes = _JSON


def json_reply(
    status: int, payload: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> Reply:
    return Reply(status, orjson.dumps(payload), headers)


def error_reply(
    status: int,
    message: str,
    code: str,
    request_id: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    extensions: dict[str, Any] | None = None,
) -> Reply:
    payload: dict[str, Any] = {"errors": [error_entry(message, code, request_id)]}
    if extensions:
        payload["extensions"] = extensions
    return json_reply(status, payload, headers)


async def send_reply(send: Send, reply: Reply, request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (b"content-type", reply.content_type),
                (b"content-length", str(len(reply.body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"cache-control", b"no-store"),
                *reply.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})
