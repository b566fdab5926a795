"""Behind a router: a forwarded client address counts only when the router proves itself.

Each test connects from its own loopback address (127.0.0.x, Linux routes all of 127/8 to
the loopback), so the socket peer each sees is its own and their failure counts never mix.
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from auth.api_keys import generate_api_key
from auth.issuance import issue_api_key
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories import ApiKeyRepository, CompanyRepository
from tests.fixtures.gateway import (
    GATEWAY_BIN,
    PEPPER,
    Gateway,
    clear_of_window_edge,
    free_port,
    gateway_env,
    table_rows,
    trace_rows,
    until,
    wait_until_listening,
)
from tests.fixtures.sample_backend import SampleBackend

SECRET = "router-secret-" + "s" * 40
LIMIT = 3
LOAD_BALANCER = "127.0.0.20"  # GATEWAY_TRUSTED_PROXIES: its X-Forwarded-For counts
WINDOW = 3600  # counts restart on the hour: clear_of_window_edge keeps a burst in one
VIEWER = "{ viewer { company { name } } }"


async def _seed(database_url: str) -> str:
    """The schema, one company (organization 1) and a key: in process, not with the CLI,
    which would cost this module a dozen seconds of interpreter start-ups."""
    await upgrade(database_url)
    async with Database(database_url) as database:
        company = await CompanyRepository(database).create(name="Routed Co", organization_id=1)
        issued = await issue_api_key(
            ApiKeyRepository(database), company_id=company.id, pepper=PEPPER.encode()
        )
    return issued.key


@pytest.fixture(scope="module")
def routed(
    gateway_backend: SampleBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A gateway with GATEWAY_ROUTER_SECRET, a limit of 3 refusals and an hour's window."""
    directory = tmp_path_factory.mktemp("routed-gateway")
    env = gateway_env(gateway_backend, f"sqlite+aiosqlite:///{directory / 'gateway.db'}")
    env.update(
        {
            "GATEWAY_ROUTER_SECRET": SECRET,
            "GATEWAY_AUTH_FAILURE_LIMIT": str(LIMIT),
            "GATEWAY_AUTH_FAILURE_WINDOW": str(WINDOW),
            "GATEWAY_TRUSTED_PROXIES": LOAD_BALANCER + "/32",
        }
    )
    key = asyncio.run(_seed(env["GATEWAY_DATABASE_URL"]))
    port = free_port()
    log_path = directory / "gateway.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [GATEWAY_BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    try:
        wait_until_listening(port, process)
        yield Gateway(f"http://127.0.0.1:{port}", env, log_path, {"org1": key}, {})
    finally:
        process.terminate()
        process.wait(timeout=10)


