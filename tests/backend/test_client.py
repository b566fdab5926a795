"""BackendClient against the real sample backend over a real socket: headers, retries,
faults, timeouts, error mapping. Retry delays go to a recording fake ``sleep``."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from backend.client import BackendCall, BackendClient, format_path
from backend.retry import CONNECT_TIMEOUT, CONNECTION_ERROR
from errors import (
    BackendError,
    BackendRejected,
    BackendTimeout,
    BackendUnavailable,
    BadUserInput,
    public_message,
)
from observability.request_id import bind_request_id
from tests.backend.conftest import Clock, MakeClient, settings_for
from tests.fixtures.sample_backend import SampleBackend

pytestmark = pytest.mark.usefixtures("clean_backend")

BADGE = "/api/v1/badges/{id}/"
BADGES = "/api/v1/badges/"
CREDENTIALS = "/api/v1/credentials/"


def api_requests(backend: SampleBackend, path: str | None = None) -> list[dict[str, Any]]:
    return [r for r in backend.recorded_requests() if path is None or r["path"] == path]


def assert_no_leak(error: BaseException, *secrets: str) -> None:
    """Neither the log message nor the partner's message carries a backend body or secret."""
    assert isinstance(error, BackendError)
    for text in (str(error), error.public_message, public_message(error)):
        for secret in ("<html", "<center>", "nginx", "127.0.0.1", "Bearer", *secrets):
            assert secret not in text, (secret, text)


# -- paths -------------------------------------------------------------------------------


def test_format_path_accepts_ids_and_uuids_only() -> None:
    some = uuid.uuid4()
    assert format_path(BADGE, {"id": 42}) == "/api/v1/badges/42/"
    assert format_path("/c/{uuid}/", {"uuid": str(some).upper()}) == f"/c/{some}/"
    assert format_path("/c/{uuid}/", {"uuid": some}) == f"/c/{some}/"
    assert format_path(BADGES) == BADGES
    for bad in ["1/../2", "1", "../admin", "", "%2e%2e", 1.0, True, -1, 2**63, None, b"1"]:
        with pytest.raises(BadUserInput) as caught:
            format_path(BADGE, {"id": bad})
        assert caught.value.field == "id"
    with pytest.raises(ValueError, match="start and end"):
        format_path("/api/v1/badges")
    with pytest.raises(ValueError, match="needs path parameters"):
        format_path(BADGE)
    with pytest.raises(ValueError, match="missing"):
        format_path(BADGE, {"uuid": some})


