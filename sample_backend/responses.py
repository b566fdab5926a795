"""What a view answers (:class:`Reply`) and how it fails (:class:`ApiError`), DRF-shaped.

Views return a :class:`Reply` or raise an :class:`ApiError`; both become one HTTP
response in :mod:`sample_backend.app`::

    raise ApiError.detail(404, "Not found.")         # {"detail": "Not found."}
    raise ApiError(400, {"badge": ["This field is required."]})
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = [
    "JSON",
    "ApiError",
    "Reply",
    "json_reply",
    "method_not_allowed",
    "not_found",
]

JSON = "application/json"


class Reply:
    """A status, a body and its content type, plus any extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    """A JSON :class:`Reply` of ``payload``."""
    return Reply(status, orjson.dumps(payload), JSON, headers)


class ApiError(Exception):
    """An error response: DRF's ``{"detail": ...}`` or a validation error dictionary."""

    def __init__(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, payload)
        self.status = status
        self.payload = payload
        self.headers = headers

    @classmethod
    def detail(
        cls,
        status: int,
        message: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiError:
        """``{"detail": message}`` (plus ``"code"`` when given)."""
        payload: dict[str, Any] = {"detail": message}
        if code is not None:
            payload["code"] = code
        return cls(status, payload, headers)

    def reply(self) -> Reply:
        """This error as a :class:`Reply`."""
        return json_reply(self.status, self.payload, self.headers)


def not_found() -> ApiError:
    """DRF's 404 for a missing object or an unknown path."""
    return ApiError.detail(404, "Not found.")


def method_not_allowed(method: str) -> ApiError:
    """DRF's 405."""
    return ApiError.detail(405, f'Method "{method}" not allowed.')
