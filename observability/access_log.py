"""The access log: one JSON line per request, rendered directly and written in batches.

structlog's processor chain (level, timestamp, request ID, exception formatting, a
redaction walk over every value, the renderer, a write and a flush) cost about 40 µs
per line here, a few percent of a request's CPU (docs/performance.md). The access line
has a fixed shape, so it is rendered with one ``orjson.dumps`` into the same JSON that
structlog writes (``event``, ``level``, ``timestamp``), and lines written in the same
event-loop tick go out in one ``write``. The values a client controls (its request ID
and operation name) are redacted like any log value. With console logs, or without a
running loop (CLI commands), lines go through structlog as before::

    access = AccessLog.from_settings(settings)
    access.request(request_id="01J...", status=200, company="Acme", outcome="ok", ...)
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from observability.logging import get_logger, redact
from settings import Settings

__all__ = ["AccessLog"]

_MAX_BUFFERED = 256  # lines; a busy tick is written at once rather than held


class AccessLog:
    def __init__(self, *, json_lines: bool, enabled: bool, stream: TextIO | None = None) -> None:
        self._json_lines = json_lines
        self._enabled = enabled
        self._stream = stream
        self._pending: list[bytes] = []
        self._flush_scheduled = False
        self._fallback = get_logger("gateway.access")

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessLog:
        enabled = getattr(logging, settings.log_level) <= logging.INFO
        return cls(json_lines=settings.log_format == "json", enabled=enabled)

    def request(self, **fields: Any) -> None:
        """Log one answered request; ``request_id`` and ``operation`` are redacted."""
        if not self._enabled:
            return
        fields["request_id"] = redact(fields.get("request_id"))
        fields["operation"] = redact(fields.get("operation"))
        if not self._json_lines:
            self._fallback.info("request", **fields)
            return
        fields["event"] = "request"
        fields["level"] = "info"
        fields["timestamp"] = datetime.now(UTC)
        line = orjson.dumps(
            fields, default=str, option=orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE
        )
        self._pending.append(line)
        if len(self._pending) >= _MAX_BUFFERED:
            self.flush()
        elif not self._flush_scheduled:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                self.flush()
                return
            self._flush_scheduled = True

    def flush(self) -> None:
        """Write every pending line (also on shutdown)."""
        self._flush_scheduled = False
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        stream = self._stream or sys.stdout  # read late: tests and uvicorn swap it
        stream.write(data.decode())
        stream.flush()
