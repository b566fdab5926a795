"""Both bucket stores behave alike; the Redis one runs against the real Redis server."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from redis.asyncio import Redis

from auth.broadcast import redis_client
from metering.buckets import BucketStore, InProcessBucketStore, RedisBucketStore, Verdict
from metering.plans import Plan
from tests.fixtures.redis import REDIS_URL

# Restores so slowly that a test's own duration cannot refill it measurably.
PLAN = Plan("test", 100, 0.001, 100, 250, Decimal("1"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["in_process", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[BucketStore]:
    if request.param == "in_process":
        yield InProcessBucketStore()
        return
    client = redis_client(REDIS_URL)  # as the gateway makes it: decoded replies, timeouts
    prefix = f"test-{uuid.uuid4().hex}:"
    redis_store = RedisBucketStore(client, prefix=prefix)
    yield redis_store
    await redis_store.close()
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_admits_within_capacity_and_throttles_beyond_without_charging(
    store: BucketStore,
) -> None:
    first = await store.admit("co_a", PLAN, 60)
    assert first.verdict is Verdict.ADMITTED
    assert first.status.currently_available == pytest.approx(40, abs=0.5)
    refused = await store.admit("co_a", PLAN, 60)
    assert refused.verdict is Verdict.THROTTLED
    assert refused.retry_after == pytest.approx(20 / 0.001, rel=0.05)
    status, used = await store.peek("co_a", PLAN)
    assert status.currently_available == pytest.approx(40, abs=0.5)
    assert used == 60


async def test_settling_refunds_what_was_not_spent(store: BucketStore) -> None:
    await store.admit("co_b", PLAN, 80)
    await store.settle("co_b", PLAN, requested=80, actual=30)
    await store.close()  # a Redis settle is sent in the background: wait for it
    status, used = await store.peek("co_b", PLAN)
    assert status.currently_available == pytest.approx(70, abs=0.5)
    assert used == 30


async def test_companies_have_separate_buckets(store: BucketStore) -> None:
    await store.admit("co_c", PLAN, 100)
    assert (await store.admit("co_d", PLAN, 100)).verdict is Verdict.ADMITTED
    assert (await store.admit("co_c", PLAN, 1)).verdict is Verdict.THROTTLED


async def test_the_monthly_quota(store: BucketStore) -> None:
    plan = Plan("roomy", 1000, 0.001, 1000, 250, Decimal("1"))
    assert (await store.admit("co_e", plan, 200)).verdict is Verdict.ADMITTED
    refused = await store.admit("co_e", plan, 100)
    assert refused.verdict is Verdict.QUOTA_EXCEEDED
    assert (await store.peek("co_e", plan))[1] == 200


async def test_the_in_process_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    plan = Plan("fast", 100, 10.0, 100, 10_000, Decimal("0"))
    store = InProcessBucketStore(clock=clock)
    await store.admit("co_f", plan, 100)
    assert (await store.admit("co_f", plan, 50)).retry_after == pytest.approx(5.0)
    clock.now += 5
    assert (await store.admit("co_f", plan, 50)).verdict is Verdict.ADMITTED
    clock.now += 100
    status, _ = await store.peek("co_f", plan)
    assert status.currently_available == 100  # never above capacity


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


async def test_a_redis_that_never_answers_costs_a_request_one_command_timeout() -> None:
    # A black hole: the kernel completes the connection, nothing ever answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host, port = silent.getsockname()
        client = redis_client(f"redis://{host}:{port}/0", command_timeout=0.3)
        store = RedisBucketStore(client, prefix="test-silent:")
        started = time.monotonic()
        admission = await store.admit("co_silent", PLAN, 60)
        waited = time.monotonic() - started
        assert admission.verdict is Verdict.ADMITTED  # metered here, not refused
        assert waited < 3  # the command's timeout, not a request's 15-s deadline
        started = time.monotonic()
        await store.admit("co_silent", PLAN, 1)  # Redis is left alone for a second
        assert time.monotonic() - started < 0.2
        await store.close()
        await client.aclose()


async def test_without_redis_each_process_meters_on_its_own_buckets() -> None:
    down = Redis.from_url(
        f"redis://127.0.0.1:{_refused_port()}/0", socket_connect_timeout=0.5, retry=None
    )
    store = RedisBucketStore(down, prefix="test-down:")
    first = await store.admit("co_down", PLAN, 60)
    assert first.verdict is Verdict.ADMITTED  # not an error for every partner
    assert (await store.admit("co_down", PLAN, 60)).verdict is Verdict.THROTTLED  # limits hold
    await store.settle("co_down", PLAN, requested=60, actual=10)
    await store.close()
    status, used = await store.peek("co_down", PLAN)
    assert status.currently_available == pytest.approx(90, abs=0.5)
    assert used == 10
    await down.aclose()
