"""Token manager: JWT expiry decoding, renewal timing, single-flight, refresh → login."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.tokens import (
    LOGIN_PATH,
    MARGIN_FRACTION,
    REFRESH_PATH,
    TokenManager,
    decode_jwt_claims,
    token_lifetime,
)
from errors import BackendRejected, BackendUnavailable, BackendValidationError
from settings import Settings
from tests.backend.conftest import Clock, MakeClient
from tests.backend.jwt_helpers import fake_jwt
from tests.fixtures.sample_backend import SampleBackend, StartSampleBackend

# -- JWT payload decoding (pure) -------------------------------------------------------


@given(
    exp=st.integers(min_value=0, max_value=2**40),
    extra=st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=4),
)
def test_claims_round_trip(exp: int, extra: dict[str, str]) -> None:
    claims = {**extra, "exp": exp}
    assert decode_jwt_claims(fake_jwt(**claims)) == claims


@given(st.text(max_size=80))
def test_decoding_junk_never_raises(token: str) -> None:
    claims = decode_jwt_claims(token)
    assert claims is None or isinstance(claims, dict)


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "a..c", "a.!!!.c", "a.bm90IGpzb24.c", "a.WzEsMl0.c", "a.b.c.d"]
)
def test_not_a_jwt(token: str) -> None:
    assert decode_jwt_claims(token) is None


def test_lifetime_from_the_tokens_own_clock() -> None:
    # iat/exp from the backend's clock; "now" (ours) may be skewed: irrelevant.
    assert token_lifetime({"exp": 1300, "iat": 1000}, now=5_000_000) == 300
    # Without iat: what is left by our clock.
    assert token_lifetime({"exp": 1300}, now=1100) == 200
    assert token_lifetime({"exp": 1300, "iat": 1400}, now=1100) == 200  # nonsense iat
    assert token_lifetime({"exp": "1300"}, now=0) is None
    assert token_lifetime({"exp": True}, now=0) is None
    assert token_lifetime({"exp": math.nan}, now=0) is None
    assert token_lifetime({}, now=0) is None
    assert token_lifetime(None, now=0) is None


# -- TokenManager against a scripted sender (no network) ------------------------------


def settings(margin: float = 30.0) -> Settings:
    return Settings(
        backend_username="svc",
        backend_password="secret-pw",
        key_pepper="x" * 32,
        backend_token_refresh_margin=margin,
    )


class ScriptedBackend:
    """Plays the token endpoints: counts calls, can block, fail or reject."""

    def __init__(self, clock: Clock, lifetime: int = 300) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.gate: asyncio.Event | None = None
        self.reject_refresh = False
        self.fail_with: Exception | None = None
        self.serial = 0

    def pair(self) -> dict[str, str]:
        self.serial += 1
        now = int(self.clock())
        return {
            "access": fake_jwt(exp=now + self.lifetime, iat=now, jti=f"a{self.serial}"),
            "refresh": fake_jwt(exp=now + 86400, iat=now, jti=f"r{self.serial}"),
        }

    async def send(self, path: str, body: Mapping[str, Any]) -> Any:
        self.calls.append((path, dict(body)))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        if path == LOGIN_PATH:
            assert body == {"username": "svc", "password": "secret-pw"}
            return self.pair()
        assert path == REFRESH_PATH
        if self.reject_refresh:
            raise BackendRejected(401, "Token is blacklisted")
        return {"access": self.pair()["access"]}

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]


async def test_login_once_then_cached() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    tokens = TokenManager(settings(), backend.send, clock=clock)
    assert tokens.cached_authorization() is None
    header = await tokens.authorization()
    assert header.startswith("Bearer ey")
    assert tokens.cached_authorization() == header
    assert await tokens.authorization() == header
    assert backend.paths() == [LOGIN_PATH]
    assert tokens.expires_at == clock.now + 300
    assert tokens.renew_at == clock.now + 300 - 30


async def test_refresh_when_the_margin_is_reached() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    tokens = TokenManager(settings(margin=30), backend.send, clock=clock)
    first = await tokens.authorization()
    clock.now += 269.9  # 30.1 s left: still good
    assert tokens.cached_authorization() == first
    clock.now += 0.2  # 29.9 s left: due
    assert tokens.cached_authorization() is None
    second = await tokens.authorization()
    assert second != first
    assert backend.paths() == [LOGIN_PATH, REFRESH_PATH]
    assert (tokens.logins, tokens.refreshes) == (1, 1)


async def test_margin_is_capped_to_a_fraction_of_the_lifetime() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock, lifetime=20)  # margin 30 > lifetime: capped
    tokens = TokenManager(settings(margin=30), backend.send, clock=clock)
    await tokens.authorization()
    assert tokens.renew_at == pytest.approx(clock.now + 20 * (1 - MARGIN_FRACTION))
    clock.now += 10
    assert tokens.cached_authorization() is not None  # not renewed on every call


async def test_clock_skew_does_not_matter() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    tokens = TokenManager(settings(), backend.send, clock=clock)
    clock.now += 3600  # our clock is an hour ahead of the backend's
    await tokens.authorization()
    clock.now += 60
    assert tokens.cached_authorization() is not None
    assert backend.paths() == [LOGIN_PATH]


async def test_single_flight_renewal() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    backend.gate = asyncio.Event()
    tokens = TokenManager(settings(), backend.send, clock=clock)
    waiters = [asyncio.create_task(tokens.authorization()) for _ in range(50)]
    await asyncio.sleep(0)
    backend.gate.set()
    headers = await asyncio.gather(*waiters)
    assert len(set(headers)) == 1
    assert backend.paths() == [LOGIN_PATH]


async def test_a_cancelled_waiter_does_not_cancel_the_renewal() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    backend.gate = asyncio.Event()
    tokens = TokenManager(settings(), backend.send, clock=clock)
    impatient = asyncio.create_task(tokens.authorization())
    patient = asyncio.create_task(tokens.authorization())
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    backend.gate.set()
    assert (await patient).startswith("Bearer ")
    assert impatient.cancelled()
    assert backend.paths() == [LOGIN_PATH]


async def test_failure_is_shared_then_the_next_caller_tries_again() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    backend.gate = asyncio.Event()
    backend.fail_with = BackendUnavailable("POST /api/token/: connection_error")
    tokens = TokenManager(settings(), backend.send, clock=clock)
    waiters = [asyncio.create_task(tokens.authorization()) for _ in range(10)]
    await asyncio.sleep(0)
    backend.gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, BackendUnavailable) for r in results)
    assert backend.paths() == [LOGIN_PATH]
    backend.fail_with = None
    assert (await tokens.authorization()).startswith("Bearer ")
    assert backend.paths() == [LOGIN_PATH, LOGIN_PATH]


async def test_rejected_refresh_falls_back_to_login() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    tokens = TokenManager(settings(), backend.send, clock=clock)
    await tokens.authorization()
    clock.now += 290
    backend.reject_refresh = True
    await tokens.authorization()
    assert backend.paths() == [LOGIN_PATH, REFRESH_PATH, LOGIN_PATH]
    assert (tokens.logins, tokens.refreshes) == (2, 0)


async def test_expired_refresh_token_goes_straight_to_login() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    tokens = TokenManager(settings(), backend.send, clock=clock)
    await tokens.authorization()
    clock.now += 86400
    await tokens.authorization()
    assert backend.paths() == [LOGIN_PATH, LOGIN_PATH]


async def test_invalidate_only_the_token_that_failed() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    tokens = TokenManager(settings(), backend.send, clock=clock)
    old = await tokens.authorization()
    tokens.invalidate(old)
    new = await tokens.authorization()
    assert new != old
    assert backend.paths() == [LOGIN_PATH, REFRESH_PATH]  # the refresh token still works
    tokens.invalidate(old)  # a late 401 with the old token: no new renewal
    assert tokens.cached_authorization() == new


async def test_a_rejected_login_is_never_a_partner_error() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    backend.fail_with = BackendValidationError({"password": ["This field may not be blank."]})
    tokens = TokenManager(settings(), backend.send, clock=clock)
    with pytest.raises(BackendRejected) as caught:
        await tokens.authorization()
    assert type(caught.value) is BackendRejected
    assert caught.value.code == "INTERNAL_SERVER_ERROR"
    assert "secret-pw" not in str(caught.value)
    assert "blank" not in caught.value.public_message


async def test_a_token_without_exp_is_renewed_every_minute() -> None:
    clock = Clock()

    async def send(path: str, body: Mapping[str, Any]) -> Any:
        return {"access": "opaque-token", "refresh": "opaque-refresh"}

    tokens = TokenManager(settings(), send, clock=clock)
    assert await tokens.authorization() == "Bearer opaque-token"
    assert 0 < tokens.renew_at - clock.now <= 60


async def test_a_response_without_access_is_unavailable() -> None:
    async def send(path: str, body: Mapping[str, Any]) -> Any:
        return {"detail": "?"}

    tokens = TokenManager(settings(), send, clock=Clock())
    with pytest.raises(BackendUnavailable):
        await tokens.authorization()


async def test_close_cancels_a_renewal_in_flight() -> None:
    clock = Clock()
    backend = ScriptedBackend(clock)
    backend.gate = asyncio.Event()
    tokens = TokenManager(settings(), backend.send, clock=clock)
    waiter = asyncio.create_task(tokens.authorization())
    await asyncio.sleep(0)
    await tokens.close()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert tokens.cached_authorization() is None


# -- against the real sample backend ---------------------------------------------------

BADGE = "/api/v1/badges/{id}/"


def token_calls(backend: SampleBackend) -> tuple[int, int]:
    """(logins, refreshes) the backend received."""
    paths = [r["path"] for r in backend.recorded_requests()]
    return paths.count(LOGIN_PATH), paths.count(REFRESH_PATH)


@pytest.mark.usefixtures("clean_backend")
async def test_one_login_for_many_concurrent_calls(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client()
    badges = await asyncio.gather(*(client.get(BADGE, {"id": n % 10 + 1}) for n in range(50)))
    assert len(badges) == 50
    assert token_calls(backend) == (1, 0)
    gets = [r for r in backend.recorded_requests() if r["method"] == "GET"]
    assert len(gets) == 50
    assert all(r["authorization_present"] and r["status"] == 200 for r in gets)


@pytest.mark.usefixtures("clean_backend")
async def test_refresh_before_expiry(make_client: MakeClient, backend: SampleBackend) -> None:
    clock = Clock()
    client, recorder = await make_client(clock=clock, backend_token_refresh_margin=30)
    await client.get(BADGE, {"id": 1})
    tokens = client.tokens
    assert tokens.expires_at - clock.now == pytest.approx(300, abs=2)  # the backend's 5 min
    clock.now = tokens.renew_at - 0.5  # 30.5 s before expiry: nothing to do
    await client.get(BADGE, {"id": 1})
    assert token_calls(backend) == (1, 0)
    clock.now = tokens.renew_at + 0.5  # 29.5 s before expiry: refreshed first
    await client.get(BADGE, {"id": 1})
    assert token_calls(backend) == (1, 1)
    assert [c.path_template for c in recorder.calls] == [
        LOGIN_PATH,
        BADGE,
        BADGE,
        REFRESH_PATH,
        BADGE,
    ]
    assert all(c.status == 200 for c in recorder.calls)
    assert (tokens.logins, tokens.refreshes) == (1, 1)


@pytest.mark.usefixtures("clean_backend")
async def test_single_flight_refresh_under_50_concurrent_calls(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    clock = Clock()
    client, _ = await make_client(clock=clock)
    await client.get(BADGE, {"id": 1})
    clock.now = client.tokens.renew_at + 1
    # Slow the refresh down so all 50 calls find it in flight.
    backend.inject_fault("delay", path=REFRESH_PATH, delay_ms=100)
    results = await asyncio.gather(*(client.get(BADGE, {"id": n % 10 + 1}) for n in range(50)))
    assert len(results) == 50
    assert token_calls(backend) == (1, 1)
    gets = [r for r in backend.recorded_requests() if r["method"] == "GET"]
    assert [r["status"] for r in gets] == [200] * 51


@pytest.mark.usefixtures("clean_backend")
async def test_fresh_login_when_the_refresh_is_rejected(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    clock = Clock()
    client, recorder = await make_client(clock=clock)
    await client.get(BADGE, {"id": 1})
    backend.revoke_tokens(refresh=True)  # the refresh token is blacklisted now
    clock.now = client.tokens.renew_at + 1
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert [(c.path_template, c.status) for c in recorder.calls[2:]] == [
        (REFRESH_PATH, 401),
        (LOGIN_PATH, 200),
        (BADGE, 200),
    ]
    assert (client.tokens.logins, client.tokens.refreshes) == (2, 0)


@pytest.mark.usefixtures("clean_backend")
async def test_one_transparent_retry_after_revocation(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client()
    await asyncio.gather(*(client.get(BADGE, {"id": n}) for n in range(1, 6)))
    backend.revoke_tokens()  # access tokens only: the refresh token still works
    backend.clear_requests()
    results = await asyncio.gather(*(client.get(BADGE, {"id": n}) for n in range(1, 21)))
    assert [r["id"] for r in results] == list(range(1, 21))
    # 20 requests failed with the revoked token; one refresh renewed it for all of them.
    assert token_calls(backend) == (0, 1)
    statuses = [r["status"] for r in backend.recorded_requests() if r["method"] == "GET"]
    assert sorted(statuses) == [200] * 20 + [401] * 20
    retried = [c for c in recorder.calls if c.retry_reason == "unauthorized"]
    assert len(retried) == 20
    assert all(c.attempt == 2 and c.status == 200 for c in retried)


@pytest.mark.usefixtures("clean_backend")
async def test_revoked_everything_means_a_fresh_login(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client()
    await client.get(BADGE, {"id": 1})
    backend.revoke_tokens(refresh=True)
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert [(c.path_template, c.status, c.retry_reason) for c in recorder.calls[2:]] == [
        (BADGE, 401, None),
        (REFRESH_PATH, 401, None),
        (LOGIN_PATH, 200, None),
        (BADGE, 200, "unauthorized"),
    ]


async def test_a_second_401_is_an_error(
    make_client: MakeClient, start_sample_backend: StartSampleBackend
) -> None:
    expired = start_sample_backend("--access-lifetime", "0", "--no-access-log")
    client, recorder = await make_client(expired)
    with pytest.raises(BackendRejected) as caught:
        await client.get(BADGE, {"id": 1})
    assert caught.value.status == 401
    assert caught.value.code == "INTERNAL_SERVER_ERROR"
    assert "token" not in caught.value.public_message.lower()
    assert [(c.path_template, c.status) for c in recorder.calls] == [
        (LOGIN_PATH, 200),
        (BADGE, 401),
        (REFRESH_PATH, 200),
        (BADGE, 401),
    ]


@pytest.mark.usefixtures("clean_backend")
async def test_a_forbidden_account_is_rejected_without_relogin(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(
        backend_username="viewer", backend_password="viewer-password"
    )
    with pytest.raises(BackendRejected) as caught:
        await client.get(BADGE, {"id": 1})
    assert caught.value.status == 403
    assert [c.path_template for c in recorder.calls] == [LOGIN_PATH, BADGE]
    assert await client.ping()  # it can log in: the backend is there


@pytest.mark.usefixtures("clean_backend")
async def test_wrong_password(make_client: MakeClient, backend: SampleBackend) -> None:
    client, recorder = await make_client(backend_password="not-the-password")
    with pytest.raises(BackendRejected) as caught:
        await client.get(BADGE, {"id": 1})
    assert type(caught.value) is BackendRejected
    assert caught.value.status == 401
    assert "not-the-password" not in str(caught.value)
    assert [c.status for c in recorder.calls] == [401]  # no retry of a rejected login
    assert not await client.ping()
    # Remembered for a while: probes and requests do not become a stream of failed logins.
    with pytest.raises(BackendRejected):
        await client.get(BADGE, {"id": 1})
    assert [c.status for c in recorder.calls] == [401]


@pytest.mark.usefixtures("clean_backend")
async def test_login_is_retried_on_transient_failures(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_max_retries=2)
    backend.inject_fault("error_html", path=LOGIN_PATH, status=503)
    backend.inject_fault("drop", path=LOGIN_PATH)
    assert await client.ping()
    assert [c.retry_reason for c in recorder.calls] == [None, "http_503", "connection_error"]
    assert client.tokens.logins == 1


@pytest.mark.usefixtures("clean_backend")
async def test_ping_uses_a_valid_token_without_a_round_trip(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client()
    assert await client.ping()
    assert await client.ping()
    assert [c.path_template for c in recorder.calls] == [LOGIN_PATH]