class Caller:
    """Requests to a gateway from one loopback source address."""

    def __init__(self, gateway: Gateway, source: str) -> None:
        self.gateway = gateway
        self.client = httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30)

    def post(self, key: str, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        sent.update(headers or {})
        response = self.client.post(
            self.gateway.url + "/graphql", content=json.dumps({"query": VIEWER}), headers=sent
        )
        self.gateway.responses.append(response.text)
        return response

    def close(self) -> None:
        self.client.close()


def _guess() -> str:
    return generate_api_key().key


def _spoofed(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{n}"}


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


@pytest.mark.parametrize(
    ("source", "secret"),
    [("127.0.0.2", None), ("127.0.0.3", "wrong-" + SECRET)],
    ids=["without the secret", "with a wrong secret"],
)
def test_a_spoofed_forwarded_for_cannot_dodge_the_limit(
    routed: Gateway, source: str, secret: str | None
) -> None:
    caller = Caller(routed, source)
    extra = {} if secret is None else {"X-Router-Secret": secret}
    clear_of_window_edge(WINDOW)
    try:
        for n in range(LIMIT):  # a new "address" every time: all counted against the socket
            assert caller.post(_guess(), {**_spoofed(n), **extra}).status_code == 401
        blocked = caller.post(routed.keys["org1"], {**_spoofed(99), **extra})
        assert blocked.status_code == 429
        assert _code(blocked) == "TOO_MANY_FAILED_AUTHENTICATIONS"
    finally:
        caller.close()
    assert secret is None or secret not in blocked.text


def test_a_spoofed_forwarded_for_cannot_dodge_the_limit_without_a_configured_secret(
    gateway: Gateway,
) -> None:
    # The shared gateway has no GATEWAY_ROUTER_SECRET (and its default limit, 20).
    caller = Caller(gateway, "127.0.0.9")
    clear_of_window_edge(60)  # its default window
    try:
        statuses = [
            caller.post(_guess(), {**_spoofed(n), "X-Router-Secret": SECRET}).status_code
            for n in range(21)
        ]
        assert statuses == [401] * 20 + [429]
    finally:
        caller.close()


def test_with_the_secret_the_router_supplied_address_is_what_is_limited(routed: Gateway) -> None:
    router = Caller(routed, "127.0.0.4")
    proven = {"X-Router-Secret": SECRET}
    clear_of_window_edge(WINDOW)
    try:
        for _ in range(LIMIT):
            guess = router.post(_guess(), {**proven, "X-Forwarded-For": "203.0.113.50"})
            assert guess.status_code == 401
        # That partner is blocked, even with a right key, and even if it prepends addresses
        # of its own (only the entry the router added counts).
        for forwarded in ("203.0.113.50", "198.51.100.7, 203.0.113.50"):
            blocked = router.post(routed.keys["org1"], {**proven, "X-Forwarded-For": forwarded})
            assert blocked.status_code == 429, blocked.text
            assert 1 <= int(blocked.headers["retry-after"]) <= WINDOW
        # Another partner behind the same router is not, nor is the router's own address.
        other = router.post(routed.keys["org1"], {**proven, "X-Forwarded-For": "203.0.113.51"})
        assert other.status_code == 200, other.text
        assert router.post(routed.keys["org1"]).status_code == 200
        # The partner's address as the router saw it, not the spoofed one, was blocked.
        spoofed_first = router.post(
            routed.keys["org1"], {**proven, "X-Forwarded-For": "203.0.113.50, 203.0.113.52"}
        )
        assert spoofed_first.status_code == 200
    finally:
        router.close()


def test_behind_a_trusted_load_balancer_each_partner_has_its_own_budget(
    routed: Gateway,
) -> None:
    balancer = Caller(routed, LOAD_BALANCER)  # an ALB node: no secret, a trusted address
    outsider = Caller(routed, "127.0.0.21")
    clear_of_window_edge(WINDOW)
    try:
        for _ in range(LIMIT):
            guess = balancer.post(_guess(), {"X-Forwarded-For": "198.51.100.1, 203.0.113.60"})
            assert guess.status_code == 401
        blocked = balancer.post(routed.keys["org1"], {"X-Forwarded-For": "203.0.113.60"})
        assert blocked.status_code == 429  # that partner, as the balancer saw it
        other = balancer.post(routed.keys["org1"], {"X-Forwarded-For": "203.0.113.61"})
        assert other.status_code == 200  # everyone else behind the same node is not
        # The same header from an address not in GATEWAY_TRUSTED_PROXIES proves nothing.
        for n in range(LIMIT):
            assert outsider.post(_guess(), _spoofed(n + 10)).status_code == 401
        assert outsider.post(routed.keys["org1"], _spoofed(50)).status_code == 429
    finally:
        balancer.close()
        outsider.close()


def test_the_secret_is_never_logged_echoed_or_stored(routed: Gateway) -> None:
    caller = Caller(routed, "127.0.0.5")
    try:
        ok = caller.post(routed.keys["org1"], {"X-Router-Secret": SECRET})
        wrong = caller.post(routed.keys["org1"], {"X-Router-Secret": "x" * 40})
        assert ok.status_code == wrong.status_code == 200
    finally:
        caller.close()
    assert SECRET not in ok.text + str(ok.headers) + wrong.text + str(wrong.headers)
    database = routed.env["GATEWAY_DATABASE_URL"]
    for request_id in (ok.headers["x-request-id"], wrong.headers["x-request-id"]):
        until(functools.partial(trace_rows, database, request_id))  # written in the background
        routed.access_line(request_id)  # and the log, after the answer
    log = routed.log_text()
    assert "router_secret.mismatch" in log  # an operator sees a misconfigured router...
    assert SECRET not in log and "x" * 40 not in log  # ...but never a secret
    for table in ("usage_events", "request_traces"):
        assert SECRET not in repr(table_rows(database, table))
