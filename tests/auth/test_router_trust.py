"""Whose address a request is counted against: the socket's, unless a router proves itself."""

from __future__ import annotations

import pytest
import structlog
from pydantic import SecretStr, ValidationError

from auth.router_trust import RouterTrust, parse_networks
from settings import Settings

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


def test_a_trusted_load_balancers_last_forwarded_entry_is_the_client() -> None:
    trust = RouterTrust(None, proxies=parse_networks("10.0.0.0/24, 2001:db8::/32"))
    assert trust.client_address(PEER, _headers(secret=None)) == "203.0.113.7"
    spoofed = _headers(secret=None, forwarded="198.51.100.1, 203.0.113.7")
    assert trust.client_address(PEER, spoofed) == "203.0.113.7"  # the entry the ALB added
    ipv6_peer = {"client": ("2001:db8::5", 1)}
    assert trust.client_address(ipv6_peer, _headers(secret=None)) == "203.0.113.7"
    # Without a usable entry, the balancer's own address is what it is.
    assert trust.client_address(PEER, _headers(secret=None, forwarded=None)) == "10.0.0.5"


@pytest.mark.parametrize("peer", ["10.0.1.5", "192.0.2.1", "unknown", "2001:db9::1"])
def test_a_peer_outside_the_trusted_networks_is_the_client(peer: str) -> None:
    trust = RouterTrust(None, proxies=parse_networks("10.0.0.0/24, 2001:db8::/32"))
    assert trust.client_address({"client": (peer, 1)}, _headers(secret=None)) == peer


def test_a_wrong_router_secret_from_a_trusted_balancer_still_counts_as_the_balancer() -> None:
    trust = RouterTrust(SecretStr(SECRET), proxies=parse_networks("10.0.0.0/24"))
    wrong = _headers(secret="wrong-" + SECRET[6:])
    assert trust.client_address(PEER, wrong) == "203.0.113.7"  # the ALB vouches, not the router
    assert trust.client_address(PEER, _headers()) == "203.0.113.7"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "not-a-network", "10.0.0.0/8, nope"])
def test_bad_trusted_proxies_are_named(value: str) -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(
            backend_username="u",
            backend_password="p" * 16,
            key_pepper="x" * 32,
            trusted_proxies=value,
        )


NEW_SECRET = "router-secret-new-" + "n" * 32


def test_during_a_rotation_both_secrets_prove_a_router_and_the_old_one_is_noticed() -> None:
    now = [1000.0]
    trust = RouterTrust(SecretStr(NEW_SECRET), previous=SecretStr(SECRET), clock=lambda: now[0])
    with structlog.testing.capture_logs() as logs:
        assert trust.client_address(PEER, _headers(secret=NEW_SECRET)) == "203.0.113.7"
        for _ in range(3):
            assert trust.client_address(PEER, _headers(secret=SECRET)) == "203.0.113.7"
        now[0] += 61
        trust.client_address(PEER, _headers(secret=SECRET))
        assert trust.client_address(PEER, _headers(secret="w" * 40)) == "10.0.0.5"
    events = [log["event"] for log in logs]
    assert events == ["router_secret.previous_in_use"] * 2 + ["router_secret.mismatch"]
    assert logs[0]["peer"] == "10.0.0.5"
    assert SECRET not in repr(logs) and NEW_SECRET not in repr(logs)


def test_after_the_rotation_the_old_secret_proves_nothing() -> None:
    trust = RouterTrust(SecretStr(NEW_SECRET))
    assert trust.client_address(PEER, _headers(secret=SECRET)) == "10.0.0.5"
    assert trust.client_address(PEER, _headers(secret=NEW_SECRET)) == "203.0.113.7"


def _settings(**values: str) -> Settings:
    return Settings(backend_username="u", backend_password="p" * 16, key_pepper="x" * 32, **values)  # type: ignore[arg-type]


def test_a_previous_secret_needs_a_current_one_and_both_are_long() -> None:
    with pytest.raises(ValidationError, match="ROUTER_SECRET_PREVIOUS is for a rotation"):
        _settings(router_secret_previous=SECRET)
    with pytest.raises(ValidationError, match="at least 32 characters"):
        _settings(router_secret=NEW_SECRET, router_secret_previous="short")
    with pytest.raises(ValidationError, match="a rotation needs a new secret") as same:
        _settings(router_secret=SECRET, router_secret_previous=SECRET)
    assert SECRET not in str(same.value)
    both = _settings(router_secret=NEW_SECRET, router_secret_previous=SECRET)
    trust = RouterTrust.from_settings(both)
    assert trust.client_address(PEER, _headers(secret=SECRET)) == "203.0.113.7"
