"""The service account's JWTs: login, refresh before expiry, one renewal at a time.

The backend uses djangorestframework-simplejwt: ``POST /api/token/`` with the service
account's username and password gives an access token (5 minutes) and a refresh token
(1 day); ``POST /api/token/refresh/`` trades the refresh token for a new access token.
:class:`TokenManager` keeps the pair and hands out the ``Authorization`` header value::

    tokens = TokenManager(settings, send=client.post_unauthenticated)
    header = tokens.cached_authorization() or await tokens.authorization()
    # "Bearer eyJ..."; on a 401 with it:
    tokens.invalidate(header)  # the next authorization() renews (refresh, else login)

Expiry is read from the token itself (``exp``, base64-decoded: the gateway cannot check
the signature and does not need to). To be immune to clock skew between the gateway and
the backend, the lifetime is taken from the token's own claims (``exp - iat``, both the
backend's clock) and counted from the moment the gateway received it (the injectable
``clock``). Renewal starts once less than ``backend_token_refresh_margin`` seconds are
left, a margin capped to a quarter of the lifetime so a short-lived token is not renewed
on every call.

Renewal is single-flight: however many requests need a token at once, one refresh (or
login) runs and all of them await its outcome. A caller that is cancelled while waiting
does not cancel the renewal the others wait for. A refresh that the backend rejects
(400/401: refresh token expired or blacklisted) falls back to a fresh login.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import orjson

from errors import BackendRejected, BackendUnavailable
from settings import Settings

__all__ = [
    "LOGIN_PATH",
    "MARGIN_FRACTION",
    "REFRESH_PATH",
    "TokenManager",
    "TokenSender",
    "decode_jwt_claims",
    "token_lifetime",
]

logger = logging.getLogger(__name__)

LOGIN_PATH: Final = "/api/token/"
REFRESH_PATH: Final = "/api/token/refresh/"

#: The refresh margin is at most this fraction of a token's lifetime.
MARGIN_FRACTION: Final = 0.25

#: Used when a token's lifetime cannot be read: renew this often, and rely on the
#: client's re-authenticating retry after a 401 in between.
_FALLBACK_LIFETIME: Final = 60.0
# After the backend refuses the service account, wait this long before trying again.
LOGIN_REFUSED_BACKOFF: Final = 10.0

#: ``send(path, json_body)``: an unauthenticated POST returning the decoded JSON body, or
#: raising the client's typed errors (``BackendRejected`` for a 4xx, ...).
TokenSender = Callable[[str, Mapping[str, Any]], Awaitable[Any]]


def decode_jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT, decoded but NOT verified; ``None`` when it is not a JWT.

    Only for reading the backend's own ``exp``/``iat``: never trust it for authorization.
    """
    parts = token.split(".")
    if len(parts) != 3 or not parts[1]:
        return None
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = orjson.loads(raw)
    except (binascii.Error, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    return claims if isinstance(claims, dict) else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def token_lifetime(claims: Mapping[str, Any] | None, *, now: float) -> float | None:
    """Seconds a token lives, from its claims: ``exp - iat``, else ``exp - now``.

    ``None`` when there is no usable ``exp``. May be ``<= 0`` for a token that is already
    expired by ``now`` (only possible without ``iat``).
    """
    if claims is None:
        return None
    exp = _number(claims.get("exp"))
    if exp is None:
        return None
    iat = _number(claims.get("iat"))
    if iat is not None and exp > iat:
        return exp - iat
    return exp - now


class TokenManager:
    """The service account's token pair, renewed before expiry, one renewal at a time.

    ``clock`` returns seconds (``time.time`` by default); tests pass a fake one to move
    time forward without sleeping. ``logins`` and ``refreshes`` count successful ones.
    """

    __slots__ = (
        "_access_expires_at",
        "_clock",
        "_header",
        "_login_refused_status",
        "_login_refused_until",
        "_margin",
        "_password",
        "_refresh_expires_at",
        "_refresh_token",
        "_renew_at",
        "_send",
        "_task",
        "_username",
        "logins",
        "refreshes",
    )

    def __init__(
        self,
        settings: Settings,
        send: TokenSender,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._send = send
        self._clock = clock
        self._username = settings.backend_username
        self._password = settings.backend_password
        self._margin = settings.backend_token_refresh_margin
        self._header: str | None = None
        self._renew_at = -math.inf
        self._access_expires_at = -math.inf
        self._refresh_token: str | None = None
        self._refresh_expires_at = -math.inf
        self._task: asyncio.Task[str] | None = None
        self._login_refused_until = -math.inf
        self._login_refused_status = 401
        self.logins = 0
        self.refreshes = 0

    # -- the hot path -------------------------------------------------------------------

    def cached_authorization(self) -> str | None:
        """``"Bearer <access>"`` while the access token needs no renewal, else ``None``.

        Synchronous, so the common case costs one clock read and no coroutine.
        """
        header = self._header
        if header is not None and self._clock() < self._renew_at:
            return header
        return None

    async def authorization(self) -> str:
        """``"Bearer <access>"``, renewing first (single-flight) when due.

        Raises what the renewal raised: ``BackendUnavailable``/``BackendTimeout`` when the
        backend cannot be reached, ``BackendRejected`` when it refuses the service account.
        """
        header = self.cached_authorization()
        if header is not None:
            return header
        task = self._task
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._renew(), name="backend-token")
            task.add_done_callback(self._renewal_done)
            self._task = task
        # shield: a caller cancelled while waiting must not cancel the others' renewal.
        return await asyncio.shield(task)

    def invalidate(self, authorization: str) -> None:
        """Forget the access token after the backend answered 401 to ``authorization``.

        A no-op when the token was already replaced (many in-flight requests may fail
        with the same old token; only the first one's report counts). The refresh token
        is kept: the renewal tries it before logging in again.
        """
        if authorization == self._header:
            self._header = None
            self._renew_at = -math.inf

    def clear(self) -> None:
        """Forget both tokens; the next call logs in."""
        self._header = None
        self._renew_at = -math.inf
        self._access_expires_at = -math.inf
        self._refresh_token = None
        self._refresh_expires_at = -math.inf

    async def close(self) -> None:
        """Cancel a renewal in flight (on shutdown) and forget the tokens."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.clear()

    @property
    def renew_at(self) -> float:
        """When (``clock`` time) the current access token is due for renewal."""
        return self._renew_at

    @property
    def expires_at(self) -> float:
        """When (``clock`` time) the current access token expires."""
        return self._access_expires_at

    # -- renewal ------------------------------------------------------------------------

    def _renewal_done(self, task: asyncio.Task[str]) -> None:
        if self._task is task:
            self._task = None
        if not task.cancelled():
            task.exception()  # retrieved here, so an unawaited failure is never "lost"

    async def _renew(self) -> str:
        if self._refresh_token is not None and self._clock() < self._refresh_expires_at:
            try:
                data = await self._send(REFRESH_PATH, {"refresh": self._refresh_token})
            except BackendRejected as exc:
                # 401: refresh token expired or blacklisted; 400: malformed. Log in again.
                logger.info("backend token refresh rejected (%s); logging in", exc.status)
                self._refresh_token = None
                self._refresh_expires_at = -math.inf
            else:
                header = self._accept(data)
                self.refreshes += 1
                return header
        if self._clock() < self._login_refused_until:
            # A refused login is remembered briefly: probes and partner traffic must not
            # turn into a stream of failed logins that could lock the service account.
            raise BackendRejected(self._login_refused_status, "service-account login rejected")
        try:
            data = await self._send(
                LOGIN_PATH,
                {"username": self._username, "password": self._password.get_secret_value()},
            )
        except BackendRejected as exc:
            # Bad service-account credentials are the gateway's misconfiguration: never a
            # partner's "invalid input" or "not found", whatever the status.
            logger.error("backend rejected the service-account login (%s)", exc.status)
            self._login_refused_until = self._clock() + LOGIN_REFUSED_BACKOFF
            self._login_refused_status = exc.status
            raise BackendRejected(exc.status, "service-account login rejected") from None
        header = self._accept(data)
        self.logins += 1
        return header

    def _accept(self, data: object) -> str:
        """Store a token response (login or refresh); return the new header value."""
        access = data.get("access") if isinstance(data, dict) else None
        if not isinstance(access, str) or not access:
            raise BackendUnavailable("backend token response without an access token")
        now = self._clock()
        lifetime = token_lifetime(decode_jwt_claims(access), now=now)
        if lifetime is None or lifetime <= 0:
            logger.warning("backend access token without a usable exp; renewing every minute")
            lifetime = _FALLBACK_LIFETIME
        margin = min(self._margin, lifetime * MARGIN_FRACTION)
        self._access_expires_at = now + lifetime
        self._renew_at = now + lifetime - margin
        refresh = data.get("refresh") if isinstance(data, dict) else None
        if isinstance(refresh, str) and refresh:  # login, or a refresh with rotation on
            self._refresh_token = refresh
            refresh_lifetime = token_lifetime(decode_jwt_claims(refresh), now=now)
            self._refresh_expires_at = (
                now + refresh_lifetime - margin if refresh_lifetime is not None else math.inf
            )
        self._header = header = "Bearer " + access
        return header
