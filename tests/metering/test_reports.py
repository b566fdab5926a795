"""Usage reports on both databases: totals reconcile exactly with seeded random ledger rows.

Rows are made by a seeded generator (so a failure names its seed and replays), inserted
straight into ``usage_events``, and every report is compared with sums computed in Python
from the same rows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text, update

from metering.ledger import UsageLedger, UsageRecord
from metering.reports import (
    ANONYMOUS_OPERATION,
    CompanyNotFound,
    UsageSummary,
    amount_for,
    month_bounds,
    usage_by_company,
    usage_query,
    usage_summary,
)
from storage.database import Database
from storage.models import Company
from tests.fixtures.databases import seed_company
from tests.fixtures.usage import LedgerRow, insert_ledger_rows

OUTCOMES = ("ok", "ok", "ok", "error", "throttled", "rejected", "unauthenticated")
OPERATIONS = (None, "GetBadges", "ListCredentials", "IssueCredential", "Viewer")
JANUARY = month_bounds(2026, 1)


def _random_rows(rng: random.Random, company_ids: list[str], count: int) -> list[LedgerRow]:
    start, end = JANUARY
    # Around the month: a little of December and February, and the exact boundaries.
    span = int((end - start).total_seconds() * 1_000_000)
    edges = [start, end, start - timedelta(microseconds=1), end - timedelta(microseconds=1)]
    rows = []
    for _ in range(count):
        if rng.random() < 0.1:
            at = rng.choice(edges)
        else:
            at = start + timedelta(microseconds=rng.randrange(-span // 10, span + span // 10))
        outcome = rng.choice(OUTCOMES)
        actual = rng.randrange(0, 1200)
        rows.append(
            LedgerRow(
                company_id=None if outcome == "unauthenticated" else rng.choice(company_ids),
                at=at,
                operation_name=rng.choice(OPERATIONS),
                outcome=outcome,
                billable_cost=actual if outcome in ("ok", "error") else 0,
            )
        )
    return rows


async def _set_overrides(database: Database, company_id: str, overrides: dict[str, str]) -> None:
    async with database.session() as session, session.begin():
        await session.execute(
            update(Company).where(Company.id == company_id).values(plan_overrides=overrides)
        )


def _expected(
    rows: list[LedgerRow], company_id: str, start: datetime, end: datetime, price: Decimal
) -> dict[str, object]:
    """The report, computed in Python from the same rows."""
    mine = [r for r in rows if r.company_id == company_id and start <= r.at < end]
    operations: dict[str, tuple[int, int, int]] = {}
    for r in mine:
        name = r.operation_name or ANONYMOUS_OPERATION
        requests, points, errors = operations.get(name, (0, 0, 0))
        operations[name] = (requests + 1, points + r.billable_cost, errors + (r.outcome == "error"))
    points = sum(r.billable_cost for r in mine)
    return {
        "requests": len(mine),
        "cost_points": points,
        "errors": sum(r.outcome == "error" for r in mine),
        "throttled": sum(r.outcome == "throttled" for r in mine),
        "rejected": sum(r.outcome == "rejected" for r in mine),
        "amount": (Decimal(points) * price / 1000).quantize(Decimal("0.01"), "ROUND_HALF_UP"),
        "operations": operations,
    }


def _actual(summary: UsageSummary) -> dict[str, object]:
    return {
        "requests": summary.requests,
        "cost_points": summary.cost_points,
        "errors": summary.errors,
        "throttled": summary.throttled,
        "rejected": summary.rejected,
        "amount": summary.amount,
        "operations": {
            o.operation_name: (o.requests, o.cost_points, o.errors) for o in summary.operations
        },
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_reports_reconcile_exactly_with_the_ledger_rows(
    database: Database, database_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    standard = await seed_company(database_url, name="Standard Co", plan="standard")
    enterprise = await seed_company(database_url, name="Enterprise Co", plan="enterprise")
    custom = await seed_company(database_url, name="Custom Co", plan="standard")
    idle = await seed_company(database_url, name="Idle Co", plan="free")
    await _set_overrides(database, custom.id, {"price_per_1000": "0.125"})
    prices = {
        standard.id: Decimal("0.50"),
        enterprise.id: Decimal("0.30"),
        custom.id: Decimal("0.125"),
        idle.id: Decimal("0"),
    }
    busy = [standard.id, enterprise.id, custom.id]
    rows = _random_rows(rng, busy, 600)
    await insert_ledger_rows(database, rows)

    # Random windows, including empty and month-sized ones.
    lo, hi = JANUARY[0] - timedelta(days=5), JANUARY[1] + timedelta(days=5)
    windows = [JANUARY]
    for _ in range(4):
        a = lo + (hi - lo) * rng.random()
        b = lo + (hi - lo) * rng.random()
        windows.append((min(a, b), max(a, b)))
    for start, end in windows:
        for company_id in [*busy, idle.id]:
            summary = await usage_summary(database, company_id, start, end)
            assert _actual(summary) == _expected(rows, company_id, start, end, prices[company_id])
            assert (summary.start, summary.end, summary.price_per_1000) == (
                start,
                end,
                prices[company_id],
            )

    monthly = await usage_by_company(database, *JANUARY)
    assert [s.company_name for s in monthly] == [
        "Custom Co",
        "Enterprise Co",
        "Idle Co",
        "Standard Co",
    ]
    for summary in monthly:
        expected = _expected(rows, summary.company_id, *JANUARY, prices[summary.company_id])
        assert _actual(summary) == expected
    # Every company row in the month is counted once, and nothing else is.
    in_month = [r for r in rows if r.company_id and JANUARY[0] <= r.at < JANUARY[1]]
    assert sum(s.requests for s in monthly) == len(in_month)
    assert sum(s.cost_points for s in monthly) == sum(r.billable_cost for r in in_month)


async def test_the_interval_is_half_open(database: Database, database_url: str) -> None:
    company = await seed_company(database_url)
    start, end = JANUARY
    edge = timedelta(microseconds=1)
    await insert_ledger_rows(
        database,
        [
            LedgerRow(company.id, start - edge, "Before", "ok", 1),
            LedgerRow(company.id, start, "First", "ok", 10),
            LedgerRow(company.id, end - edge, "Last", "ok", 100),
            LedgerRow(company.id, end, "Next", "ok", 1000),
        ],
    )
    summary = await usage_summary(database, company.id, start, end)
    assert summary.cost_points == 110
    assert {o.operation_name for o in summary.operations} == {"First", "Last"}
    february = await usage_summary(database, company.id, *month_bounds(2026, 2))
    assert february.cost_points == 1000  # the event at `end` is the next month's


async def test_a_ledger_written_report_bills_refusals_nothing(
    database: Database, database_url: str
) -> None:
    company = await seed_company(database_url, plan="standard")
    at = datetime(2026, 1, 15, 12, tzinfo=UTC)
    ledger = UsageLedger(database)
    await ledger.start()
    for record in [
        UsageRecord("r1", "ok", 5.0, company.id, operation_name="A", actual_cost=41, at=at),
        UsageRecord("r2", "error", 5.0, company.id, operation_name="A", actual_cost=9, at=at),
        UsageRecord("r3", "throttled", 1.0, company.id, requested_cost=900, actual_cost=0, at=at),
        UsageRecord(
            "r4", "rejected", 1.0, company.id, operation_name="B", requested_cost=5000, at=at
        ),
    ]:
        await ledger.record(record)
    await ledger.close()
    summary = await usage_summary(database, company.id, *JANUARY)
    assert (summary.requests, summary.cost_points, summary.errors) == (4, 50, 1)
    assert (summary.throttled, summary.rejected) == (1, 1)
    assert summary.amount == Decimal("0.03")  # 50 points * 0.50 / 1000 = 0.025, half up
    by_name = {o.operation_name: o for o in summary.operations}
    assert (by_name["A"].requests, by_name["A"].cost_points, by_name["A"].errors) == (2, 50, 1)
    assert by_name[ANONYMOUS_OPERATION].cost_points == 0
    assert summary.to_json()["amount"] == "0.03"


async def test_unknown_companies_and_orphan_rows(database: Database, database_url: str) -> None:
    with pytest.raises(CompanyNotFound):
        await usage_summary(database, "co_0000000000000000", *JANUARY)
    known = await seed_company(database_url, name="Known")
    at = datetime(2026, 1, 2, tzinfo=UTC)
    await insert_ledger_rows(
        database, [LedgerRow("co_gone", at, "A", "ok", 7), LedgerRow(known.id, at, "A", "ok", 3)]
    )
    monthly = {s.company_id: s for s in await usage_by_company(database, *JANUARY)}
    assert monthly["co_gone"].company_name == "(unknown)"
    assert (monthly["co_gone"].cost_points, monthly["co_gone"].amount) == (7, Decimal("0.00"))
    assert monthly[known.id].cost_points == 3


def test_amounts_round_half_up_to_cents() -> None:
    assert amount_for(1, Decimal("5")) == Decimal("0.01")  # 0.005: half up, not to even
    assert amount_for(1, Decimal("4.99")) == Decimal("0.00")
    assert amount_for(41_000, Decimal("0.50")) == Decimal("20.50")
    assert amount_for(0, Decimal("0.30")) == Decimal("0.00")
    assert amount_for(10**12, Decimal("0.30")) == Decimal("300000000.00")


def test_month_bounds_and_naive_datetimes() -> None:
    assert month_bounds(2025, 12) == (
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="naive"):
        usage_query(datetime(2026, 1, 1), datetime(2026, 2, 1))


async def test_the_company_report_reads_the_company_at_index(database: Database) -> None:
    statement = usage_query(*JANUARY, "co_1")
    sql = str(statement.compile(database.engine, compile_kwargs={"literal_binds": True}))
    async with database.session() as session, session.begin():
        if database.dialect == "sqlite":
            plan = await session.execute(text("EXPLAIN QUERY PLAN " + sql))
            detail = " ".join(str(row[-1]) for row in plan)
        else:
            # Empty tables make a sequential scan cheapest; ask whether the index can serve.
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            detail = " ".join(str(row[0]) for row in await session.execute(text("EXPLAIN " + sql)))
    assert "ix_usage_events_company_id_at" in detail, detail
