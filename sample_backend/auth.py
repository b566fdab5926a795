"""JWT authentication exactly as djangorestframework-simplejwt (defaults) does it.

HS256 tokens with the claims ``token_type``, ``exp``, ``iat``, ``jti`` and ``user_id``;
``Authorization: Bearer <access>`` on every ``/api/v1/`` request. Verified access tokens
are cached by header value, so a request with a known token costs one dictionary lookup::

    tokens = TokenService(config)
    pair = tokens.obtain_pair(tokens.check_password("gateway-service", "..."))
    user = tokens.authenticate("Bearer " + pair["access"])   # raises ApiError(401) if bad
"""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Any

import jwt

from sample_backend.config import BackendConfig
from sample_backend.models import User
from sample_backend.responses import ApiError

__all__ = ["WWW_AUTHENTICATE", "TokenError", "TokenService"]

WWW_AUTHENTICATE = 'Bearer realm="api"'
_AUTH_HEADERS = {"WWW-Authenticate": WWW_AUTHENTICATE}
_INVALID = "Token is invalid or expired"
_CACHE_LIMIT = 50_000


class TokenError(Exception):
    """SimpleJWT's TokenError: the token cannot be used; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _auth_failed(payload: dict[str, Any]) -> ApiError:
    return ApiError(401, payload, dict(_AUTH_HEADERS))


class TokenService:
    """The users, the token endpoints' logic and the per-request authentication."""

    def __init__(self, config: BackendConfig) -> None:
        self._key = config.signing_key
        self._access_lifetime = config.access_lifetime
        self._refresh_lifetime = config.refresh_lifetime
        service = User(1, config.username, config.password, is_staff=True)
        viewer = User(2, config.viewer_username, config.viewer_password, is_staff=False)
        self._users_by_name = {user.username: user for user in (service, viewer)}
        self._users_by_id = {user.id: user for user in (service, viewer)}
        self._issued: dict[str, set[str]] = {"access": set(), "refresh": set()}
        self._revoked: dict[str, set[str]] = {"access": set(), "refresh": set()}
        # "Bearer <token>" header value -> (exp, user) of a verified access token.
        self._verified: dict[str, tuple[int, User]] = {}

    # ----------------------------------------------------------------- issuing

    def check_password(self, username: str, password: str) -> User | None:
        """Django's ``authenticate()``: the active user with these credentials, or None."""
        user = self._users_by_name.get(username)
        if user is None or not user.is_active:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    def _encode(self, token_type: str, user_id: object, now: int, lifetime: int) -> str:
        jti = uuid.uuid4().hex
        self._issued[token_type].add(jti)
        payload = {
            "token_type": token_type,
            "exp": now + lifetime,
            "iat": now,
            "jti": jti,
            "user_id": user_id,
        }
        return jwt.encode(payload, self._key, algorithm="HS256")

    def obtain_pair(self, user: User) -> dict[str, str]:
        """``POST /api/token/``'s answer for an authenticated user."""
        now = int(time.time())
        return {
            "refresh": self._encode("refresh", user.id, now, self._refresh_lifetime),
            "access": self._encode("access", user.id, now, self._access_lifetime),
        }

    def refresh(self, token: str) -> str:
        """A new access token for a valid refresh token, or :class:`TokenError`."""
        payload = self._decode(token, "refresh")
        # Like RefreshToken.access_token: the user claim is copied as it is.
        user_id = payload.get("user_id")
        return self._encode("access", user_id, int(time.time()), self._access_lifetime)

    # ----------------------------------------------------------------- verifying

    def _decode(self, token: str, token_type: str) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = jwt.decode(
                token, self._key, algorithms=["HS256"], options={"require": ["exp"]}
            )
        except jwt.InvalidTokenError:
            raise TokenError(_INVALID) from None
        if "jti" not in payload:
            raise TokenError("Token has no id")
        if payload.get("token_type") != token_type:
            raise TokenError("Token has wrong type")
        if payload["jti"] in self._revoked[token_type]:
            raise TokenError(_INVALID)
        return payload

    def authenticate(self, header: str | None) -> User | None:
        """The user of an ``Authorization`` header: None when there is no bearer token.

        Raises :class:`ApiError` (401) for a malformed header or an invalid, expired or
        revoked token, with SimpleJWT's bodies.
        """
        if header is None:
            return None
        cached = self._verified.get(header)
        if cached is not None:
            if time.time() < cached[0]:
                return cached[1]
            del self._verified[header]
        parts = header.split()
        if not parts or parts[0] != "Bearer":
            return None  # another scheme: not a JWT, so "not provided"
        if len(parts) != 2:
            raise _auth_failed(
                {
                    "detail": "Authorization header must contain two space-delimited values",
                    "code": "bad_authorization_header",
                }
            )
        try:
            payload = self._decode(parts[1], "access")
        except TokenError as exc:
            raise _auth_failed(
                {
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [
                        {
                            "token_class": "AccessToken",
                            "token_type": "access",
                            "message": exc.message,
                        }
                    ],
                }
            ) from None
        user_id = payload.get("user_id")
        if user_id is None:
            raise _auth_failed(
                {
                    "detail": "Token contained no recognizable user identification",
                    "code": "token_not_valid",
                }
            )
        user = self._users_by_id.get(user_id) if type(user_id) is int else None
        if user is None:
            raise _auth_failed({"detail": "User not found", "code": "user_not_found"})
        if not user.is_active:
            raise _auth_failed({"detail": "User is inactive", "code": "user_inactive"})
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[header] = (int(payload["exp"]), user)
        return user

    # ----------------------------------------------------------------- admin

    def revoke_all(self, *, refresh: bool = False) -> dict[str, int]:
        """Invalidate every access token issued so far (and refresh tokens if asked)."""
        counts = {"access": 0, "refresh": 0}
        for token_type in ("access", "refresh") if refresh else ("access",):
            counts[token_type] = len(self._issued[token_type])
            self._revoked[token_type] |= self._issued[token_type]
            self._issued[token_type] = set()
        self._verified.clear()
        return counts
