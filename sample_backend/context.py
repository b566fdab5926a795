"""The application's shared state and the per-request call a view receives.

::

    state = State.create(config)
    call = Call("GET", "5", "page=2", "127.0.0.1:8001", "/api/v1/badges/?page=2")
    call.params          # {"page": "2"} (last value wins, like Django's QueryDict.get)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sample_backend.auth import TokenService
from sample_backend.config import BackendConfig
from sample_backend.faults import FaultRegistry
from sample_backend.idempotency import IdempotencyStore
from sample_backend.models import User
from sample_backend.recorder import RequestRecorder
from sample_backend.responses import ApiError
from sample_backend.store import Store

__all__ = ["Call", "State"]


@dataclass(slots=True)
class State:
    """Everything that lives as long as the application."""

    config: BackendConfig
    store: Store
    tokens: TokenService
    faults: FaultRegistry
    recorder: RequestRecorder
    idempotency: IdempotencyStore

    @classmethod
    def create(cls, config: BackendConfig) -> State:
        """Fresh state: seeded data, no faults, nothing recorded."""
        return cls(
            config=config,
            store=Store(),
            tokens=TokenService(config),
            faults=FaultRegistry(),
            recorder=RequestRecorder(config.max_recorded_requests),
            idempotency=IdempotencyStore(config.idempotency_ttl),
        )

    def reset(self) -> None:
        """Seeded data again; no faults, idempotency keys or recorded requests."""
        self.store.reset()
        self.faults.clear()
        self.idempotency.clear()
        self.recorder.clear()


def _strict_constant(value: str) -> Any:
    raise ValueError(f"Out of range float values are not valid JSON: {value!r}")


class Call:
    """One API request as a view sees it."""

    __slots__ = (
        "_params",
        "body",
        "content_type",
        "host",
        "idempotency_key",
        "method",
        "param",
        "query_string",
        "raw_path",
        "user",
    )

    def __init__(
        self,
        method: str,
        param: str | None,
        query_string: str,
        host: str,
        raw_path: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        idempotency_key: str | None = None,
        user: User | None = None,
    ) -> None:
        self.method = method
        self.param = param
        self.query_string = query_string
        self.host = host
        self.raw_path = raw_path
        self.body = body
        self.content_type = content_type
        self.idempotency_key = idempotency_key
        self.user = user
        self._params: dict[str, str] | None = None

    @property
    def params(self) -> dict[str, str]:
        """The query parameters, last value winning (Django's ``QueryDict.get``)."""
        params = self._params
        if params is None:
            params = self._params = dict(parse_qsl(self.query_string, keep_blank_values=True))
        return params

    @property
    def absolute_url(self) -> str:
        """``request.build_absolute_uri()``: what pagination links are built from."""
        return f"http://{self.host}{self.raw_path}"

    def data(self) -> Any:
        """The parsed body, like DRF's ``request.data`` with JSON and form parsers.

        An empty body, or one without a Content-Type, is ``{}``; broken JSON is a 400
        "JSON parse error - ..."; any other media type is a 415.
        """
        if not self.body or self.content_type is None:
            return {}
        media_type = self.content_type.split(";", 1)[0].strip().lower()
        if media_type == "application/json":
            try:
                return orjson.loads(self.body)
            except orjson.JSONDecodeError:
                pass  # let the standard library decide, and word the error like DRF
            try:
                return json.loads(self.body.decode("utf-8"), parse_constant=_strict_constant)
            except ValueError as exc:
                raise ApiError.detail(400, f"JSON parse error - {exc}") from None
        if media_type == "application/x-www-form-urlencoded":
            text = self.body.decode("utf-8", "replace")
            return dict(parse_qsl(text, keep_blank_values=True))
        raise ApiError.detail(415, f'Unsupported media type "{self.content_type}" in request.')
