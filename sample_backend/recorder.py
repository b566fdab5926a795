"""The request recorder behind ``/__admin__/requests`` and the one-line access log.

Recording is one ``deque.append`` of a tuple per request; the dictionaries are built only
when a test asks for them::

    recorder.record("GET", "/api/v1/badges/1/", "", request_id="req-1", idempotency_key=None,
                    status=200, authorization_present=True)
    recorder.snapshot()  # [{"method": "GET", "path": "/api/v1/badges/1/", ...}]
    access_log("GET", "/api/v1/badges/1/", "", status=200, request_id="req-1", duration=0.0002)
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any

__all__ = ["RequestRecorder", "access_log"]

_Entry = tuple[str, str, str, str | None, str | None, int | None, bool, str | None]


class RequestRecorder:
    """The most recent ``maxlen`` requests to the API (admin requests excluded)."""

    def __init__(self, maxlen: int) -> None:
        self._entries: deque[_Entry] = deque(maxlen=maxlen)

    def record(
        self,
        method: str,
        path: str,
        query: str,
        *,
        request_id: str | None,
        idempotency_key: str | None,
        status: int | None,
        authorization_present: bool,
        fault: str | None = None,
    ) -> None:
        """Remember one request; ``status`` is None when the connection was dropped."""
        self._entries.append(
            (method, path, query, request_id, idempotency_key, status, authorization_present, fault)
        )

    def snapshot(self) -> list[dict[str, Any]]:
        """The recorded requests, oldest first."""
        return [
            {
                "method": method,
                "path": path,
                "query": query,
                "request_id": request_id,
                "idempotency_key": idempotency_key,
                "status": status,
                "authorization_present": authorization_present,
                "fault": fault,
            }
            for (
                method,
                path,
                query,
                request_id,
                idempotency_key,
                status,
                authorization_present,
                fault,
            ) in self._entries
        ]

    def clear(self) -> None:
        """Forget every recorded request."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _safe(value: str) -> str:
    """A header value fit for a space-separated log line."""
    if value.isprintable() and " " not in value:
        return value
    return "".join(ch if ch.isprintable() and ch != " " else "_" for ch in value)


def access_log(
    method: str,
    path: str,
    query: str,
    *,
    status: int | None,
    request_id: str | None,
    duration: float,
    fault: str | None = None,
) -> None:
    """Write one line on stderr: method, path, status, request id and duration."""
    full_path = f"{path}?{query}" if query else path
    line = (
        f"sample_backend method={method} path={_safe(full_path)} "
        f"status={'-' if status is None else status} "
        f"request_id={'-' if request_id is None else _safe(request_id)} "
        f"duration_ms={duration * 1000:.2f}"
    )
    if fault is not None:
        line += f" fault={fault}"
    sys.stderr.write(line + "\n")