async def test_path_injection_never_reaches_the_backend(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client()
    with pytest.raises(BadUserInput):
        await client.get(BADGE, {"id": "1/../../__admin__/reset"})
    with pytest.raises(BadUserInput):
        await client.post("/api/v1/credentials/{uuid}/revoke/", {"uuid": "x/y"}, json={})
    assert api_requests(backend) == []


async def test_query_values_are_encoded_not_injected(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client()
    search = "a&organization=2#x+y é/?"
    await client.get(BADGES, params={"organization": 1, "search": search, "page_size": 1})
    [request] = api_requests(backend, BADGES)
    assert parse_qs(request["query"]) == {
        "organization": ["1"],
        "search": [search],
        "page_size": ["1"],
    }


async def test_a_redirect_is_never_followed(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    """SSRF: a 3xx pointing anywhere (here, at a socket of ours) is an error, not a fetch."""
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen()
        trap.setblocking(False)
        location = f"http://127.0.0.1:{trap.getsockname()[1]}/latest/meta-data/"
        client, _ = await make_client()
        backend.inject_fault("redirect", path="/api/v1/badges/1/", location=location)
        with pytest.raises(BackendRejected) as caught:
            await client.get(BADGE, {"id": 1})
        assert caught.value.status == 302
        assert_no_leak(caught.value, location)
        with pytest.raises(BlockingIOError):  # the call is over and nobody ever connected
            trap.accept()


# -- headers -----------------------------------------------------------------------------


async def test_every_call_carries_the_bound_request_id(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client()

    async def one(request_id: str, badge_id: int) -> None:
        bind_request_id(request_id)  # this task's own context
        await client.get(BADGE, {"id": badge_id})

    await asyncio.gather(*(one(f"req-{n}", n) for n in range(1, 21)))
    requests = api_requests(backend)
    gets = [r for r in requests if r["method"] == "GET"]
    assert sorted(r["request_id"] for r in gets) == sorted(f"req-{n}" for n in range(1, 21))
    for r in gets:
        assert r["path"] == f"/api/v1/badges/{r['request_id'].removeprefix('req-')}/"
        assert r["authorization_present"]
    # The login rode on the request that needed it first.
    [login] = [r for r in requests if r["path"] == "/api/token/"]
    assert login["request_id"] in {f"req-{n}" for n in range(1, 21)}
    assert not login["authorization_present"]
    assert {call.request_id for call in recorder.attempts(BADGE)} == {r["request_id"] for r in gets}
    # The backend logs it (and would tie its own traces to ours).
    assert "request_id=req-7 " in backend.log_text()


async def test_idempotency_key_header(make_client: MakeClient, backend: SampleBackend) -> None:
    client, _ = await make_client()
    key = f"test-{uuid.uuid4().hex}"
    body = {"badge": 1, "recipient": {"email": f"{key}@example.com"}, "send_email": False}
    await client.post(CREDENTIALS, json=body, idempotency_key=key)
    await client.post(CREDENTIALS, json=body)
    posts = api_requests(backend, CREDENTIALS)
    assert [r["idempotency_key"] for r in posts] == [key, None]
    with pytest.raises(ValueError, match="Idempotency-Key"):
        await client.post(CREDENTIALS, json=body, idempotency_key="bad\nkey")


# -- retries -----------------------------------------------------------------------------


async def test_get_retried_on_503_html_then_succeeds(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_max_retries=2)
    await client.get(BADGE, {"id": 1})  # logged in
    backend.inject_fault("error_html", path="/api/v1/badges/1/", count=2, status=503)
    badge = await client.get(BADGE, {"id": 1})
    assert badge["id"] == 1
    attempts = recorder.attempts(BADGE)[1:]
    assert [(c.attempt, c.status, c.retry_reason) for c in attempts] == [
        (1, 503, None),
        (2, 503, "http_503"),
        (3, 200, "http_503"),
    ]
    assert len(recorder.delays) == 2
    assert 0 <= recorder.delays[0] <= 0.05  # full jitter: base * 2**0
    assert 0 <= recorder.delays[1] <= 0.1  # base * 2**1
    assert [r["status"] for r in api_requests(backend, "/api/v1/badges/1/")] == [200, 503, 503, 200]


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_get_gives_up_after_max_retries(
    make_client: MakeClient, backend: SampleBackend, status: int
) -> None:
    client, recorder = await make_client(backend_max_retries=2)
    backend.inject_fault("error_html", path="/api/v1/badges/", count=-1, status=status)
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert len(api_requests(backend, "/api/v1/badges/1/")) == 3
    assert [c.status for c in recorder.attempts(BADGE)] == [status] * 3
    assert caught.value.code == "BACKEND_UNAVAILABLE"
    assert str(status) in str(caught.value)
    assert_no_leak(caught.value)


async def test_500_is_not_retried(make_client: MakeClient, backend: SampleBackend) -> None:
    client, recorder = await make_client()
    backend.inject_fault("error_html", path="/api/v1/badges/", status=500)
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert len(api_requests(backend, "/api/v1/badges/1/")) == 1
    assert recorder.delays == []
    assert_no_leak(caught.value, "Server Error")


async def test_get_retried_after_dropped_connections(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_max_retries=2)
    await client.get(BADGE, {"id": 1})
    # aiohttp itself re-sends a GET once at once on a dropped keep-alive connection (RFC
    # 9112 9.3.1); two drops get past that, so the client's own retry has to step in.
    backend.inject_fault("drop", path="/api/v1/badges/1/", count=2)
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    statuses = [r["status"] for r in api_requests(backend, "/api/v1/badges/1/")]
    assert statuses == [200, None, None, 200]
    last = recorder.attempts(BADGE)[1:]
    assert [(c.attempt, c.error, c.retry_reason) for c in last] == [
        (1, CONNECTION_ERROR, None),
        (2, None, CONNECTION_ERROR),
    ]


async def test_drops_beyond_the_budget_are_unavailable(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client(backend_max_retries=1)
    await client.get(BADGE, {"id": 1})
    backend.inject_fault("drop", path="/api/v1/badges/1/", count=-1)
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert "connection_error" in str(caught.value)
    assert_no_leak(caught.value)


async def test_429_retry_after_is_honoured(make_client: MakeClient, backend: SampleBackend) -> None:
    client, recorder = await make_client(backend_retry_after_cap=5)
    await client.get(BADGE, {"id": 1})
    backend.inject_fault("throttle", path="/api/v1/badges/1/", retry_after=3)
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert recorder.delays == [3.0]
    assert [c.status for c in recorder.attempts(BADGE)[1:]] == [429, 200]
    assert recorder.attempts(BADGE)[-1].retry_reason == "http_429"


async def test_429_beyond_the_cap_gives_up_at_once(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_retry_after_cap=5)
    await client.get(BADGE, {"id": 1})
    backend.inject_fault("throttle", path="/api/v1/badges/1/", retry_after=60)
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert caught.value.retry_after == 60
    assert recorder.delays == []
    assert len(api_requests(backend, "/api/v1/badges/1/")) == 2
    assert_no_leak(caught.value, "throttled. Expected")


async def test_429_retries_exhausted_keep_retry_after(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_max_retries=1)
    await client.get(BADGE, {"id": 1})
    backend.inject_fault("throttle", path="/api/v1/badges/1/", count=-1, retry_after=2)
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert caught.value.retry_after == 2
    assert recorder.delays == [2.0]


def issue_body(tag: str) -> dict[str, Any]:
    return {"badge": 1, "recipient": {"email": f"{tag}@example.com"}, "send_email": False}


async def test_post_without_idempotency_key_is_never_retried(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_max_retries=3)
    await client.get(BADGE, {"id": 1})
    for kind in ("error_html", "throttle", "drop"):
        backend.clear_requests()
        backend.inject_fault(kind, path=CREDENTIALS, method="POST")
        with pytest.raises(BackendUnavailable):
            await client.post(CREDENTIALS, json=issue_body(f"noretry-{kind}"))
        assert len(api_requests(backend, CREDENTIALS)) == 1, kind
    assert recorder.delays == []


async def test_post_with_idempotency_key_is_retried_and_issued_once(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client(backend_max_retries=3)
    tag = f"once-{uuid.uuid4().hex}"
    key = f"key-{tag}"
    backend.inject_fault("error_html", path=CREDENTIALS, method="POST", status=502)
    backend.inject_fault("drop", path=CREDENTIALS, method="POST")
    backend.inject_fault("throttle", path=CREDENTIALS, method="POST", retry_after=0)
    issued = await client.post(CREDENTIALS, json=issue_body(tag), idempotency_key=key)
    posts = api_requests(backend, CREDENTIALS)
    assert [r["status"] for r in posts] == [502, None, 429, 201]
    assert {r["idempotency_key"] for r in posts} == {key}
    assert [c.retry_reason for c in recorder.attempts(CREDENTIALS)] == [
        None,
        "http_502",
        CONNECTION_ERROR,
        "http_429",
    ]
    # The partner retries too: same key, same credential, still one issued.
    again = await client.post(CREDENTIALS, json=issue_body(tag), idempotency_key=key)
    assert again["uuid"] == issued["uuid"]
    page = await client.get(
        CREDENTIALS, params={"organization": 1, "recipient_email": f"{tag}@example.com"}
    )
    assert page["count"] == 1


# -- timeouts and connection failures -----------------------------------------------------


async def test_read_timeout_is_not_retried(make_client: MakeClient, backend: SampleBackend) -> None:
    client, recorder = await make_client(backend_read_timeout=0.1, backend_max_retries=2)
    await client.get(BADGE, {"id": 1})
    backend.inject_fault("delay", path="/api/v1/badges/1/", delay_ms=300)
    with pytest.raises(BackendTimeout) as caught:
        await client.get(BADGE, {"id": 1})
    assert "read timeout" in str(caught.value)
    assert caught.value.code == "BACKEND_TIMEOUT"
    assert recorder.attempts(BADGE)[-1].error == "read_timeout"
    assert 100 <= recorder.attempts(BADGE)[-1].duration_ms < 300
    assert recorder.delays == []
    assert_no_leak(caught.value)
    # The backend records the slow request once it has answered it (to nobody): wait
    # for that, so it is seen here, once, and never lands in another test's records.
    for _ in range(100):
        if len(api_requests(backend, "/api/v1/badges/1/")) == 2:
            break
        await asyncio.sleep(0.01)
    [_, slow] = api_requests(backend, "/api/v1/badges/1/")
    assert slow["fault"] == "delay"


async def test_a_delay_within_the_read_timeout_is_fine(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client(backend_read_timeout=2)
    backend.inject_fault("delay", path="/api/v1/badges/1/", delay_ms=50)
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A port whose listen backlog is full: SYNs go unanswered, so connecting times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield f"http://127.0.0.1:{port}"
    for sock in [*fillers, server]:
        sock.close()


async def test_connect_timeout_is_retried_then_a_timeout(
    make_client: MakeClient, backend: SampleBackend, black_hole: str
) -> None:
    client, recorder = await make_client(
        backend_url=black_hole, backend_connect_timeout=0.1, backend_max_retries=1
    )
    with pytest.raises(BackendTimeout) as caught:
        await client.get(BADGE, {"id": 1})  # the login cannot connect
    assert "connect timeout" in str(caught.value)
    assert [(c.error, c.retry_reason) for c in recorder.calls] == [
        (CONNECT_TIMEOUT, None),
        (CONNECT_TIMEOUT, CONNECT_TIMEOUT),
    ]
    assert len(recorder.delays) == 1
    assert_no_leak(caught.value, black_hole)
    assert not await client.ping()


def refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: nothing listens there


async def test_connection_refused_is_unavailable(make_client: MakeClient) -> None:
    url = refused_url()
    client, recorder = await make_client(backend_url=url, backend_max_retries=2)
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert [c.error for c in recorder.calls] == [CONNECTION_ERROR] * 3
    assert caught.value.public_message == BackendUnavailable.default_message
    assert_no_leak(caught.value, url)
    assert not await client.ping()


async def test_malformed_json_is_unavailable_and_not_retried(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, recorder = await make_client()
    await client.get(BADGE, {"id": 1})
    backend.inject_fault("malformed_json", path="/api/v1/badges/1/")
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert recorder.attempts(BADGE)[-1].error == "invalid_json"
    assert recorder.attempts(BADGE)[-1].status == 200
    assert len(api_requests(backend, "/api/v1/badges/1/")) == 2
    assert_no_leak(caught.value, "Taller")


# -- circuit breaker ---------------------------------------------------------------------


async def test_circuit_opens_on_a_failing_backend_and_recovers_by_itself(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    clock = Clock()
    client, recorder = await make_client(
        clock=clock, backend_max_retries=0, backend_circuit_failures=3, backend_circuit_reset=5.0
    )
    await client.get(BADGE, {"id": 1})  # logged in
    backend.inject_fault("error_html", path="/api/v1/badges/1/", count=-1, status=503)
    for _ in range(3):
        with pytest.raises(BackendUnavailable):
            await client.get(BADGE, {"id": 1})
    before = len(api_requests(backend, "/api/v1/badges/1/"))
    for _ in range(10):  # open: fail fast, the backend is left alone
        with pytest.raises(BackendUnavailable) as caught:
            await client.get(BADGE, {"id": 1})
    assert len(api_requests(backend, "/api/v1/badges/1/")) == before
    assert caught.value.retry_after == pytest.approx(5.0)
    assert_no_leak(caught.value)

    backend.clear_faults()  # the backend is back; the breaker finds out by one probe
    clock.now += 5.0
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert len(api_requests(backend, "/api/v1/badges/1/")) == before + 2
    assert [c.status for c in recorder.attempts(BADGE)[-2:]] == [200, 200]


async def test_a_plain_500_keeps_the_circuit_closed(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    """A 500 is a bug one input triggers: one partner must not open it for everyone."""
    client, _ = await make_client(backend_circuit_failures=2)
    backend.inject_fault("error_html", path="/api/v1/badges/1/", count=3, status=500)
    for _ in range(3):
        with pytest.raises(BackendUnavailable):
            await client.get(BADGE, {"id": 1})
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert len(api_requests(backend, "/api/v1/badges/1/")) == 4


async def test_attempts_cancelled_by_a_deadline_count_as_failures(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client(backend_circuit_failures=2)
    await client.get(BADGE, {"id": 1})  # logged in
    backend.inject_fault("delay", path="/api/v1/badges/1/", count=2, delay_ms=2000)
    for _ in range(2):  # a request deadline shorter than the backend's silence
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.get(BADGE, {"id": 1})
    with pytest.raises(BackendUnavailable) as caught:
        await client.get(BADGE, {"id": 1})
    assert "circuit open" in str(caught.value)
    # The backend still answers the two abandoned calls, late: wait for them, or they
    # would land in the next test's recorded requests.
    deadline = asyncio.get_running_loop().time() + 10
    while len(api_requests(backend, "/api/v1/badges/1/")) < 3:
        assert asyncio.get_running_loop().time() < deadline, "the delayed calls never finished"
        await asyncio.sleep(0.05)


async def test_not_found_answers_keep_the_circuit_closed(
    make_client: MakeClient, backend: SampleBackend
) -> None:
    client, _ = await make_client(backend_circuit_failures=2)
    for _ in range(4):
        with pytest.raises(BackendRejected):
            await client.get(BADGE, {"id": 999_999})
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1


# -- observer, lifecycle ----------------------------------------------------------------


async def test_backend_call_reports(make_client: MakeClient, backend: SampleBackend) -> None:
    client, recorder = await make_client()
    bind_request_id("req-observed")
    await client.get(BADGE, {"id": 3})
    login, get = recorder.calls
    assert login == BackendCall(
        "POST", "/api/token/", 200, login.duration_ms, 1, None, "req-observed", None
    )
    assert get == BackendCall("GET", BADGE, 200, get.duration_ms, 1, None, "req-observed", None)
    assert 0 < get.duration_ms < 1000
    with pytest.raises(AttributeError):
        get.status = 500  # type: ignore[misc]
    assert not hasattr(get, "__dict__")  # slotted


async def test_a_failing_observer_does_not_fail_the_call(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = await make_client()

    def broken(call: BackendCall) -> None:
        raise RuntimeError("observer bug")

    client.on_call = broken
    assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert "observer failed" in caplog.text


async def test_lifecycle(backend: SampleBackend) -> None:
    client = BackendClient(settings_for(backend))
    assert not client.started
    assert not await client.ping()
    with pytest.raises(RuntimeError, match="not started"):
        await client.get(BADGE, {"id": 1})
    async with client:
        assert client.started
        assert await client.ping()
        await client.start()  # idempotent
        assert (await client.get(BADGE, {"id": 1}))["id"] == 1
    assert not client.started
    assert client.tokens.cached_authorization() is None
    with pytest.raises(RuntimeError, match="not started"):
        await client.get(BADGE, {"id": 1})
    await client.close()  # idempotent


async def test_no_secret_in_any_error(make_client: MakeClient, backend: SampleBackend) -> None:
    client, _ = await make_client()
    await client.get(BADGE, {"id": 1})
    access = (client.tokens.cached_authorization() or "").removeprefix("Bearer ")
    errors: list[BaseException] = []
    for kind, status in [("error_html", 503), ("error_html", 404), ("error_html", 409)]:
        backend.inject_fault(kind, path="/api/v1/badges/1/", count=-1, status=status)
        with pytest.raises(BackendError) as caught:
            await client.get(BADGE, {"id": 1})
        errors.append(caught.value)
        backend.clear_faults()
    for error in errors:
        assert_no_leak(error, access, backend.password, "/api/v1/badges/1/")
    assert isinstance(errors[1], BackendRejected)
    assert errors[1].status == 404
