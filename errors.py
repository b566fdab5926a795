"""The gateway's exceptions, and the one place they become GraphQL error codes.

Every failure a partner can see is one of these, raised anywhere and turned into a
GraphQL error by :func:`error_code` and :func:`public_message`::

    GatewayError                      INTERNAL_SERVER_ERROR
    ├── ClientError                   the caller must change something
    │   ├── Unauthenticated           UNAUTHENTICATED (HTTP 401)
    │   ├── TooManyFailedAuthentications  TOO_MANY_FAILED_AUTHENTICATIONS (HTTP 429)
    │   ├── Forbidden                 FORBIDDEN
    │   ├── NotFound                  NOT_FOUND
    │   ├── BadUserInput              BAD_USER_INPUT
    │   ├── CostLimitExceeded         COST_LIMIT_EXCEEDED (HTTP 400, before any backend call)
    │   └── Throttled                 THROTTLED (HTTP 429 with Retry-After)
    │       └── QuotaExceeded         QUOTA_EXCEEDED (HTTP 429, until the month ends)
    ├── UsageNotRecorded              SERVICE_UNAVAILABLE (HTTP 503: the ledger is down)
    ├── RequestTimeout                GATEWAY_TIMEOUT (HTTP 504: past ``request_deadline``)
    └── BackendError                  the backend failed; its body never reaches a partner
        ├── BackendUnavailable        BACKEND_UNAVAILABLE (refused, reset, 5xx, 429, bad JSON)
        ├── BackendTimeout            BACKEND_TIMEOUT
        └── BackendRejected           a 4xx the gateway did not expect: INTERNAL_SERVER_ERROR
            ├── BackendValidationError  400 with DRF field errors (mutations: userErrors)
            ├── BackendNotFound         404: NOT_FOUND
            └── BackendConflict         409 (revokeCredential: a userError)

GraphQL's own failures have codes of their own: ``GRAPHQL_PARSE_FAILED``,
``GRAPHQL_VALIDATION_FAILED``, and ``BAD_USER_INPUT`` for variables that do not fit.

``str(exc)`` is for logs (never a secret, never a backend body); ``exc.public_message``
is what a partner reads.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from graphql import GraphQLError

__all__ = [
    "BackendConflict",
    "BackendError",
    "BackendNotFound",
    "BackendRejected",
    "BackendTimeout",
    "BackendUnavailable",
    "BackendValidationError",
    "BadUserInput",
    "ClientError",
    "CostLimitExceeded",
    "Forbidden",
    "GatewayError",
    "NotFound",
    "QuotaExceeded",
    "RequestTimeout",
    "Throttled",
    "Unauthenticated",
    "UsageNotRecorded",
    "error_code",
    "graphql_error_code",
    "graphql_error_message",
    "public_message",
]

_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")
_MAX_MESSAGE = 300

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_message: ClassVar[str] = "Internal server error."

    def __init__(self, message: str | None = None, *, public_message: str | None = None) -> None:
        self.public_message = public_message or message or self.default_message
        super().__init__(message or self.public_message)


class ClientError(GatewayError):
    """The request itself is wrong; the message tells the partner what to change."""

    code = "BAD_REQUEST"
    default_message = "Bad request."


class Unauthenticated(ClientError):
    code = "UNAUTHENTICATED"
    default_message = "A valid API key is required."


class TooManyFailedAuthentications(ClientError):
    """Too many refused keys from one client address: keys cannot be guessed online.

    ``retry_after`` (seconds) becomes the ``Retry-After`` header of the 429.
    """

    code = "TOO_MANY_FAILED_AUTHENTICATIONS"
    default_message = "Too many failed authentications from your address. Retry later."

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__()


class Forbidden(ClientError):
    code = "FORBIDDEN"
    default_message = "This API key may not do that."


class NotFound(ClientError):
    code = "NOT_FOUND"
    default_message = "Not found."


class BadUserInput(ClientError):
    code = "BAD_USER_INPUT"
    default_message = "Invalid input."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class CostLimitExceeded(ClientError):
    code = "COST_LIMIT_EXCEEDED"
    default_message = "This operation costs more than your plan allows for one operation."


class Throttled(ClientError):
    """Not now: ``retry_after`` seconds from now there is room again."""

    code = "THROTTLED"
    default_message = "Too many requests. Retry after the time in the Retry-After header."

    def __init__(self, message: str | None = None, *, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class QuotaExceeded(Throttled):
    code = "QUOTA_EXCEEDED"
    default_message = "Your plan's monthly quota is used up."


class UsageNotRecorded(GatewayError):
    """The usage ledger could not commit: the request is not answered as served."""

    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable. Retry later."


class RequestTimeout(GatewayError):
    """Execution ran past the configured ``request_deadline``; its result was dropped."""

    code = "GATEWAY_TIMEOUT"
    default_message = (
        "The request did not complete in time. Retry later; a mutation sent with the "
        "same idempotencyKey is not applied twice."
    )


class BackendError(GatewayError):
    """The backend could not serve the request."""

    code = "BACKEND_UNAVAILABLE"
    default_message = "The credentials service is unavailable. Retry later."


class BackendUnavailable(BackendError):
    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, public_message=self.default_message)


class BackendTimeout(BackendError):
    code = "BACKEND_TIMEOUT"
    default_message = "The credentials service did not answer in time. Retry later."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, public_message=self.default_message)


class BackendRejected(BackendError):
    """A 4xx response; ``detail`` is kept for logs only."""

    code = "INTERNAL_SERVER_ERROR"
    default_message = "Internal server error."

    def __init__(self, status: int, detail: str = "") -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"backend answered {status}", public_message=self.default_message)


class BackendValidationError(BackendRejected):
    """A 400 with DRF's field errors, e.g. ``{"recipient": {"email": ["Enter a valid..."]}}``.

    Mutations turn it into ``userErrors``; anywhere else the gateway sent a request the
    backend refused, which is the gateway's fault, not the partner's.
    """

    def __init__(self, field_errors: dict[str, Any]) -> None:
        self.field_errors = field_errors
        super().__init__(400)


class BackendNotFound(BackendRejected):
    code = "NOT_FOUND"
    default_message = "Not found."

    def __init__(self, detail: str = "") -> None:
        super().__init__(404, detail)


class BackendConflict(BackendRejected):
    """A 409; the mutation that expects it (revoking twice) answers a userError."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(409, detail)


