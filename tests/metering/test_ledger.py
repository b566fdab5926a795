"""The ledger writer on both databases: group commit, idempotence, flush on close."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from metering.ledger import GATHER_TURNS, LedgerUnavailable, UsageLedger, UsageRecord
from storage.database import Database
from storage.models import UsageEvent


def _record(index: int, outcome: str = "ok", error_codes: tuple[str, ...] = ()) -> UsageRecord:
    return UsageRecord(
        request_id=f"req-{index}",
        outcome=outcome,
        duration_ms=1.5,
        company_id="co_1",
        requested_cost=10,
        actual_cost=7,
        error_codes=error_codes,
    )


async def _rows(database: Database) -> list[UsageEvent]:
    async with database.session() as session:
        return list((await session.scalars(select(UsageEvent))).all())


async def test_concurrent_events_share_commits_and_all_land(database: Database) -> None:
    ledger = UsageLedger(database)
    await ledger.start()
    await asyncio.gather(*(ledger.record(_record(i)) for i in range(200)))
    await ledger.close()
    rows = await _rows(database)
    assert sorted(r.request_id for r in rows) == sorted(f"req-{i}" for i in range(200))
    assert ledger.commits < 200  # grouped
    assert {(r.billable_cost, r.actual_cost, r.requested_cost) for r in rows} == {(7, 7, 10)}


async def _record_after(ledger: UsageLedger, turns: int, index: int) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)
    await ledger.record(_record(index))


async def test_events_of_the_next_loop_turns_join_one_commit(database: Database) -> None:
    """Requests answered a turn or two apart share a transaction, not one each."""
    ledger = UsageLedger(database)
    await ledger.start()
    await asyncio.gather(*(_record_after(ledger, turn, turn) for turn in range(GATHER_TURNS)))
    assert ledger.commits == 1
    await ledger.close()
    assert len(await _rows(database)) == GATHER_TURNS


async def test_a_steady_stream_of_events_is_not_held_back(database: Database) -> None:
    """However fast events keep coming, a commit waits at most GATHER_TURNS turns."""
    ledger = UsageLedger(database)
    await ledger.start()
    turns = 5 * GATHER_TURNS
    await asyncio.gather(*(_record_after(ledger, turn, turn) for turn in range(turns)))
    assert ledger.commits >= 2
    await ledger.close()
    assert len(await _rows(database)) == turns


async def test_refused_requests_are_recorded_and_billed_nothing(database: Database) -> None:
    ledger = UsageLedger(database)
    await ledger.start()
    await ledger.record(_record(1, outcome="throttled", error_codes=("THROTTLED",)))
    await ledger.record(UsageRecord(request_id="anon", outcome="unauthenticated", duration_ms=0.2))
    await ledger.close()
    rows = {r.request_id: r for r in await _rows(database)}
    assert rows["req-1"].billable_cost == 0 and rows["req-1"].error_codes == "THROTTLED"
    assert rows["anon"].company_id is None and rows["anon"].billable_cost == 0


async def test_a_replayed_event_never_counts_twice(database: Database) -> None:
    ledger = UsageLedger(database)
    await ledger.start()
    record = _record(1)
    await ledger.record(record)
    await ledger.record(record)  # the same event, written again
    await ledger.close()
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(UsageEvent)) == 1


async def test_close_commits_what_is_queued_and_then_refuses(database: Database) -> None:
    ledger = UsageLedger(database)
    await ledger.start()
    pending = [asyncio.ensure_future(ledger.record(_record(i))) for i in range(20)]
    await asyncio.sleep(0)  # queued, not yet committed
    await ledger.close()
    await asyncio.gather(*pending)
    assert len(await _rows(database)) == 20
    with pytest.raises(LedgerUnavailable):
        await ledger.record(_record(99))
