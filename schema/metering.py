"""What a partner can read about its own spending: the bucket and the monthly quota.

Reading them costs nothing (``@cost(weight: 0)``), so a throttled partner can still ask::

    { viewer { rateLimit { currentlyAvailable restoreRate } quota { used remaining } } }
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.federation.schema_directives import ListSize

__all__ = ["OperationUsage", "Quota", "RateLimit", "Usage"]


@strawberry.type(
    description="Your company's cost bucket: operations spend from it, time refills it."
)
class RateLimit:
    maximum_available: int = strawberry.field(description="Cost points the bucket holds when full.")
    currently_available: int = strawberry.field(description="Cost points available now.")
    restore_rate: float = strawberry.field(description="Cost points restored per second.")
    max_operation_cost: int = strawberry.field(
        description="The most one operation may cost; dearer ones are refused before they run."
    )


@strawberry.type(description="Your company's monthly allowance of cost points.")
class Quota:
    limit: int = strawberry.field(description="Cost points allowed per calendar month (UTC).")
    used: int = strawberry.field(description="Cost points used this month.")
    remaining: int = strawberry.field(description="Cost points left this month.")
    resets_at: datetime = strawberry.field(description="When the next month's allowance starts.")


@strawberry.type(description="Usage of one operation name in a period.")
class OperationUsage:
    operation_name: str = strawberry.field(
        description="The operation's name; (anonymous) for unnamed operations."
    )
    requests: int = strawberry.field(description="Requests with this operation name.")
    cost_points: int = strawberry.field(description="Billable cost points they used.")
    errors: int = strawberry.field(description="How many ended with errors.")
    amount: str = strawberry.field(description="What they cost, a decimal string, e.g. 12.50.")


@strawberry.type(description="Your company's usage over a period, as the usage ledger has it.")
class Usage:
    start: datetime = strawberry.field(description="The period's first instant (UTC).")
    end: datetime = strawberry.field(description="The instant after the period (UTC).")
    requests: int = strawberry.field(description="Every request, executed or refused.")
    cost_points: int = strawberry.field(
        description="Billable cost points: the actual cost of executed operations."
    )
    errors: int = strawberry.field(description="Requests that ended with errors.")
    throttled: int = strawberry.field(description="Requests refused for rate or quota.")
    amount: str = strawberry.field(
        description="What the period costs on your plan, a decimal string, e.g. 20.50."
    )
    by_operation: list[OperationUsage] = strawberry.field(
        description="The same, per operation name, costliest first.",
        directives=[ListSize(assumed_size=20, slicing_arguments=None, sized_fields=None)],
    )
