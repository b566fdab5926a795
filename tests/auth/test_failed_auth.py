"""The failed-authentication limiter: in process, and shared through real Redis."""

from __future__ import annotations

import asyncio
import timeit
from collections.abc import Awaitable, Callable

from auth.broadcast import BLOCK_CLIENT, Broadcast, redis_client
from auth.failed_auth import FailedAuthLimiter, client_address


class Clock:
    def __init__(self, now: float = 6_000_000.0) -> None:  # a window boundary (60 s)
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_the_limit_blocks_until_the_window_ends() -> None:
    clock = Clock()
    limiter = FailedAuthLimiter(limit=3, window=60.0, clock=clock)
    clock.now += 10
    assert [await limiter.record_failure("203.0.113.1") for _ in range(3)] == [None] * 3
    # Reaching the limit blocks before the next key is even checked.
    assert limiter.retry_after("203.0.113.1") == 50.0
    assert limiter.retry_after("203.0.113.2") is None
    assert await limiter.record_failure("203.0.113.1") == 50.0
    clock.now += 49.5
    assert limiter.retry_after("203.0.113.1") == 0.5
    clock.now += 0.5  # a new window: a clean slate
    assert limiter.retry_after("203.0.113.1") is None
    assert await limiter.record_failure("203.0.113.1") is None


async def test_in_process_state_is_bounded() -> None:
    clock = Clock()
    limiter = FailedAuthLimiter(limit=1, window=60.0, clock=clock, max_clients=10)
    for n in range(100):
        await limiter.record_failure(f"198.51.100.{n}")
    assert len(limiter._counts) <= 10 and len(limiter._blocked) <= 10
    assert limiter.retry_after("198.51.100.99") is not None


def test_a_successful_request_pays_nothing_measurable() -> None:
    limiter = FailedAuthLimiter(limit=1, window=60.0)
    limiter.block("192.0.2.77", until=4_000_000_000.0)  # somebody else is blocked
    runs = 100_000
    seconds = min(timeit.repeat(lambda: limiter.retry_after("192.0.2.1"), number=runs, repeat=3))
    assert seconds / runs < 1e-6, f"{seconds / runs * 1e9:.0f} ns per check"


def test_client_address() -> None:
    assert client_address({"client": ("203.0.113.9", 5555)}) == "203.0.113.9"
    assert client_address({"client": None}) == "unknown"
    assert client_address({}) == "unknown"


async def test_redis_shares_counts_and_broadcasts_blocks(redis_url: str, redis_prefix: str) -> None:
    clock = Clock()
    clients = [redis_client(redis_url) for _ in range(4)]
    broadcasts = [Broadcast(clients[n], redis_prefix, subscriber=clients[n + 2]) for n in (0, 1)]

    def publisher(broadcast: Broadcast) -> Callable[[str], Awaitable[bool]]:
        return lambda message: broadcast.publish(BLOCK_CLIENT, message)

    limiters = [
        FailedAuthLimiter(
            limit=4,
            window=60.0,
            redis=clients[n],
            prefix=redis_prefix,
            clock=clock,
            publish_block=publisher(broadcasts[n]),
        )
        for n in (0, 1)
    ]
    heard = asyncio.Event()

    def on_block_a(message: str) -> None:
        limiters[0].on_block_message(message)
        heard.set()

    broadcasts[0].on(BLOCK_CLIENT, on_block_a)
    broadcasts[1].on(BLOCK_CLIENT, limiters[1].on_block_message)
    for broadcast in broadcasts:
        broadcast.start()
    try:
        await asyncio.wait_for(asyncio.gather(*(b.ready.wait() for b in broadcasts)), 5)
        a, b = limiters
        # Two processes, one count: 2 + 2 failures reach the limit of 4.
        assert await a.record_failure("203.0.113.5") is None
        assert await b.record_failure("203.0.113.5") is None
        assert await a.record_failure("203.0.113.5") is None
        assert await b.record_failure("203.0.113.5") is None
        assert b.retry_after("203.0.113.5") == 60.0
        # Process a learns of the block from b's broadcast, without asking Redis.
        await asyncio.wait_for(heard.wait(), 5)
        assert a.retry_after("203.0.113.5") == 60.0
        assert a.retry_after("203.0.113.6") is None
    finally:
        for broadcast in broadcasts:
            await broadcast.stop()
        for client in clients:
            await client.aclose()


async def test_without_redis_reachable_counting_falls_back_to_the_process() -> None:
    clock = Clock()
    dead = redis_client("redis://127.0.0.1:1/0")  # nothing listens on port 1
    limiter = FailedAuthLimiter(limit=2, window=60.0, redis=dead, clock=clock)
    try:
        assert await limiter.record_failure("203.0.113.7") is None
        assert await limiter.record_failure("203.0.113.7") is None
        assert limiter.retry_after("203.0.113.7") == 60.0
    finally:
        await dead.aclose()
