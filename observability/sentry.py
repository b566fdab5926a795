"""Error reporting to Sentry, scrubbed of secrets and personal data before anything is sent.

On only with ``GATEWAY_SENTRY_DSN`` (or the conventional ``SENTRY_DSN``). The gateway runs
operations through graphql-core directly, not through Strawberry's ``execute``, so
Strawberry's extension hooks (and with them the Strawberry integration's error capture)
never run on ``/graphql``: the endpoint reports errors itself::

    init_sentry(settings)  # once, before build_schema(); False when no DSN is set
    try:
        ...
    except Exception as exc:
        capture_request_error(exc, request_id=rid, company_id="co_...", operation="GetBadges")

Every event passes :func:`scrub_event` (``before_send``) and every breadcrumb
:func:`scrub_breadcrumb`: ``Authorization``, ``X-API-Key``, ``Cookie`` and other
secret-named headers, keys and local variables lose their values; API keys, bearer
tokens, JWTs, URL passwords and email addresses are cut out of every string (messages,
exception values, frames' local variables, request data); request bodies are never
attached, GraphQL variables are redacted like the trace store's, and nothing identifies
a person (Sentry's default without personal data: no user, no client address).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import sentry_sdk
from sentry_sdk.integrations.strawberry import StrawberryIntegration
from sentry_sdk.transport import Transport
from sentry_sdk.types import Event, Hint
from sentry_sdk.utils import BadDsn

from auth.peppers import parse_pepper_set
from observability.scrub import redact_variables, scrub
from observability.trace_context import current_trace
from observability.traceparent import TraceContext
from settings import Settings

__all__ = [
    "capture_request_error",
    "init_sentry",
    "known_secrets",
    "scrub_breadcrumb",
    "scrub_event",
    "scrubbers",
]

_NO_COMPANY = "(none)"
_ANONYMOUS = "(anonymous)"
# Never sent at all: who the user is, and the process environment of a request.
_DROPPED = ("user",)
_DROPPED_REQUEST = ("cookies", "env")
_MIN_SECRET_LENGTH: Final = 6  # shorter values would blank out ordinary words


def init_sentry(
    settings: Settings, *, transport: Transport | type[Transport] | None = None
) -> bool:
    """Start the Sentry client when a DSN is configured; returns whether it did.

    Only the Strawberry integration (synchronous mode) is added to Sentry's defaults: no
    auto-enabled integrations, so nothing patches aiohttp, SQLAlchemy, Redis or Starlette
    on the hot path. ``transport`` is for tests. Raises ``ValueError`` for a malformed DSN
    (without repeating it).
    """
    dsn = settings.sentry_dsn
    if dsn is None:
        return False
    options: dict[str, Any] = {
        "dsn": dsn.get_secret_value(),
        "sample_rate": settings.sentry_sample_rate,
        "traces_sample_rate": settings.sentry_traces_sample_rate,
        # No personal data: send_default_pii left unset, which is off (setting it at all is
        # deprecated in favour of data_collection, whose presence would drop the SDK's own
        # event scrubber).
        "include_local_variables": True,  # scrubbed by scrub_event
        "max_request_body_size": "never",
        "auto_enabling_integrations": False,
        "integrations": [StrawberryIntegration(async_execution=False)],
    }
    before_send, before_breadcrumb = scrubbers(known_secrets(settings))
    options["before_send"] = options["before_send_transaction"] = before_send
    options["before_breadcrumb"] = before_breadcrumb
    if settings.sentry_environment is not None:
        options["environment"] = settings.sentry_environment
    if settings.sentry_release is not None:
        options["release"] = settings.sentry_release
    if transport is not None:
        options["transport"] = transport
    try:
        sentry_sdk.init(**options)
    except BadDsn:
        raise ValueError("GATEWAY_SENTRY_DSN (or SENTRY_DSN) is not a valid Sentry DSN") from None
    return True


def capture_request_error(
    exc: BaseException,
    *,
    request_id: str,
    company_id: str | None,
    operation: str | None,
    trace: TraceContext | None = None,
) -> str | None:
    """Report ``exc`` tagged with the request ID, company and operation; returns the event
    ID, or None when Sentry is off (then it costs one check).

    The event carries the request's W3C trace ID (``trace``, by default the one bound for
    the current request), so an error in Sentry and the request's spans in the tracing
    backend find each other.
    """
    if not sentry_sdk.get_client().is_active():
        return None
    if trace is None:
        trace = current_trace()
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("request_id", request_id)
        scope.set_tag("company", company_id or _NO_COMPANY)
        scope.set_tag("operation", (operation or _ANONYMOUS)[:128])
        if trace is not None:
            scope.set_tag("trace_id", trace.trace_id)
            sampled = "1" if trace.sampled else "0"
            scope.generate_propagation_context(
                {"sentry-trace": f"{trace.trace_id}-{trace.span_id}-{sampled}"}
            )
        return scope.capture_exception(exc)


def known_secrets(settings: Settings) -> tuple[str, ...]:
    """The configured secret values (backend password, peppers, tokens, passwords in URLs),
    removed from events wherever they appear, even where no pattern would spot them."""
    values: list[str] = []
    for secret in (
        settings.backend_password,
        settings.key_pepper,
        settings.metrics_token,
        settings.sentry_dsn,
        settings.router_secret,
        settings.router_secret_previous,
    ):
        if secret is not None:
            values.append(secret.get_secret_value())
    if settings.key_peppers is not None:
        pepper_set = parse_pepper_set(settings.key_peppers.get_secret_value())
        values.extend(p.decode("utf-8", "replace") for p in pepper_set.peppers.values())
    urls = [settings.database_url]
    if settings.redis_url is not None:
        urls.append(settings.redis_url.get_secret_value())
    values.extend(password for url in urls if (password := _url_password(url)) is not None)
    # Longest first, so a secret containing another is removed whole.
    unique = {v for v in values if len(v) >= _MIN_SECRET_LENGTH}
    return tuple(sorted(unique, key=len, reverse=True))


def _url_password(url: str) -> str | None:
    """The password in ``scheme://user:password@host/...``, if any."""
    _, separator, rest = url.partition("://")
    userinfo, at, _ = rest.partition("@")
    if not separator or not at or ":" not in userinfo:
        return None
    return userinfo.split(":", 1)[1] or None


