"""The usage ledger, end to end: one row per answered request, whatever happens to the process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.fixtures.gateway import (
    GATEWAY_BIN,
    Gateway,
    data,
    error_codes,
    free_port,
    gateway_env,
    ledger_rows,
    trace_rows,
    wait_until_listening,
)
from tests.fixtures.sample_backend import SampleBackend

QUERY = "{ credentials(first: 5) { nodes { id } } }"


def _one_row(gateway: Gateway, request_id: str) -> dict[str, object]:
    rows = gateway.ledger_rows(request_id)
    assert len(rows) == 1, rows
    return rows[0]


def test_every_outcome_is_recorded_once_and_refusals_are_billed_nothing(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    prefix = uuid.uuid4().hex[:8]
    ok = gateway.post(QUERY, headers={"X-Request-ID": f"{prefix}-ok"}, operation_name=None)
    row = _one_row(gateway, f"{prefix}-ok")
    cost = ok.json()["extensions"]["cost"]
    assert row["outcome"] == "ok"
    assert row["company_id"] == gateway.companies["org1"]["id"]
    assert (row["requested_cost"], row["actual_cost"], row["billable_cost"]) == (
        cost["requestedQueryCost"],
        cost["actualQueryCost"],
        cost["actualQueryCost"],
    )
    seen_by_backend = [
        r for r in gateway_backend.recorded_requests() if r["request_id"] == f"{prefix}-ok"
    ]
    assert row["backend_calls"] == len(seen_by_backend) >= 1
    assert row["operation_type"] == "query"
    assert len(str(row["document_hash"])) == 64

    gateway.post('{ badge(id: "999999999") { id } }', headers={"X-Request-ID": f"{prefix}-err"})
    assert _one_row(gateway, f"{prefix}-err")["error_codes"] == "NOT_FOUND"

    gateway.post(QUERY, key=None, headers={"X-Request-ID": f"{prefix}-anon"})
    anonymous = _one_row(gateway, f"{prefix}-anon")
    assert (anonymous["outcome"], anonymous["company_id"], anonymous["billable_cost"]) == (
        "unauthenticated",
        None,
        0,
    )

    gateway.post("{ nope }", headers={"X-Request-ID": f"{prefix}-bad"})
    rejected = _one_row(gateway, f"{prefix}-bad")
    assert (rejected["outcome"], rejected["error_codes"], rejected["billable_cost"]) == (
        "rejected",
        "GRAPHQL_VALIDATION_FAILED",
        0,
    )


def _start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [GATEWAY_BIN, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    wait_until_listening(port, process)
    return process, f"http://127.0.0.1:{port}/graphql"


@pytest.fixture
def lone_gateway(
    gateway_backend: SampleBackend, postgres_database_url: str, tmp_path: Path
) -> tuple[dict[str, str], str]:
    """A gateway of the test's own (the test may kill it) on PostgreSQL, and a key for it."""
    env = gateway_env(gateway_backend, postgres_database_url)
    subprocess.run(
        [GATEWAY_BIN, "companies", "create", "--name", "Kill Co", "--organization-id", "1",
         "--plan", "enterprise"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    issued = subprocess.run(
        [GATEWAY_BIN, "keys", "issue", "--company", "Kill Co", "--json"],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    key = issued.stdout.split('"key": "')[1].split('"')[0]
    return env, key


async def _load(url: str, key: str, answered: dict[str, int], busy: asyncio.Event) -> None:
    """Requests with unique IDs until the gateway dies; record the IDs that got an answer.

    ``busy`` is set once 300 requests have been answered: well into the load.
    """
    headers = {"Authorization": f"Bearer {key}"}

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            request_id = uuid.uuid4().hex
            try:
                response = await client.post(
                    url, json={"query": QUERY}, headers={**headers, "X-Request-ID": request_id}
                )
            except httpx.HTTPError:
                return  # the gateway is gone: this request got no answer
            answered[request_id] = response.status_code
            if len(answered) >= 300:
                busy.set()

    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(16)))


def test_after_sigkill_under_load_every_answered_request_has_exactly_one_row(
    lone_gateway: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    env, key = lone_gateway
    process, url = _start(env, tmp_path / "gateway.log")
    answered: dict[str, int] = {}

    async def run() -> None:
        busy = asyncio.Event()
        load = asyncio.create_task(_load(url, key, answered, busy))
        await asyncio.wait_for(busy.wait(), timeout=60)
        os.kill(process.pid, signal.SIGKILL)
        await asyncio.wait_for(load, timeout=30)

    asyncio.run(run())
    process.wait(timeout=10)
    rows = ledger_rows(env["GATEWAY_DATABASE_URL"])
    by_request: dict[str, int] = {}
    for row in rows:
        by_request[row["request_id"]] = by_request.get(row["request_id"], 0) + 1
    assert len(answered) >= 300
    assert all(by_request.get(request_id) == 1 for request_id in answered)
    assert all(count == 1 for count in by_request.values())  # nothing counted twice


def _in_flight(backend: SampleBackend) -> int:
    return sum(
        1
        for r in backend.recorded_requests()
        if r["path"] == "/api/v1/credentials/" and str(r["request_id"]).startswith("drain-")
    )


def test_sigterm_drains_in_flight_requests_and_records_them(
    lone_gateway: tuple[dict[str, str], str], gateway_backend: SampleBackend, tmp_path: Path
) -> None:
    env, key = lone_gateway
    process, url = _start(env, tmp_path / "gateway.log")
    gateway_backend.inject_fault("delay", path="/api/v1/credentials/", count=8, delay_ms=800)

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as client:
            requests = [
                asyncio.create_task(
                    client.post(
                        url,
                        json={"query": QUERY},
                        headers={"Authorization": f"Bearer {key}", "X-Request-ID": f"drain-{i}"},
                    )
                )
                for i in range(8)
            ]
            # The backend's own record is the only way to know they are all in flight.
            while _in_flight(gateway_backend) < 8:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            process.send_signal(signal.SIGTERM)
            return await asyncio.gather(*requests)

    try:
        responses = asyncio.run(run())
    finally:
        gateway_backend.clear_faults()
    # uvicorn re-raises SIGTERM once it has shut down gracefully, hence -15, not a crash:
    assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert "gateway stopped" in (tmp_path / "gateway.log").read_text()  # lifespan ran to the end
    assert [r.status_code for r in responses] == [200] * 8
    for i in range(8):
        assert len(ledger_rows(env["GATEWAY_DATABASE_URL"], f"drain-{i}")) == 1
        assert len(trace_rows(env["GATEWAY_DATABASE_URL"], f"drain-{i}")) == 1  # flushed too


def test_a_partner_reads_its_own_usage_as_the_ledger_has_it(gateway: Gateway) -> None:
    today = datetime.now(UTC).date().isoformat()
    gateway.post(QUERY, key="org2")
    gateway.post("{ nope }", key="org2")  # refused: counted, billed nothing
    company = gateway.companies["org2"]["id"]
    rows = [
        r for r in ledger_rows(gateway.env["GATEWAY_DATABASE_URL"]) if r["company_id"] == company
    ]
    query = """query($from: Date!, $to: Date!) { viewer { usage(from: $from, to: $to) {
        requests costPoints errors throttled amount byOperation { operationName requests costPoints } } } }"""
    usage = data(gateway.post(query, {"from": today, "to": today}, key="org2"))["viewer"]["usage"]
    assert usage["requests"] == len(rows) >= 2
    assert usage["costPoints"] == sum(r["billable_cost"] for r in rows)
    assert usage["errors"] == sum(1 for r in rows if r["outcome"] == "error")
    assert sum(line["requests"] for line in usage["byOperation"]) == len(rows)
    assert usage["amount"] == "0.00" or float(usage["amount"]) > 0
    other = data(gateway.post(query, {"from": today, "to": today}, key="org1"))["viewer"]["usage"]
    assert other["requests"] != usage["requests"] or other["costPoints"] != usage["costPoints"]


def test_usage_periods_are_checked(gateway: Gateway) -> None:
    query = '{ viewer { usage(from: "2026-02-01", to: "2026-01-01") { requests } } }'
    assert error_codes(gateway.post(query)) == ["BAD_USER_INPUT"]
