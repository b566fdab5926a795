"""Key invalidations over real Redis pub/sub reach another process's authenticator at once."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from auth.api_keys import parse_api_key
from auth.authenticator import REVOKED, Authenticator
from auth.broadcast import INVALIDATE_KEY, Broadcast, redis_client
from auth.lifecycle import KeyLifecycle
from auth.peppers import PepperSet
from auth.services import ProcessInvalidations
from errors import Unauthenticated
from storage.database import Database
from storage.repositories import ApiKeyRepository
from tests.fixtures.databases import TEST_PEPPER, seed_company_with_key


async def test_a_revocation_reaches_a_frozen_cache_through_redis(
    postgres_database_url: str, redis_url: str, redis_prefix: str
) -> None:
    async with Database(postgres_database_url) as database:
        _, key = await seed_company_with_key(database.url)
        key_id = parse_api_key(key).key_id
        # The listening process's cache never expires by itself: only the message can help.
        listener = Authenticator(ApiKeyRepository(database), TEST_PEPPER, clock=lambda: 0.0)
        publisher_client, subscriber_client = redis_client(redis_url), redis_client(redis_url)
        listening = Broadcast(subscriber_client, redis_prefix)
        invalidated = asyncio.Event()

        def invalidate(message: str) -> None:
            listener.invalidate(message)
            invalidated.set()

        listening.on(INVALIDATE_KEY, invalidate)
        listening.start()
        keys = KeyLifecycle.for_database(
            database,
            PepperSet.single(TEST_PEPPER),
            invalidations=ProcessInvalidations(None, Broadcast(publisher_client, redis_prefix)),
        )
        try:
            await asyncio.wait_for(listening.ready.wait(), 5)
            await listener.authenticate(key)  # warm
            await keys.revoke(key_id, actor="alice")
            await asyncio.wait_for(invalidated.wait(), 1.0)
            assert key_id not in listener._cache
            with pytest.raises(Unauthenticated) as refused:
                await listener.authenticate(key)
            assert refused.value.public_message == REVOKED
        finally:
            await listening.stop()
            await publisher_client.aclose()
            await subscriber_client.aclose()


async def test_a_lost_subscription_comes_back_and_clears_the_cache(
    redis_url: str, redis_prefix: str
) -> None:
    # Named, so the test kills its own connection and no other test run's.
    client = Redis.from_url(redis_url, decode_responses=True, client_name=redis_prefix)
    admin = redis_client(redis_url)
    broadcast = Broadcast(client, redis_prefix, retry_delay=0.01)
    received: list[str] = []
    resubscribed = asyncio.Event()
    broadcast.on(INVALIDATE_KEY, received.append)
    broadcast.on_resubscribe(resubscribed.set)
    broadcast.start()
    try:
        await asyncio.wait_for(broadcast.ready.wait(), 5)
        # Kill the subscriber's connection from the server side, as a Redis failover would.
        mine = [c for c in await admin.client_list() if c.get("name") == redis_prefix]
        assert mine
        for connection in mine:
            await admin.client_kill_filter(_id=connection["id"])
        await asyncio.wait_for(resubscribed.wait(), 5)
        publisher = Broadcast(admin, redis_prefix)
        async with asyncio.timeout(5):
            while not received:
                await publisher.publish(INVALIDATE_KEY, "AbCdEf012345")
                await asyncio.sleep(0.02)
        assert received[0] == "AbCdEf012345"
    finally:
        await broadcast.stop()
        await client.aclose()
        await admin.aclose()


async def test_publishing_without_redis_reachable_says_so() -> None:
    dead = redis_client("redis://127.0.0.1:1/0")
    try:
        assert not await Broadcast(dead, "x").publish(INVALIDATE_KEY, "AbCdEf012345")
    finally:
        await dead.aclose()