def error_code(error: BaseException) -> str:
    """The ``extensions.code`` of any exception; unknown ones are internal errors."""
    if isinstance(error, GraphQLError) and error.original_error is not None:
        error = error.original_error
    if isinstance(error, GatewayError):
        return error.code
    return GatewayError.code


def public_message(error: BaseException) -> str:
    """What a partner may read about an exception: never a stack trace or a backend body."""
    if isinstance(error, GraphQLError) and error.original_error is not None:
        error = error.original_error
    if isinstance(error, GatewayError):
        return error.public_message
    return GatewayError.default_message


def graphql_error_code(error: GraphQLError) -> str:
    """The code of an error graphql-core returned from ``execute``.

    An error of graphql-core's own (no original exception, or a GraphQLError) without a
    path comes from coercing the variables, before any resolver ran: the caller's input
    is at fault.
    """
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return error_code(original)
    return "BAD_USER_INPUT" if error.path is None else GatewayError.code


def graphql_error_message(error: GraphQLError) -> str:
    """graphql-core's own messages describe the caller's document; ours may be internal."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return public_message(original)
    if error.path is not None:
        return GatewayError.default_message
    # About the caller's own variables; no schema hints, and never a page of input back.
    return _SUGGESTION.sub("", error.message)[:_MAX_MESSAGE]
