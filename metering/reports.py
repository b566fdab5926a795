"""Usage reports over the ledger: what a company used and owes in a half-open interval.

Everything is summed in the database, grouped by operation name, in one query over the
``(company_id, at)`` index (plus one to read the company and its plan). Intervals are
half-open, ``[start, end)``: an event at exactly ``end`` belongs to the next report, so
consecutive reports never count one twice::

    start, end = month_bounds(2026, 1)           # [2026-01-01, 2026-02-01) UTC
    summary = await usage_summary(database, "co_3f9a0c1d2b4e5f60", start, end)
    summary.cost_points, summary.amount          # 41_000, Decimal("20.50")
    for line in await usage_by_company(database, start, end):  # every company, for the export
        ...

**Amounts.** ``amount = cost points / 1000 * price_per_1000`` of the company's effective
plan (its plan with its overrides, as they are when the report runs), computed exactly in
``Decimal`` and rounded once to cents with ``ROUND_HALF_UP`` (0.005 becomes 0.01). A
company's amount is computed from its total points, never as a sum of rounded lines; each
operation line is rounded on its own, so the lines may differ from the total by at most half a
cent each. The total is what is billed.

**Counts.** ``requests`` counts every ledger row (executed or refused); ``cost_points`` sums
``billable_cost`` (the actual cost of executed operations, 0 for refused ones); ``errors``,
``throttled`` and ``rejected`` count rows with that outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, select

from metering.plans import PlanCatalog
from storage.database import Database
from storage.models import Company, UsageEvent

__all__ = [
    "ANONYMOUS_OPERATION",
    "UNKNOWN_COMPANY",
    "CompanyNotFound",
    "OperationUsage",
    "UsageSummary",
    "amount_for",
    "month_bounds",
    "usage_by_company",
    "usage_query",
    "usage_summary",
]

ANONYMOUS_OPERATION = "(anonymous)"  # not a GraphQL name, so it never meets a real one
UNKNOWN_COMPANY = "(unknown)"  # name and plan of ledger rows whose company is not on file
_CENT = Decimal("0.01")


class CompanyNotFound(LookupError):
    def __init__(self, company_id: str) -> None:
        super().__init__(f"No company with id {company_id!r}.")


def amount_for(cost_points: int, price_per_1000: Decimal) -> Decimal:
    """``cost_points / 1000 * price_per_1000``, rounded to cents, half up."""
    return (Decimal(cost_points) * price_per_1000 / 1000).quantize(_CENT, rounding=ROUND_HALF_UP)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The calendar month in UTC as a half-open interval ``[first day, next month's first)``."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


@dataclass(frozen=True, slots=True)
class OperationUsage:
    """One operation name's usage; unnamed operations are :data:`ANONYMOUS_OPERATION`."""

    operation_name: str
    requests: int
    cost_points: int
    errors: int
    amount: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_name": self.operation_name,
            "requests": self.requests,
            "cost_points": self.cost_points,
            "errors": self.errors,
            "amount": str(self.amount),
        }


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """A company's usage in ``[start, end)`` and what it costs on its effective plan."""

    company_id: str
    company_name: str
    plan: str
    price_per_1000: Decimal
    start: datetime
    end: datetime
    requests: int
    cost_points: int
    errors: int
    throttled: int
    rejected: int
    amount: Decimal
    operations: tuple[OperationUsage, ...] = field(default=())  # by cost points, descending

    def to_json(self) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "company_name": self.company_name,
            "plan": self.plan,
            "price_per_1000": str(self.price_per_1000),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "requests": self.requests,
            "cost_points": self.cost_points,
            "errors": self.errors,
            "throttled": self.throttled,
            "rejected": self.rejected,
            "amount": str(self.amount),
            "operations": [operation.to_json() for operation in self.operations],
        }


@dataclass(frozen=True, slots=True)
class _Company:
    id: str
    name: str
    plan: str
    price_per_1000: Decimal


def _counted(outcome: str) -> Any:
    return func.count().filter(UsageEvent.outcome == outcome)


