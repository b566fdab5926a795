"""Sentry through a capturing transport: realistic events leave with every secret and every
piece of personal data scrubbed, and request errors carry their tags and trace ID."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations.aiohttp import AioHttpIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration
from sentry_sdk.integrations.strawberry import StrawberryIntegration
from sentry_sdk.transport import Transport
from sentry_sdk.types import Event

from observability.sentry import capture_request_error, init_sentry
from observability.trace_context import bind_trace
from observability.traceparent import new_trace
from settings import Settings

API_KEY = "cgw_AbCdEf012345_" + "Z" * 32 + "a1b2c3"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
PASSWORD = "hunter2-backend-password"
EMAIL = "ada.lovelace@example.org"
FIRST_NAME = "Augusta"
CLIENT_IP = "203.0.113.77"
COOKIE = "sessionid=s3ss10n-c00k1e-value"
SECRETS = (API_KEY, JWT, PASSWORD, EMAIL, FIRST_NAME, CLIENT_IP, "s3ss10n-c00k1e-value")
DSN = "https://public0123456789@o1.ingest.example.invalid/42"


class CapturingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    @property
    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event" and item.payload.json is not None
        ]


def _settings(**values: Any) -> Settings:
    return Settings(
        backend_username="svc",
        backend_password=PASSWORD,
        key_pepper="p" * 32,
        **values,
    )


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    transport = CapturingTransport()
    settings = _settings(
        GATEWAY_SENTRY_DSN=DSN, sentry_environment="test", sentry_release="gateway@1.2.3"
    )
    assert init_sentry(settings, transport=transport)
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def _issue_credential(raw_key: str, backend_password: str) -> None:
    """A function whose frame holds everything that must never reach Sentry."""
    headers = {b"authorization": b"Bearer " + JWT.encode(), b"x-api-key": raw_key.encode()}
    recipient = {"email": EMAIL, "first_name": FIRST_NAME}
    database_url = f"postgresql+asyncpg://gateway:{backend_password}@db.internal/gateway"
    variables = {"input": {"badgeId": "42", "recipient": recipient}}
    note = f"issue to {EMAIL} with {raw_key} (token {JWT})"
    assert headers and database_url and variables and note
    raise RuntimeError(f"backend refused {EMAIL}: Authorization: Bearer {JWT} key={raw_key}")


def _add_request(event: Event, _hint: dict[str, Any]) -> Event:
    event["request"] = {
        "method": "POST",
        "url": "https://gateway.example.com/graphql",
        "headers": {
            "Authorization": f"Bearer {API_KEY}",
            "X-API-Key": API_KEY,
            "Cookie": COOKIE,
            "X-Forwarded-For": CLIENT_IP,
            "Content-Type": "application/json",
        },
        "cookies": {"sessionid": "s3ss10n-c00k1e-value"},
        "data": {
            "query": "mutation Issue($input: IssueCredentialInput!) { issueCredential(input: $input) { credential { id } } }",
            "variables": {
                "input": {"badgeId": "42", "recipient": {"email": EMAIL, "firstName": FIRST_NAME}}
            },
        },
        "query_string": f"key={API_KEY}&email={EMAIL}",
        "env": {"REMOTE_ADDR": CLIENT_IP},
    }
    event["user"] = {"ip_address": CLIENT_IP, "email": EMAIL}
    return event


def test_no_secret_or_personal_data_leaves_in_a_realistic_event(
    transport: CapturingTransport,
) -> None:
    sentry_sdk.add_breadcrumb(
        category="backend",
        message=f"POST /api/v1/token/ password={PASSWORD} as {EMAIL}",
        data={"Authorization": f"Bearer {JWT}", "email": EMAIL, "status": 401},
    )
    logging.getLogger("backend.client").warning("login with %s for %s", PASSWORD, EMAIL)
    trace = new_trace(sampled=True)
    with sentry_sdk.new_scope() as scope:
        scope.add_event_processor(_add_request)
        try:
            _issue_credential(API_KEY, PASSWORD)
        except RuntimeError as exc:
            event_id = capture_request_error(
                exc,
                request_id="01JREQUESTID0000000000000",
                company_id="co_0123456789abcdef",
                operation="IssueCredential",
                trace=trace,
            )
    assert event_id is not None
    (event,) = transport.events
    text = json.dumps(event)
    for secret in SECRETS:
        assert secret not in text, secret

    # Still a useful event: what failed, where, for whom, in which trace.
    assert event["tags"] == {
        "request_id": "01JREQUESTID0000000000000",
        "company": "co_0123456789abcdef",
        "operation": "IssueCredential",
        "trace_id": trace.trace_id,
    }
    assert event["contexts"]["trace"]["trace_id"] == trace.trace_id
    assert (event["environment"], event["release"]) == ("test", "gateway@1.2.3")
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"].startswith("backend refused [EMAIL]")
    frame = exception["stacktrace"]["frames"][-1]
    assert frame["function"] == "_issue_credential"
    assert frame["vars"]["raw_key"] == frame["vars"]["backend_password"] == "[REDACTED]"
    assert frame["vars"]["variables"]["input"]["badgeId"] == "'42'"  # ids are kept
    request = event["request"]
    assert request["headers"]["Authorization"] == "[REDACTED]"
    assert request["headers"]["X-API-Key"] == "[REDACTED]"
    assert request["headers"]["Cookie"] == "[REDACTED]"
    assert request["headers"]["Content-Type"] == "application/json"
    assert "cookies" not in request and "env" not in request and "user" not in event
    assert request["data"]["variables"]["input"]["badgeId"] == "42"
    crumbs = event["breadcrumbs"]["values"]
    backend_crumb = next(c for c in crumbs if c.get("category") == "backend")
    assert backend_crumb["data"]["status"] == 401
    assert backend_crumb["message"] == "POST /api/v1/token/ password=[REDACTED] as [EMAIL]"


def test_an_error_logged_by_a_library_is_scrubbed_too(transport: CapturingTransport) -> None:
    logging.getLogger("aiohttp.client").error("token %s refused for %s", JWT, EMAIL)
    (event,) = transport.events
    text = json.dumps(event)
    assert JWT not in text and EMAIL not in text
    assert event["level"] == "error"


def test_without_a_dsn_nothing_starts_and_capturing_is_a_no_op() -> None:
    assert not init_sentry(_settings())
    assert not sentry_sdk.get_client().is_active()
    assert (
        capture_request_error(RuntimeError("x"), request_id="r", company_id=None, operation=None)
        is None
    )


def test_unknown_company_and_anonymous_operations_are_tagged_plainly(
    transport: CapturingTransport,
) -> None:
    capture_request_error(RuntimeError("x"), request_id="r-2", company_id=None, operation=None)
    (event,) = transport.events
    assert event["tags"] == {"request_id": "r-2", "company": "(none)", "operation": "(anonymous)"}


def test_the_requests_bound_trace_is_used_by_default(transport: CapturingTransport) -> None:
    trace = new_trace(sampled=False)
    token = bind_trace(trace)
    try:
        capture_request_error(RuntimeError("x"), request_id="r-3", company_id=None, operation=None)
    finally:
        token.var.reset(token)
    (event,) = transport.events
    assert event["tags"]["trace_id"] == trace.trace_id
    assert event["contexts"]["trace"]["trace_id"] == trace.trace_id


def test_the_conventional_sentry_dsn_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_DSN", DSN)
    monkeypatch.delenv("GATEWAY_SENTRY_DSN", raising=False)
    settings = _settings()
    assert settings.sentry_dsn is not None and settings.sentry_dsn.get_secret_value() == DSN
    assert DSN not in repr(settings)
    monkeypatch.setenv("GATEWAY_SENTRY_DSN", DSN + "0")
    assert _settings().sentry_dsn.get_secret_value() == DSN + "0"  # type: ignore[union-attr]


def test_a_malformed_dsn_is_refused_without_being_repeated() -> None:
    with pytest.raises(ValueError, match="not a valid Sentry DSN") as raised:
        init_sentry(_settings(GATEWAY_SENTRY_DSN="not-a-dsn-secret"))
    assert "not-a-dsn-secret" not in str(raised.value)
    assert not sentry_sdk.get_client().is_active()


def test_only_the_synchronous_strawberry_integration_is_added(
    transport: CapturingTransport,
) -> None:
    client = sentry_sdk.get_client()
    strawberry = client.get_integration(StrawberryIntegration)
    assert strawberry is not None and strawberry.async_execution is False
    # Nothing patches the backend client, the database or Starlette on the hot path.
    for integration in (AioHttpIntegration, SqlalchemyIntegration, StarletteIntegration):
        assert client.get_integration(integration) is None
    collected = client.options["data_collection"]
    assert collected["user_info"] is False  # no personal data, the SDK's scrubber on
    assert client.options["event_scrubber"] is not None
