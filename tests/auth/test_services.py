"""AuthServices: built from the settings, with or without Redis; shutdown always completes."""

from __future__ import annotations

import asyncio

from auth.authenticator import Flushed
from auth.services import AuthServices
from settings import Settings
from storage.database import Database
from tests.fixtures.databases import TEST_PEPPER, seed_company_with_key


def _settings(database_url: str, **values: str) -> Settings:
    return Settings.model_validate(
        {
            "backend_username": "svc",
            "backend_password": "pw",
            "database_url": database_url,
            "key_pepper": TEST_PEPPER.decode(),
            **values,
        }
    )


def test_defaults_one_second_cache_thirty_second_flush_twenty_failures_a_minute() -> None:
    settings = _settings("sqlite+aiosqlite:///unused.db")
    assert settings.key_cache_ttl == 1.0  # the revocation bound without Redis
    assert settings.key_flush_interval == 30.0  # main.py's batched last-used writes
    assert (settings.auth_failure_limit, settings.auth_failure_window) == (20, 60.0)
    assert settings.redis_url is None


async def test_one_process_without_redis(sqlite_database_url: str) -> None:
    _, key = await seed_company_with_key(sqlite_database_url)
    async with Database(sqlite_database_url) as database:
        services = AuthServices.from_settings(database, _settings(sqlite_database_url))
        assert services.broadcast is None and services.redis == ()
        await services.start()
        principal = await services.authenticator.authenticate(key)
        # A rotation in this process drops the key from this process's cache at once.
        await services.keys.rotate(principal.key_id, actor="a")
        assert principal.key_id not in services.authenticator._cache
        await services.close()


async def test_shutdown_completes_when_the_last_flush_fails(
    sqlite_database_url: str, redis_url: str, redis_prefix: str
) -> None:
    settings = _settings(sqlite_database_url, redis_url=redis_url, redis_prefix=redis_prefix)
    async with Database(sqlite_database_url) as database:
        services = AuthServices.from_settings(database, settings)
        await services.start()

        async def storage_is_down() -> Flushed:
            raise ConnectionRefusedError("storage is down")

        services.authenticator.flush = storage_is_down  # type: ignore[method-assign]
        await services.close()  # no exception: the rest of the shutdown must run
        assert services.broadcast is not None and services.broadcast._task is None


async def test_with_redis_every_process_listens(
    sqlite_database_url: str, redis_url: str, redis_prefix: str
) -> None:
    _, key = await seed_company_with_key(sqlite_database_url)
    settings = _settings(sqlite_database_url, redis_url=redis_url, redis_prefix=redis_prefix)
    async with Database(sqlite_database_url) as database:
        first = AuthServices.from_settings(database, settings)
        second = AuthServices.from_settings(database, settings)
        for services in (first, second):
            await services.start()
            assert services.broadcast is not None
            await asyncio.wait_for(services.broadcast.ready.wait(), 5)
        try:
            key_id = (await second.authenticator.authenticate(key)).key_id
            await first.keys.revoke(key_id, actor="a")
            async with asyncio.timeout(1.0):
                while key_id in second.authenticator._cache:  # noqa: ASYNC110 - bounded poll
                    await asyncio.sleep(0.005)
        finally:
            await first.close()
            await second.close()
