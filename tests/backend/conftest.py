"""Fixtures of the backend client's tests: a private sample backend and client factory.

The suite runs against its own sample backend process (started with the shared
``start_sample_backend`` factory) so that revoking tokens, issuing credentials and
injecting faults never disturbs other areas' tests on the session's ``sample_backend``.
Clients get a fake ``sleep`` that records the delays instead of waiting, and optionally
a fake clock, so retries and token expiry are tested without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

import pytest

from backend.client import BackendCall, BackendClient
from settings import Settings
from tests.fixtures.sample_backend import SampleBackend, StartSampleBackend

__all__ = ["Clock", "MakeClient", "Recorder", "settings_for"]

PEPPER = "x" * 32


class Clock:
    """A settable clock, starting at the real time (the backend checks ``exp`` for real)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Recorder:
    """What a client did: its ``BackendCall`` reports and the retry delays it asked for."""

    def __init__(self) -> None:
        self.calls: list[BackendCall] = []
        self.delays: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)

    def attempts(self, path_template: str) -> list[BackendCall]:
        return [call for call in self.calls if call.path_template == path_template]


def settings_for(backend: SampleBackend, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "backend_url": backend.url,
        "backend_username": backend.username,
        "backend_password": backend.password,
        "key_pepper": PEPPER,
    }
    values.update(overrides)
    return Settings(**values)


class MakeClient(Protocol):
    async def __call__(
        self,
        target: SampleBackend | None = None,
        *,
        clock: Callable[[], float] | None = None,
        **overrides: Any,
    ) -> tuple[BackendClient, Recorder]: ...


@pytest.fixture(scope="session")
def backend(start_sample_backend: StartSampleBackend) -> SampleBackend:
    """This suite's own sample backend."""
    return start_sample_backend()


@pytest.fixture
def clean_backend(backend: SampleBackend) -> Iterator[SampleBackend]:
    """No faults and no recorded requests before the test; no faults after it."""
    backend.clear_faults()
    backend.clear_requests()
    yield backend
    backend.clear_faults()


@pytest.fixture
async def make_client(backend: SampleBackend) -> AsyncIterator[MakeClient]:
    """Started clients (closed after the test), recording their calls and retry delays."""
    clients: list[BackendClient] = []

    async def make(
        target: SampleBackend | None = None,
        *,
        clock: Callable[[], float] | None = None,
        **overrides: Any,
    ) -> tuple[BackendClient, Recorder]:
        recorder = Recorder()
        client = BackendClient(
            settings_for(target or backend, **overrides),
            on_call=recorder.calls.append,
            sleep=recorder.sleep,
            clock=clock or time.time,
            monotonic=clock or time.monotonic,
        )
        await client.start()
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        await client.close()