def usage_query(start: datetime, end: datetime, company_id: str | None = None) -> Select[Any]:
    """Ledger rows in ``[start, end)`` summed per company and operation name.

    With ``company_id`` it reads one company's rows through the ``(company_id, at)`` index;
    without, every company's (rows without a company, unauthenticated requests, are left out).
    Columns: company_id, operation_name, requests, cost_points, errors, throttled, rejected.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass aware UTC datetimes")
    if end < start:
        raise ValueError("the interval ends before it starts")
    company = (
        UsageEvent.company_id == company_id
        if company_id is not None
        else UsageEvent.company_id.is_not(None)
    )
    return (
        select(
            UsageEvent.company_id,
            UsageEvent.operation_name,
            func.count().label("requests"),
            func.coalesce(func.sum(UsageEvent.billable_cost), 0).label("cost_points"),
            _counted("error").label("errors"),
            _counted("throttled").label("throttled"),
            _counted("rejected").label("rejected"),
        )
        .where(company, UsageEvent.at >= start, UsageEvent.at < end)
        .group_by(UsageEvent.company_id, UsageEvent.operation_name)
    )


def _summarize(
    company: _Company, start: datetime, end: datetime, rows: Sequence[Any]
) -> UsageSummary:
    price = company.price_per_1000
    operations = sorted(
        (
            OperationUsage(
                operation_name=row.operation_name or ANONYMOUS_OPERATION,
                requests=int(row.requests),
                cost_points=int(row.cost_points),
                errors=int(row.errors),
                amount=amount_for(int(row.cost_points), price),
            )
            for row in rows
        ),
        key=lambda operation: (
            -operation.cost_points,
            -operation.requests,
            operation.operation_name,
        ),
    )
    cost_points = sum(int(row.cost_points) for row in rows)
    return UsageSummary(
        company_id=company.id,
        company_name=company.name,
        plan=company.plan,
        price_per_1000=price,
        start=start,
        end=end,
        requests=sum(int(row.requests) for row in rows),
        cost_points=cost_points,
        errors=sum(int(row.errors) for row in rows),
        throttled=sum(int(row.throttled) for row in rows),
        rejected=sum(int(row.rejected) for row in rows),
        amount=amount_for(cost_points, price),
        operations=tuple(operations),
    )


def _priced(row: Any, catalog: PlanCatalog) -> _Company:
    overrides: Mapping[str, Any] | None = row.plan_overrides
    plan = catalog.resolve(row.plan, overrides)
    return _Company(id=row.id, name=row.name, plan=row.plan, price_per_1000=plan.price_per_1000)


_COMPANY_COLUMNS = (Company.id, Company.name, Company.plan, Company.plan_overrides)


async def usage_summary(
    database: Database,
    company_id: str,
    start: datetime,
    end: datetime,
    *,
    catalog: PlanCatalog | None = None,
) -> UsageSummary:
    """One company's usage in ``[start, end)``; raises :class:`CompanyNotFound`."""
    catalog = catalog or PlanCatalog.default()
    statement = usage_query(start, end, company_id)
    async with database.session() as session:
        company_row = (
            await session.execute(select(*_COMPANY_COLUMNS).where(Company.id == company_id))
        ).one_or_none()
        if company_row is None:
            raise CompanyNotFound(company_id)
        rows = (await session.execute(statement)).all()
    return _summarize(_priced(company_row, catalog), start, end, rows)


async def usage_by_company(
    database: Database,
    start: datetime,
    end: datetime,
    *,
    catalog: PlanCatalog | None = None,
) -> list[UsageSummary]:
    """Every company's usage in ``[start, end)``, by company name; companies without usage too.

    Ledger rows whose company is not in ``companies`` (there is no foreign key: the ledger
    outlives anything) are reported under their id with name and plan :data:`UNKNOWN_COMPANY` and an
    amount of 0, so they are visible rather than silently dropped.
    """
    catalog = catalog or PlanCatalog.default()
    async with database.session() as session:
        companies = (await session.execute(select(*_COMPANY_COLUMNS))).all()
        rows = (await session.execute(usage_query(start, end))).all()
    by_company: dict[str, list[Any]] = {}
    for row in rows:
        by_company.setdefault(row.company_id, []).append(row)
    known = {row.id: _priced(row, catalog) for row in companies}
    for company_id in by_company.keys() - known.keys():
        known[company_id] = _Company(company_id, UNKNOWN_COMPANY, UNKNOWN_COMPANY, Decimal(0))
    summaries = [
        _summarize(company, start, end, by_company.get(company.id, []))
        for company in known.values()
    ]
    return sorted(summaries, key=lambda summary: (summary.company_name, summary.company_id))
