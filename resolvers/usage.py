"""``viewer.usage``: a partner's own usage, read from the ledger like the billing report.

The same :func:`metering.reports.usage_summary` serves ``gateway usage report``, so what a
partner reads is what it is billed::

    { viewer { usage(from: "2026-11-01", to: "2026-11-30") { requests costPoints amount } } }
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from errors import BadUserInput
from metering.reports import usage_summary
from resolvers.context import RequestContext
from schema.metering import OperationUsage, Usage

__all__ = ["MAX_USAGE_DAYS", "usage_for"]

MAX_USAGE_DAYS = 366


async def usage_for(context: RequestContext, first: date, last: date) -> Usage:
    if last < first:
        raise BadUserInput("`to` must not be before `from`.", field="to")
    if (last - first).days >= MAX_USAGE_DAYS:
        raise BadUserInput(f"Ask for at most {MAX_USAGE_DAYS} days at a time.", field="to")
    start = datetime.combine(first, time.min, UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, UTC)
    summary = await usage_summary(
        context.database, context.principal.company_id, start, end, catalog=context.meter.plans
    )
    return Usage(
        start=start,
        end=end,
        requests=summary.requests,
        cost_points=summary.cost_points,
        errors=summary.errors,
        throttled=summary.throttled,
        amount=str(summary.amount),
        by_operation=[
            OperationUsage(
                operation_name=line.operation_name,
                requests=line.requests,
                cost_points=line.cost_points,
                errors=line.errors,
                amount=str(line.amount),
            )
            for line in summary.operations
        ],
    )
