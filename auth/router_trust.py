"""Whose address is this request? The socket's, unless a router proves it speaks for a partner.

Behind a federation router the TCP peer is the router, so every partner would share one
failed-authentication budget (one guesser would block them all). The router knows the
partner's address and sends it as ``X-Forwarded-For``, but so could anyone: headers are
trusted only with ``X-Router-Secret`` equal to ``GATEWAY_ROUTER_SECRET`` (compared in
constant time, as digests, so not even its length leaks). Without the setting, without
the header, or with a wrong secret, the address is the socket peer's, whatever the
headers say. To rotate the secret without a gap, the old one goes in
``GATEWAY_ROUTER_SECRET_PREVIOUS`` while the routers move to the new one: both are
accepted, and a router still sending the old one is logged (at most once a minute) until
none does and the setting can go::

    trust = RouterTrust.from_settings(settings)
    trust.client_address(scope, headers)  # "203.0.113.7" from a proven router, else the peer

Only the last ``X-Forwarded-For`` entry counts: the one the router itself added (anything
before it came from the partner and proves nothing). A load balancer cannot send a
secret, so its address proves it instead: when the socket peer is in
``GATEWAY_TRUSTED_PROXIES`` (the ALB's subnets), its last ``X-Forwarded-For`` entry is
the client. Without either, every partner behind one ALB node would share one budget.
The secret is never logged, echoed or stored; a wrong one is logged (at most once a
minute) with the peer's address only.
uvicorn's own proxy-header handling is off (``cli/serve.py``), so this is the only rule.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog
from pydantic import SecretStr

from auth.failed_auth import client_address
from settings import Settings

__all__ = ["FORWARDED_FOR_HEADER", "ROUTER_SECRET_HEADER", "RouterTrust", "parse_networks"]

ROUTER_SECRET_HEADER = b"x-router-secret"
FORWARDED_FOR_HEADER = b"x-forwarded-for"
_MISMATCH_LOG_INTERVAL = 60.0
_MAX_FORWARDED = 1024
_MAX_PEERS = 4096  # socket peers remembered as proxy or not

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_log = structlog.get_logger(__name__)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


class RouterTrust:
    """Decides, per request, whether a router's ``X-Forwarded-For`` names the client."""

    __slots__ = (
        "_clock",
        "_expected",
        "_last_mismatch_log",
        "_last_previous_log",
        "_previous",
        "_proxies",
        "_proxy_peers",
    )

    def __init__(
        self,
        secret: SecretStr | None,
        *,
        previous: SecretStr | None = None,
        proxies: Sequence[Network] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if previous is not None and secret is None:
            raise ValueError("a previous router secret needs a current one")
        self._expected = None if secret is None else _digest(secret.get_secret_value().encode())
        self._previous = None if previous is None else _digest(previous.get_secret_value().encode())
        self._proxies = tuple(proxies)
        self._proxy_peers: dict[str, bool] = {}  # peer -> in a trusted network (few peers)
        self._clock = clock
        self._last_mismatch_log = -_MISMATCH_LOG_INTERVAL
        self._last_previous_log = -_MISMATCH_LOG_INTERVAL

    @classmethod
    def from_settings(cls, settings: Settings) -> RouterTrust:
        return cls(
            settings.router_secret,
            previous=settings.router_secret_previous,
            proxies=parse_networks(settings.trusted_proxies),
        )

    @property
    def enabled(self) -> bool:
        return self._expected is not None

    def is_router(self, headers: Mapping[bytes, bytes], peer: str = "") -> bool:
        """Whether the request carries the configured router secret (or the previous one,
        during a rotation; ``peer`` names the router in the log line that says so)."""
        if self._expected is None:
            return False
        presented = headers.get(ROUTER_SECRET_HEADER)
        if presented is None:
            return False
        digest = _digest(presented)
        current = hmac.compare_digest(digest, self._expected)
        if self._previous is None:
            return current
        # Both compared whatever the first answered: the time says nothing about which.
        previous = hmac.compare_digest(digest, self._previous)
        if previous and not current:
            self._log_previous(peer)
        return current or previous

    def client_address(self, scope: Mapping[str, Any], headers: Mapping[bytes, bytes]) -> str:
        """The partner's address: the proven router's last ``X-Forwarded-For`` entry, or
        the socket peer's."""
        peer = client_address(scope)
        if self._expected is None and not self._proxies:
            return peer  # the hot path with neither a router nor a load balancer
        if self._expected is not None:
            if self.is_router(headers, peer):
                return _last_forwarded(headers.get(FORWARDED_FOR_HEADER)) or peer
            if ROUTER_SECRET_HEADER in headers:
                self._log_mismatch(peer)
        if self._proxies and self._is_proxy(peer):
            return _last_forwarded(headers.get(FORWARDED_FOR_HEADER)) or peer
        return peer

    def _is_proxy(self, peer: str) -> bool:
        known = self._proxy_peers.get(peer)
        if known is None:
            try:
                address = ipaddress.ip_address(peer)
            except ValueError:
                known = False
            else:
                known = any(address in network for network in self._proxies)
            if len(self._proxy_peers) < _MAX_PEERS:
                self._proxy_peers[peer] = known
        return known

    def _log_mismatch(self, peer: str) -> None:
        now = self._clock()
        if now - self._last_mismatch_log >= _MISMATCH_LOG_INTERVAL:
            self._last_mismatch_log = now
            _log.warning("router_secret.mismatch", peer=peer)

    def _log_previous(self, peer: str) -> None:
        now = self._clock()
        if now - self._last_previous_log >= _MISMATCH_LOG_INTERVAL:
            self._last_previous_log = now
            _log.warning("router_secret.previous_in_use", peer=peer)  # seen at any log level


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"10.0.0.0/16, 10.1.0.5"`` as networks (``GATEWAY_TRUSTED_PROXIES``)."""
    parts = (part.strip() for part in value.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def _last_forwarded(value: bytes | None) -> str | None:
    """The last address of an ``X-Forwarded-For`` list, normalized, if it is an IP address."""
    if not value or len(value) > _MAX_FORWARDED:
        return None
    last = value.rsplit(b",", 1)[-1].strip().decode("latin-1")
    try:
        address = ipaddress.ip_address(last)
    except ValueError:
        return None
    # ::ffff:203.0.113.7 and 203.0.113.7 are one client: one count.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)
