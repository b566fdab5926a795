"""Clients for the sample backend's tests: authenticated as staff, anonymous, as viewer.

All clients share one session-wide connection pool (creating an httpx client from
scratch costs ~20 ms, most of a test's budget).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.sample_backend import SampleBackend


class _SharedTransport(httpx.BaseTransport):
    """A transport that survives the closing of the clients that use it."""

    def __init__(self, inner: httpx.HTTPTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Closed once, at the end of the session, by the ``transport`` fixture."""


@pytest.fixture(scope="session")
def transport() -> Iterator[httpx.BaseTransport]:
    """The session's connection pool."""
    inner = httpx.HTTPTransport()
    yield _SharedTransport(inner)
    inner.close()


def make_client(
    transport: httpx.BaseTransport, base_url: str = "", token: str | None = None
) -> httpx.Client:
    """A client on the shared pool, with a Bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=10.0)


@pytest.fixture(scope="session")
def http(transport: httpx.BaseTransport) -> httpx.Client:
    """A client for absolute URLs (any backend), without credentials."""
    return make_client(transport)


def obtain_access(http: httpx.Client, backend: SampleBackend, username: str, password: str) -> str:
    """A fresh access token from POST /api/token/."""
    response = http.post(
        f"{backend.url}/api/token/", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    access: str = response.json()["access"]
    return access


@pytest.fixture
def access_token(http: httpx.Client, sample_backend: SampleBackend) -> str:
    """A fresh staff access token (per test: a test may invalidate its own)."""
    return obtain_access(http, sample_backend, sample_backend.username, sample_backend.password)


@pytest.fixture
def api(
    transport: httpx.BaseTransport, sample_backend: SampleBackend, access_token: str
) -> httpx.Client:
    """A client of the backend with the service account's Bearer token."""
    return make_client(transport, sample_backend.url, access_token)


@pytest.fixture
def anon(transport: httpx.BaseTransport, sample_backend: SampleBackend) -> httpx.Client:
    """A client of the backend without credentials."""
    return make_client(transport, sample_backend.url)


@pytest.fixture
def viewer(
    transport: httpx.BaseTransport, http: httpx.Client, sample_backend: SampleBackend
) -> httpx.Client:
    """A client authenticated as the non-staff user."""
    token = obtain_access(http, sample_backend, "viewer", "viewer-password")
    return make_client(transport, sample_backend.url, token)


@pytest.fixture(scope="package", autouse=True)
def _seeded(sample_backend: SampleBackend) -> Iterator[None]:
    """These tests compare against the seed: start from it, and leave it behind.

    The session's backend is shared with other test packages, which may have written.
    """
    sample_backend.reset()
    yield
    sample_backend.reset()


@pytest.fixture
def restore(sample_backend: SampleBackend) -> Iterator[SampleBackend]:
    """For tests that write: the seeded data is restored afterwards."""
    yield sample_backend
    sample_backend.reset()


@pytest.fixture
def faults(sample_backend: SampleBackend) -> Iterator[SampleBackend]:
    """For tests that inject faults: none is left behind."""
    sample_backend.clear_faults()
    yield sample_backend
    sample_backend.clear_faults()
