"""The sample backend's settings: one frozen dataclass, filled from the command line.

::

    config = BackendConfig(port=8001, access_lifetime=300)
    app = create_app(config)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BackendConfig"]


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """Everything that can differ between two sample backends."""

    host: str = "127.0.0.1"
    port: int = 8001
    access_lifetime: int = 300
    """Seconds an access token is valid (SimpleJWT ACCESS_TOKEN_LIFETIME); 0 = born expired."""
    refresh_lifetime: int = 86400
    """Seconds a refresh token is valid (SimpleJWT REFRESH_TOKEN_LIFETIME)."""
    username: str = "gateway-service"
    """The staff service account the gateway signs in with."""
    password: str = "sample-backend-password"  # noqa: S105 - a sample, not a secret
    viewer_username: str = "viewer"
    """A second, non-staff account: authenticates, then gets 403 on every /api/v1/ call."""
    viewer_password: str = "viewer-password"  # noqa: S105 - a sample, not a secret
    signing_key: str = "sample-backend-hs256-signing-key-not-a-secret-0f6b3c2a9e8d4f71"
    """HS256 key of the JWTs (Django's SECRET_KEY in the real backend)."""
    idempotency_ttl: float = 86400.0
    """Seconds an Idempotency-Key is remembered."""
    max_recorded_requests: int = 10_000
    """How many requests /__admin__/requests keeps (the most recent ones)."""
    access_log: bool = True
    """Write one line per request on stderr."""

    def __post_init__(self) -> None:
        if self.access_lifetime < 0 or self.refresh_lifetime < 0:
            raise ValueError("token lifetimes must be >= 0 seconds")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in 0..65535")
        if self.max_recorded_requests < 1:
            raise ValueError("max_recorded_requests must be >= 1")
        if not self.username or not self.password:
            raise ValueError("username and password must not be empty")
        if self.username == self.viewer_username:
            raise ValueError("the service account and the viewer need different usernames")
