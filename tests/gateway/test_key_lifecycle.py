"""A key's whole life against two real ``gateway serve`` processes sharing PostgreSQL and Redis.

Revocation through the CLI reaches the other process within a second; a rotated key works
through its grace period and then says it was rotated; expiry says so; last-used times
are flushed in the background; failed authentications are limited per address across
both processes; and no key ever shows up in a log line or a CLI output but the one that
issued it.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.api_keys import API_KEY_PATTERN, generate_api_key, parse_api_key
from auth.authenticator import EXPIRED, REVOKED, ROTATED
from auth.issuance import IssuedKey
from auth.lifecycle import KeyLifecycle
from auth.peppers import PepperSet
from storage.database import Database
from storage.key_events import KeyEventRepository
from storage.records import ApiKeyEventRecord
from storage.repositories import ApiKeyRepository, CompanyRepository
from tests.fixtures.databases import _admin, _postgres_url
from tests.fixtures.gateway import (
    GATEWAY_BIN,
    PEPPER,
    clear_of_window_edge,
    free_port,
    gateway_env,
    wait_until_listening,
)
from tests.fixtures.sample_backend import SampleBackend

VIEWER = "{ viewer { company { id name } } }"
FAILURE_LIMIT = 5
# The processes sit "behind a router": with it, X-Forwarded-For names the client.
ROUTER_SECRET = "lifecycle-router-secret-" + "r" * 24


@dataclass
class Process:
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log_path.read_text()


@dataclass
class Pair:
    """Two gateway processes, the CLI they share, and every CLI output for the leak scan."""

    a: Process
    b: Process
    env: dict[str, str]
    database_url: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))
    requests: int = 0
    outputs: list[str] = field(default_factory=list)  # may never hold a key
    key_printouts: list[str] = field(default_factory=list)  # issue/rotate stdout: the one time

    def cli(self, *args: str, stdin: str | None = None, prints_key: bool = False) -> str:
        done = subprocess.run(
            [GATEWAY_BIN, *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        self.outputs.append(done.stderr)
        (self.key_printouts if prints_key else self.outputs).append(done.stdout)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def issue(self, company: str, *extra: str) -> dict[str, Any]:
        issued: dict[str, Any] = json.loads(
            self.cli("keys", "issue", "--company", company, *extra, "--json", prints_key=True)
        )
        return issued

    def post(
        self, process: Process, key: str, *, client_address: str | None = None
    ) -> httpx.Response:
        # Trusted with the router secret. A fresh address per request unless one is given,
        # so polling for a refusal never adds up to the failed-authentication limit.
        self.requests += 1
        forwarded = client_address or f"2001:db8::{self.requests:x}"
        headers = {
            "Authorization": f"Bearer {key}",
            "X-Forwarded-For": forwarded,
            "X-Router-Secret": ROUTER_SECRET,
        }
        return self.client.post(process.url, json={"query": VIEWER}, headers=headers)

    def seed_key(self, *, expires_in: timedelta | None = None) -> IssuedKey:
        """A key issued straight in the database: quicker than the CLI where it is not tested."""

        async def issue() -> IssuedKey:
            async with Database(self.database_url) as database:
                keys = KeyLifecycle.for_database(database, PepperSet.single(PEPPER.encode()))
                company = await CompanyRepository(database).get_by_name("Lifecycle Co")
                assert company is not None
                return await keys.issue(company.id, actor="seed", expires_in=expires_in)

        return asyncio.run(issue())

    def logs(self) -> str:
        return self.a.log_text() + self.b.log_text()


def _eventually(check: Callable[[], bool], timeout: float, interval: float = 0.02) -> float:
    """Poll ``check`` until it holds; the seconds it took. Fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        elapsed = time.monotonic() - started
        assert elapsed < timeout, f"not true within {timeout} s"
        time.sleep(interval)
    return time.monotonic() - started


def _subscribed(process: Process) -> Callable[[], bool]:
    return lambda: "broadcast.subscribed" in process.log_text()


def _refuses(pair: Pair, process: Process, key: str, **kwargs: Any) -> Callable[[], bool]:
    status = kwargs.pop("status", 401)
    return lambda: pair.post(process, key, **kwargs).status_code == status


