"""Several gateway processes share PostgreSQL and Redis, and still count cost exactly once."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.gateway import (
    GATEWAY_BIN,
    free_port,
    gateway_env,
    ledger_rows,
    wait_until_listening,
)
from tests.fixtures.sample_backend import SampleBackend

REDIS_URL = "redis://127.0.0.1:6379/0"
QUERY = {"query": "{ credentials(first: 20) { nodes { id } } }"}  # 21 points, all real


def test_several_workers_without_redis_are_refused(
    gateway_backend: SampleBackend, tmp_path: Path
) -> None:
    env = gateway_env(gateway_backend, f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    done = subprocess.run(
        [GATEWAY_BIN, "serve", "--workers", "2", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "GATEWAY_REDIS_URL" in done.stderr


@pytest.fixture
def two_gateways(
    gateway_backend: SampleBackend, postgres_database_url: str, tmp_path: Path
) -> Iterator[tuple[list[str], str, str]]:
    env = gateway_env(gateway_backend, postgres_database_url)
    env["GATEWAY_REDIS_URL"] = REDIS_URL
    env["GATEWAY_REDIS_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"

    def cli(*args: str) -> str:
        done = subprocess.run(
            [GATEWAY_BIN, *args], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout

    cli("companies", "create", "--name", "Shared Co", "--organization-id", "3", "--plan", "free")
    key = (
        cli("keys", "issue", "--company", "Shared Co", "--json").split('"key": "')[1].split('"')[0]
    )
    processes = []
    urls = []
    try:
        for index in range(2):
            port = free_port()
            log = (tmp_path / f"gateway-{index}.log").open("wb")
            process = subprocess.Popen(
                [GATEWAY_BIN, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
            )
            processes.append(process)
            wait_until_listening(port, process)
            urls.append(f"http://127.0.0.1:{port}/graphql")
        yield urls, key, postgres_database_url
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_two_processes_never_admit_more_than_the_bucket_allows_and_share_one_ledger(
    two_gateways: tuple[list[str], str, str],
) -> None:
    urls, key, database_url = two_gateways
    headers = {"Authorization": f"Bearer {key}"}
    capacity, restore_rate, window = 500, 25.0, 2.0
    admitted: list[int] = []
    throttled = 0
    answered: list[str] = []

    async def worker(client: httpx.AsyncClient, url: str, deadline: float) -> None:
        nonlocal throttled
        while time.monotonic() < deadline:
            request_id = uuid.uuid4().hex
            response = await client.post(
                url, json=QUERY, headers={**headers, "X-Request-ID": request_id}
            )
            answered.append(request_id)
            cost = response.json()["extensions"]["cost"]
            if response.status_code == 200:
                assert cost["actualQueryCost"] == cost["requestedQueryCost"]
                admitted.append(cost["actualQueryCost"])
            else:
                assert response.status_code == 429
                throttled += 1

    async def load() -> float:
        async with httpx.AsyncClient(timeout=30) as client:
            started = time.monotonic()
            deadline = started + window
            await asyncio.gather(*(worker(client, urls[i % 2], deadline) for i in range(8)))
            return time.monotonic() - started

    elapsed = asyncio.run(load())
    assert throttled > 0, "the load never reached the bucket's limit"
    assert sum(admitted) > capacity / 2  # both processes admitted real traffic
    assert sum(admitted) <= capacity + restore_rate * elapsed
    # Both processes wrote the same PostgreSQL ledger: every answer once, nothing twice.
    rows = ledger_rows(database_url)
    assert sorted(row["request_id"] for row in rows) == sorted(answered)
    assert sum(row["billable_cost"] for row in rows) == sum(admitted)
