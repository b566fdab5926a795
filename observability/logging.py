"""Structured logs with structlog: JSON lines in production, a readable console in development.

Every line carries the current request ID; anything that looks like a secret is redacted
before it is rendered, exceptions included::

    configure_logging(settings)
    log = get_logger("gateway.access")
    log.info("request", company="Acme", outcome="ok")
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
import structlog

from observability.request_id import current_request_id
from settings import Settings

__all__ = ["configure_logging", "get_logger", "redact"]

_SECRET_KEYS = frozenset(
    {
        "authorization",
        "x-api-key",
        "api_key",
        "key",
        "password",
        "token",
        "access",
        "refresh",
        "pepper",
        "secret",
        "jwt",
    }
)
# API keys, bearer tokens and JWTs, wherever they appear in a message.
_SECRET_PATTERNS = re.compile(
    r"cgw_[0-9A-Za-z_]{8,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"
    r"|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
)
REDACTED = "[REDACTED]"


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets replaced, recursing into mappings and lists."""
    if isinstance(value, str):
        return _SECRET_PATTERNS.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in _SECRET_KEYS else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _add_request_id(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    request_id = current_request_id()
    if request_id != "-":
        event.setdefault("request_id", request_id)
    return event


def _redact_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for name, value in event.items():
        if name.lower() in _SECRET_KEYS:
            event[name] = REDACTED
        elif isinstance(value, str | Mapping | list | tuple):
            event[name] = redact(value)
    return event


def _orjson_dumps(event: Any, **_kwargs: Any) -> str:
    return orjson.dumps(event, default=str).decode()


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level)
    renderer: Any
    if settings.log_format == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    shared: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
        structlog.processors.format_exc_info,
        _redact_event,  # after format_exc_info, so tracebacks are redacted too
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Libraries (uvicorn, aiohttp, SQLAlchemy, our stdlib loggers) go through the same
    # processors: one format, request IDs and redaction for every line.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
