"""The test-control API under ``/__admin__/`` (no authentication; not part of the contract).

- ``POST /__admin__/faults`` registers a fault (see :mod:`sample_backend.faults`): 201.
- ``GET /__admin__/faults`` lists the active faults; ``DELETE`` clears them: 204.
- ``GET /__admin__/requests`` lists the recorded API requests, oldest first; ``DELETE``
  forgets them: 204.
- ``POST /__admin__/reset`` restores the seeded data and clears faults, idempotency keys
  and recorded requests: 204.
- ``POST /__admin__/revoke-tokens`` invalidates every access token issued so far (and the
  refresh tokens too with ``{"refresh": true}``): 200 ``{"access": n, "refresh": m}``.
- ``GET /__admin__/health``: 200 ``{"status": "ok"}``.
"""

from __future__ import annotations

from typing import Any

import orjson

from sample_backend.context import State
from sample_backend.responses import ApiError, Reply, json_reply, method_not_allowed, not_found

__all__ = ["ADMIN_PREFIX", "handle_admin"]

ADMIN_PREFIX = "/__admin__/"
_NO_CONTENT = Reply(204, b"")


def _json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError.detail(400, f"JSON parse error - {exc}") from None


def _faults(state: State, method: str, body: bytes) -> Reply:
    if method == "POST":
        return json_reply(201, state.faults.add(_json_body(body)).as_dict())
    if method == "GET":
        return json_reply(200, state.faults.snapshot())
    if method == "DELETE":
        state.faults.clear()
        return _NO_CONTENT
    raise method_not_allowed(method)


def _requests(state: State, method: str) -> Reply:
    if method == "GET":
        return json_reply(200, state.recorder.snapshot())
    if method == "DELETE":
        state.recorder.clear()
        return _NO_CONTENT
    raise method_not_allowed(method)


def _reset(state: State, method: str) -> Reply:
    if method != "POST":
        raise method_not_allowed(method)
    state.reset()
    return _NO_CONTENT


def _revoke_tokens(state: State, method: str, body: bytes) -> Reply:
    if method != "POST":
        raise method_not_allowed(method)
    data = _json_body(body)
    if not isinstance(data, dict) or not isinstance(data.get("refresh", False), bool):
        raise ApiError(400, {"refresh": ["Must be a valid boolean."]})
    return json_reply(200, state.tokens.revoke_all(refresh=data.get("refresh", False)))


def handle_admin(state: State, method: str, path: str, body: bytes) -> Reply:
    """Answer one admin request."""
    name = path[len(ADMIN_PREFIX) :].rstrip("/")
    try:
        if name == "faults":
            return _faults(state, method, body)
        if name == "requests":
            return _requests(state, method)
        if name == "reset":
            return _reset(state, method)
        if name == "revoke-tokens":
            return _revoke_tokens(state, method, body)
        if name == "health":
            return json_reply(200, {"status": "ok"})
        raise not_found()
    except ApiError as exc:
        return exc.reply()
