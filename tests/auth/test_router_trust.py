"""Whose address a request is counted against: the socket's, unless a router proves itself."""

from __future__ import annotations

import pytest
import structlog
from pydantic import SecretStr

from auth.router_trust import RouterTrust

SECRET = "router-secret-" + "r" * 32
PEER = {"client": ("10.0.0.5", 40000)}  # the router's (or anyone's) socket address


def _headers(
    secret: str | None = SECRET, forwarded: str | None = "203.0.113.7"
) -> dict[bytes, bytes]:
    headers = {}
    if secret is not None:
        headers[b"x-router-secret"] = secret.encode()
    if forwarded is not None:
        headers[b"x-forwarded-for"] = forwarded.encode()
    return headers


def test_without_a_configured_secret_forwarded_headers_are_ignored() -> None:
    trust = RouterTrust(None)
    assert not trust.enabled
    assert trust.client_address(PEER, _headers()) == "10.0.0.5"
    assert trust.client_address({}, _headers()) == "unknown"


def test_the_right_secret_makes_the_last_forwarded_address_the_client() -> None:
    trust = RouterTrust(SecretStr(SECRET))
    assert trust.client_address(PEER, _headers()) == "203.0.113.7"
    # Only the entry the router added counts: what the partner sent before it proves nothing.
    spoofed = _headers(forwarded="198.51.100.1, 192.0.2.9,  203.0.113.7 ")
    assert trust.client_address(PEER, spoofed) == "203.0.113.7"
    assert trust.client_address(PEER, _headers(forwarded="2001:DB8::1")) == "2001:db8::1"
    assert trust.client_address(PEER, _headers(forwarded="::ffff:203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize(
    "headers",
    [
        _headers(secret=None),
        _headers(secret="wrong-" + SECRET[6:]),
        _headers(secret=SECRET[:-1]),
        _headers(secret=SECRET + "x"),
        _headers(secret=""),
    ],
    ids=["no secret", "wrong secret", "prefix", "longer", "empty"],
)
def test_a_missing_or_wrong_secret_leaves_the_socket_peer(headers: dict[bytes, bytes]) -> None:
    assert RouterTrust(SecretStr(SECRET)).client_address(PEER, headers) == "10.0.0.5"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address", "1.2.3.4, ", "9" * 2000])
def test_a_proven_router_without_a_usable_address_leaves_the_socket_peer(
    forwarded: str | None,
) -> None:
    trust = RouterTrust(SecretStr(SECRET))
    assert trust.client_address(PEER, _headers(forwarded=forwarded)) == "10.0.0.5"


def test_a_wrong_secret_is_logged_once_a_minute_without_its_value() -> None:
    now = [1000.0]
    trust = RouterTrust(SecretStr(SECRET), clock=lambda: now[0])
    wrong = "w" * 40
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            trust.client_address(PEER, _headers(secret=wrong))
        now[0] += 61
        trust.client_address(PEER, _headers(secret=wrong))
        trust.client_address(PEER, _headers(secret=None))  # no secret at all: not a router
    assert [log["event"] for log in logs] == ["router_secret.mismatch"] * 2
    assert logs[0]["peer"] == "10.0.0.5"
    assert wrong not in repr(logs) and SECRET not in repr(logs)