def _message(response: httpx.Response) -> str:
    message: str = response.json()["errors"][0]["message"]
    return message


@pytest.fixture(scope="module")
def pair(
    gateway_backend: SampleBackend,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    name = f"gw_test_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    directory = tmp_path_factory.mktemp("key-lifecycle")
    env = gateway_env(gateway_backend, _postgres_url(name))
    env.update(
        {
            "GATEWAY_REDIS_URL": redis_url,
            "GATEWAY_REDIS_PREFIX": f"gwtest-{uuid.uuid4().hex[:12]}",
            "GATEWAY_AUTH_FAILURE_LIMIT": str(FAILURE_LIMIT),
            "GATEWAY_ROUTER_SECRET": ROUTER_SECRET,
            "GATEWAY_KEY_FLUSH_INTERVAL": "0.2",
            "USER": "lifecycle-test",
        }
    )
    processes: list[Process] = []
    try:
        subprocess.run([GATEWAY_BIN, "db", "upgrade"], env=env, check=True, capture_output=True)
        for index in range(2):
            port = free_port()
            log_path = directory / f"gateway-{index}.log"
            with log_path.open("wb") as log:
                popen = subprocess.Popen(
                    [GATEWAY_BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
                )
            processes.append(Process(f"http://127.0.0.1:{port}/graphql", log_path, popen))
        for process in processes:
            wait_until_listening(int(process.url.split(":")[2].split("/")[0]), process.process)
            # Subscribed to Redis: from here on a revocation reaches this process at once.
            _eventually(_subscribed(process), 10)
        pair = Pair(processes[0], processes[1], env, _postgres_url(name))
        pair.cli("companies", "create", "--name", "Lifecycle Co", "--organization-id", "1")
        yield pair
        pair.client.close()
    finally:
        for process in processes:
            process.process.terminate()
            process.process.wait(timeout=10)
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_revocation_reaches_the_other_process_within_a_second(pair: Pair) -> None:
    issued = pair.issue("Lifecycle Co")
    key, key_id = issued["key"], issued["id"]
    assert pair.post(pair.a, key).status_code == 200  # both caches warm
    assert pair.post(pair.b, key).status_code == 200

    pair.cli("keys", "revoke", key_id)
    took = _eventually(lambda: pair.post(pair.b, key).status_code == 401, timeout=1.0)
    assert _message(pair.post(pair.b, key)) == REVOKED
    assert pair.post(pair.a, key).status_code == 401
    # It was the Redis message, not the cache TTL: process b logged receiving it.
    _eventually(lambda: f'"key_id":"{key_id}"' in _invalidations(pair.b), timeout=1.0)
    assert took < 1.0


def _invalidations(process: Process) -> str:
    return "\n".join(
        line for line in process.log_text().splitlines() if '"api_key.invalidated"' in line
    )


def test_a_whole_life_leaks_no_key(pair: Pair) -> None:
    issued = pair.issue("Lifecycle Co", "--scope", "read", "--scope", "write")
    old = issued["key"]
    assert pair.post(pair.a, old).status_code == 200

    rotated = json.loads(
        pair.cli("keys", "rotate", issued["id"], "--grace", "1h", "--json", prints_key=True)
    )
    new = rotated["key"]
    assert rotated["id"] != issued["id"] and rotated["scopes"] == ["read", "write"]
    # Both keys work, on both processes, and are the same company.
    companies = {
        pair.post(process, key).json()["data"]["viewer"]["company"]["id"]
        for process in (pair.a, pair.b)
        for key in (old, new)
    }
    assert companies == {issued["company_id"]}

    listing = json.loads(pair.cli("keys", "list", "--company", "Lifecycle Co", "--json"))
    statuses = {k["id"]: k["status"] for k in listing}
    assert (statuses[issued["id"]], statuses[rotated["id"]]) == ("rotating", "active")

    pair.cli("keys", "revoke", issued["id"], "--actor", "sec-team")
    pair.cli("keys", "revoke", "--key", "-", stdin=new + "\n")  # the leaked one, pasted
    for key in (old, new):
        for process in (pair.a, pair.b):
            _eventually(_refuses(pair, process, key), timeout=1.0)
            assert _message(pair.post(process, key)) == REVOKED

    events = json.loads(pair.cli("keys", "events", "--company", "Lifecycle Co", "--json"))
    mine = [
        (e["event"], e["key_id"], e["actor"])
        for e in events
        if e["key_id"] in {issued["id"], rotated["id"]}
    ]
    assert ("issued", issued["id"], "lifecycle-test") in mine
    assert ("rotated", issued["id"], "lifecycle-test") in mine
    assert ("revoked", issued["id"], "sec-team") in mine
    assert ("revoked", rotated["id"], "lifecycle-test") in mine

    # The scan: no key in any log line or CLI output, except where it was printed once.
    logs = pair.logs()
    for key in (old, new):
        secret = key[len("cgw_") + 12 + 1 :]
        for text in (logs, *pair.outputs):
            assert key not in text and secret not in text
    assert [re.findall(API_KEY_PATTERN, text) for text in pair.key_printouts[-2:]] == [[old], [new]]
    assert not re.findall(API_KEY_PATTERN, logs)


def test_late_use_after_rotation_is_refused_and_audited_once(pair: Pair) -> None:
    seeded = pair.seed_key()
    issued = {"id": seeded.record.id, "key": seeded.key}
    pair.cli("keys", "rotate", issued["id"], "--grace", "0", prints_key=True)
    for process in (pair.a, pair.b, pair.a, pair.b):
        refused = pair.post(process, issued["key"])
        assert refused.status_code == 401 and _message(refused) == ROTATED

    async def refusals() -> list[ApiKeyEventRecord]:
        async with Database(pair.database_url) as database:
            events = await KeyEventRepository(database).list(key_id=issued["id"])
        return [e for e in events if e.event == "refused_after_rotation"]

    # Written by the background flush (every 0.2 s here), by whichever process came first;
    # the other's attempt is a no-op: one event per key and hour, however many refusals.
    _eventually(lambda: bool(asyncio.run(refusals())), timeout=5, interval=0.1)
    [event] = asyncio.run(refusals())
    assert event.actor == f"partner:{issued['id']}"


def test_an_expired_key_is_refused_saying_so(pair: Pair) -> None:
    key = pair.seed_key(expires_in=timedelta(seconds=1)).key
    _eventually(_refuses(pair, pair.a, key), timeout=5)
    assert _message(pair.post(pair.a, key)) == EXPIRED
    assert _message(pair.post(pair.b, key)) == EXPIRED


def test_last_used_is_written_in_the_background(pair: Pair) -> None:
    issued = pair.seed_key()
    assert issued.record.last_used_at is None
    assert pair.post(pair.b, issued.key).status_code == 200

    async def last_used() -> Any:
        async with Database(pair.database_url) as database:
            stored = await ApiKeyRepository(database).get(issued.record.id)
            assert stored is not None
            return stored.last_used_at

    # GATEWAY_KEY_FLUSH_INTERVAL is 0.2 s here (30 s by default), and nothing else writes
    # it: the process's periodic flush did, while it kept serving.
    _eventually(lambda: asyncio.run(last_used()) is not None, timeout=5, interval=0.1)


def test_failed_authentications_are_limited_per_address_across_processes(pair: Pair) -> None:
    good = pair.seed_key().key
    guesser = f"203.0.113.{uuid.uuid4().int % 250 + 1}"
    guesses = [generate_api_key().key for _ in range(FAILURE_LIMIT + 1)]
    clear_of_window_edge(60)  # all the guesses in one window of the limiter
    for index, guess in enumerate(guesses[:FAILURE_LIMIT]):
        process = (pair.a, pair.b)[index % 2]
        assert pair.post(process, guess, client_address=guesser).status_code == 401

    # Over the limit: 429 without even checking the key (a right one included).
    for process in (pair.a, pair.b):
        _eventually(_refuses(pair, process, good, client_address=guesser, status=429), 1.0)
    blocked = pair.post(pair.b, guesses[-1], client_address=guesser)
    assert blocked.status_code == 429
    assert blocked.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_FAILED_AUTHENTICATIONS"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert guesses[-1] not in blocked.text
    # Another address is not affected, and neither is a successful caller's cost.
    assert pair.post(pair.a, good, client_address="198.51.100.20").status_code == 200
    assert parse_api_key(good).key_id not in blocked.text
