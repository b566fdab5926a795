"""Per-company leaky buckets and monthly quotas, in process or in Redis, behind one interface.

A request is charged its requested cost up front (:meth:`BucketStore.admit`) and
settled with the difference once its actual cost is known (:meth:`BucketStore.settle`).
Buckets are keyed by company, never by key, so rotating a key resets nothing::

    store = InProcessBucketStore()            # one process (the default)
    store = RedisBucketStore(redis_client)    # many processes: atomic, one round trip
                                              # (in process again while Redis is down)
    admission = await store.admit("co_1", plan, requested=120)
    if admission.verdict is Verdict.ADMITTED:
        ...
        await store.settle("co_1", plan, requested=120, actual=80)
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from metering.plans import Plan
from observability.logging import get_logger

__all__ = [
    "Admission",
    "BucketStore",
    "InProcessBucketStore",
    "RedisBucketStore",
    "ThrottleStatus",
    "Verdict",
    "month_key",
    "next_month_start",
]

log = get_logger("gateway.metering")

_WARN_EVERY = 10.0  # seconds between "redis unavailable" warnings
_RETRY_REDIS_AFTER = 1.0  # seconds on the fallback after a failure before trying Redis again


class Verdict(enum.Enum):
    ADMITTED = 0
    THROTTLED = 1
    QUOTA_EXCEEDED = 2


@dataclass(frozen=True, slots=True)
class ThrottleStatus:
    maximum_available: int
    currently_available: float
    restore_rate: float


@dataclass(frozen=True, slots=True)
class Admission:
    verdict: Verdict
    status: ThrottleStatus
    retry_after: float  # seconds until the bucket holds the requested cost (if throttled)
    quota_used: int  # cost points used this month, this request's charge included


def next_month_start(now: float | None = None) -> datetime:
    """When the quota period after the current one starts."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


_month_cache: tuple[int, str] = (-1, "")


def month_key(now: float | None = None) -> str:
    """The quota period: a calendar month in UTC, e.g. ``2026-11``."""
    global _month_cache  # noqa: PLW0603 - a one-entry cache: twice per request otherwise
    second = int(time.time() if now is None else now)
    if _month_cache[0] != second:
        moment = datetime.fromtimestamp(second, UTC)
        _month_cache = (second, f"{moment.year:04d}-{moment.month:02d}")
    return _month_cache[1]


class BucketStore(Protocol):
    async def admit(self, company_id: str, plan: Plan, requested: int) -> Admission: ...

    async def settle(self, company_id: str, plan: Plan, requested: int, actual: int) -> None: ...

    async def peek(self, company_id: str, plan: Plan) -> tuple[ThrottleStatus, int]: ...

    async def close(self) -> None: ...


class InProcessBucketStore:
    """Buckets in this process's memory: exact for one process, wrong for several."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._levels: dict[str, tuple[float, float]] = {}  # company -> (level, at)
        self._quota: dict[tuple[str, str], int] = {}

    def _level(self, company_id: str, plan: Plan) -> tuple[float, float]:
        now = self._clock()
        level, at = self._levels.get(company_id, (float(plan.bucket_capacity), now))
        return min(plan.bucket_capacity, level + (now - at) * plan.restore_rate), now

    def _status(self, plan: Plan, level: float) -> ThrottleStatus:
        return ThrottleStatus(plan.bucket_capacity, level, plan.restore_rate)

    async def admit(self, company_id: str, plan: Plan, requested: int) -> Admission:
        level, now = self._level(company_id, plan)
        quota_key = (company_id, month_key(self._wall_clock()))
        used = self._quota.get(quota_key, 0)
        if used + requested > plan.monthly_quota:
            verdict, retry_after = Verdict.QUOTA_EXCEEDED, 0.0
        elif requested > level:
            verdict, retry_after = Verdict.THROTTLED, (requested - level) / plan.restore_rate
        else:
            verdict, retry_after = Verdict.ADMITTED, 0.0
            level -= requested
            used += requested
            self._quota[quota_key] = used
        self._levels[company_id] = (level, now)
        return Admission(verdict, self._status(plan, level), retry_after, used)

    async def settle(self, company_id: str, plan: Plan, requested: int, actual: int) -> None:
        level, now = self._level(company_id, plan)
        # A refund when the operation cost less than requested; a debt when it cost more.
        self._levels[company_id] = (min(plan.bucket_capacity, level + requested - actual), now)
        quota_key = (company_id, month_key(self._wall_clock()))
        self._quota[quota_key] = self._quota.get(quota_key, 0) + actual - requested

    async def peek(self, company_id: str, plan: Plan) -> tuple[ThrottleStatus, int]:
        level, _ = self._level(company_id, plan)
        used = self._quota.get((company_id, month_key(self._wall_clock())), 0)
        return self._status(plan, level), used

    async def close(self) -> None:
        return None


# Both scripts read Redis's own clock, so every gateway process agrees on the time.
_REFILL = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1])
local at = tonumber(state[2])
if level == nil then level = capacity; at = now end
level = math.min(capacity, level + math.max(0, now - at) * rate)
"""
_SAVE = """
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
"""
_ADMIT = (
    _REFILL
    + """
local requested = tonumber(ARGV[3])
local quota = tonumber(ARGV[4])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local verdict = 0
local retry = 0
if used + requested > quota then
  verdict = 2
elseif requested > level then
  verdict = 1
  retry = (requested - level) / rate
else
  level = level - requested
  used = redis.call('INCRBY', KEYS[2], requested)
  redis.call('EXPIRE', KEYS[2], 40 * 86400)
end
"""
    + _SAVE
    + "return {verdict, tostring(level), tostring(retry), used}"
)
_SETTLE = (
    _REFILL
    + """
local delta = tonumber(ARGV[3])
level = math.min(capacity, level - delta)
if delta ~= 0 then redis.call('INCRBY', KEYS[2], delta) end
"""
    + _SAVE
    + "return tostring(level)"
)
_PEEK = _REFILL + "return {tostring(level), tonumber(redis.call('GET', KEYS[2]) or '0')}"


