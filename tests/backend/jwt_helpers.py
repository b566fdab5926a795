"""Unsigned JWT-shaped tokens for unit tests of the token manager (no backend needed)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

__all__ = ["fake_jwt"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(**claims: Any) -> str:
    """``header.payload.signature`` with ``claims`` as the payload; the signature is junk."""
    header = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    return f"{header}.{_b64(orjson.dumps(claims))}.c2lnbmF0dXJl"
