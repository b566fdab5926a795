"""Raw ASGI JSON responses and GraphQL error entries, on the hot path.

Every error a partner reads carries ``extensions.code`` and ``extensions.requestId``;
every response carries the ``X-Request-ID`` header::

    await send_json(send, 200, {"data": ...}, request_id)
    error_entry("A valid API key is required.", "UNAUTHENTICATED", request_id)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.types import Send

from errors import graphql_error_code, graphql_error_message

__all__ = ["error_entry", "format_graphql_error", "send_bytes", "send_json"]

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
    return error_entry(
        message,
        code or graphql_error_code(error),
        request_id,
        locations=error.locations,
        path=error.path,
    )


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    request_id: str,
    *,
    content_type: bytes = _JSON,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"cache-control", b"no-store"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send,
    status: int,
    payload: dict[str, Any],
    request_id: str,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    await send_bytes(send, status, orjson.dumps(payload), request_id, headers=headers)
