"""What a partner can read about its own spending: the bucket and the monthly quota.

Reading them costs nothing (``@cost(weight: 0)``), so a throttled partner can still ask::

    { viewer { rateLimit { currentlyAvailable restoreRate } quota { used remaining } } }
"""

from __future__ import annotations

from datetime import datetime

import strawberry

__all__ = ["Quota", "RateLimit"]


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