class RedisBucketStore:
    """Buckets in Redis, shared by every gateway process; each call is one atomic script.

    While Redis cannot be reached, each process meters on its own in-process buckets
    (the ``fallback``) instead of failing every request: limits hold per process, and
    the shared buckets take over again as soon as Redis answers. One warning per
    ``_WARN_EVERY`` seconds says so.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "gw:",
        fallback: InProcessBucketStore | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._admit = redis.register_script(_ADMIT)
        self._settle = redis.register_script(_SETTLE)
        self._peek = redis.register_script(_PEEK)
        self._pending: set[asyncio.Task[Any]] = set()
        self._fallback = fallback or InProcessBucketStore()
        self._warned_at = -_WARN_EVERY
        self._down_until = 0.0  # after a failure, Redis is left alone for a second

    def _redis_down(self) -> bool:
        return self._down_until > 0.0 and time.monotonic() < self._down_until

    def _degraded(self, operation: str, error: RedisError) -> InProcessBucketStore:
        now = time.monotonic()
        self._down_until = now + _RETRY_REDIS_AFTER  # no connect timeout on every request
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning(
                "redis unavailable: metering on this process's own buckets",
                operation=operation,
                error=type(error).__name__,
            )
        return self._fallback

    def _keys(self, company_id: str) -> list[str]:
        return [
            f"{self._prefix}bucket:{company_id}",
            f"{self._prefix}quota:{company_id}:{month_key()}",
        ]

    async def admit(self, company_id: str, plan: Plan, requested: int) -> Admission:
        if self._redis_down():
            return await self._fallback.admit(company_id, plan, requested)
        try:
            verdict, level, retry, used = await self._admit(
                keys=self._keys(company_id),
                args=[plan.bucket_capacity, plan.restore_rate, requested, plan.monthly_quota],
            )
        except RedisError as error:
            return await self._degraded("admit", error).admit(company_id, plan, requested)
        status = ThrottleStatus(plan.bucket_capacity, float(level), plan.restore_rate)
        return Admission(Verdict(int(verdict)), status, float(retry), int(used))

    async def settle(self, company_id: str, plan: Plan, requested: int, actual: int) -> None:
        if actual == requested:
            return
        # Not awaited by the request: the partner's response does not wait on a refund.
        task = asyncio.create_task(self._refund(company_id, plan, requested, actual))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _refund(self, company_id: str, plan: Plan, requested: int, actual: int) -> None:
        if self._redis_down():
            await self._fallback.settle(company_id, plan, requested, actual)
            return
        try:
            await self._settle(
                keys=self._keys(company_id),
                args=[plan.bucket_capacity, plan.restore_rate, actual - requested],
            )
        except RedisError as error:
            await self._degraded("settle", error).settle(company_id, plan, requested, actual)

    async def peek(self, company_id: str, plan: Plan) -> tuple[ThrottleStatus, int]:
        if self._redis_down():
            return await self._fallback.peek(company_id, plan)
        try:
            level, used = await self._peek(
                keys=self._keys(company_id), args=[plan.bucket_capacity, plan.restore_rate]
            )
        except RedisError as error:
            return await self._degraded("peek", error).peek(company_id, plan)
        return ThrottleStatus(plan.bucket_capacity, float(level), plan.restore_rate), int(used)

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