def scrubbers(
    secrets: Sequence[str] = (),
) -> tuple[Callable[[Event, Hint], Event], Callable[[dict[str, Any], Hint], dict[str, Any]]]:
    """``before_send`` and ``before_breadcrumb`` that also remove the known ``secrets``."""

    def before_send(event: Event, hint: Hint) -> Event:
        return scrub_event(event, hint, secrets=secrets)

    def before_breadcrumb(crumb: dict[str, Any], hint: Hint) -> dict[str, Any]:
        return scrub_breadcrumb(crumb, hint, secrets=secrets)

    return before_send, before_breadcrumb


def scrub_event(event: Event, _hint: Hint, *, secrets: Sequence[str] = ()) -> Event:
    """``before_send``: the event without secrets or personal data (see the module doc)."""
    raw: dict[str, Any] = dict(event)
    for name in _DROPPED:
        raw.pop(name, None)
    request = raw.get("request")
    if isinstance(request, Mapping):
        request = {k: v for k, v in request.items() if k not in _DROPPED_REQUEST}
        data = request.get("data")
        if isinstance(data, Mapping) and "variables" in data:
            request["data"] = {**data, "variables": redact_variables(data["variables"])}
        raw["request"] = request
    scrubbed: Event = scrub(raw, secrets=secrets)
    return scrubbed


def scrub_breadcrumb(
    crumb: dict[str, Any], _hint: Hint, *, secrets: Sequence[str] = ()
) -> dict[str, Any]:
    """``before_breadcrumb``: the breadcrumb's message and data scrubbed."""
    scrubbed: dict[str, Any] = scrub(crumb, secrets=secrets)
    return scrubbed
