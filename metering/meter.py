"""The meter on the hot path: price an operation, charge the company's bucket, settle.

The endpoint calls :meth:`Meter.charge` after validation and before execution (no
backend call happens for a refused operation) and :meth:`Meter.settle` after::

    charge = await meter.charge(principal, prepared, operation_name, variables)
    result = await execute(...)
    report = await meter.settle(principal, charge, result.data)
    payload["extensions"] = {"cost": report.extension()}
    headers = report.headers()
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from auth.principal import Principal
from errors import CostLimitExceeded, QuotaExceeded, Throttled
from metering.buckets import BucketStore, ThrottleStatus, Verdict, next_month_start
from metering.cost import CostModel, CostPlan, FieldPrice
from metering.plans import Plan, PlanCatalog

__all__ = ["Charge", "CostReport", "Meter", "MeterRefusal"]


@dataclass(slots=True)
class Charge:
    """What one request was charged up front."""

    plan: Plan
    cost_plan: CostPlan
    requested: int
    status: ThrottleStatus
    breakdown: list[FieldPrice] | None = None


@dataclass(slots=True)
class CostReport:
    """``extensions.cost`` and the RateLimit headers of one response."""

    plan: Plan
    requested: int
    actual: int | None
    status: ThrottleStatus
    breakdown: list[FieldPrice] | None = None

    def extension(self) -> dict[str, Any]:
        cost: dict[str, Any] = {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual,
            "throttleStatus": {
                "maximumAvailable": self.status.maximum_available,
                "currentlyAvailable": math.floor(self.status.currently_available),
                "restoreRate": self.status.restore_rate,
            },
        }
        if self.breakdown is not None:
            cost["fields"] = [{"path": f.path, "requestedCost": f.cost} for f in self.breakdown]
        return cost

    def headers(self) -> list[tuple[bytes, bytes]]:
        """IETF RateLimit-Policy / RateLimit: the bucket in cost points, refill in seconds."""
        plan = self.plan
        window = math.ceil(plan.bucket_capacity / plan.restore_rate)
        available = max(0, math.floor(self.status.currently_available))
        until_full = math.ceil((plan.bucket_capacity - available) / plan.restore_rate)
        return [
            (b"ratelimit-policy", f'"cost";q={plan.bucket_capacity};w={window}'.encode()),
            (b"ratelimit", f'"cost";r={available};t={until_full}'.encode()),
        ]


class MeterRefusal(Exception):
    """An operation the meter refused; ``error`` is what the partner reads."""

    def __init__(self, error: CostLimitExceeded | Throttled, report: CostReport) -> None:
        self.error = error
        self.report = report
        super().__init__(error.public_message)


class Meter:
    def __init__(self, model: CostModel, store: BucketStore, plans: PlanCatalog) -> None:
        self.model = model
        self.store = store
        self.plans = plans
        # (plan name, the principal's sorted overrides) -> plan: one lookup per request.
        self._plan_for: dict[tuple[str, tuple[tuple[str, Any], ...]], Plan] = {}

    def plan_for(self, principal: Principal) -> Plan:
        key = (principal.plan, principal.plan_overrides)
        plan = self._plan_for.get(key)
        if plan is None:
            overrides = principal.plan_overrides
            plan = self.plans.resolve(principal.plan, dict(overrides) if overrides else None)
            self._plan_for[key] = plan
        return plan

    async def charge(
        self,
        principal: Principal,
        cost_plan: CostPlan,
        variables: dict[str, Any] | None,
        *,
        debug: bool = False,
    ) -> Charge:
        """Charge the requested cost, or raise :class:`MeterRefusal` without charging."""
        plan = self.plan_for(principal)
        breakdown: list[FieldPrice] | None = [] if debug else None
        requested = cost_plan.requested(variables, breakdown=breakdown)
        if requested > plan.max_operation_cost:
            status, _ = await self.store.peek(principal.company_id, plan)
            raise MeterRefusal(
                CostLimitExceeded(
                    f"This operation costs {requested} points; your plan allows "
                    f"{plan.max_operation_cost} for one operation. Ask for fewer items."
                ),
                CostReport(plan, requested, None, status, breakdown),
            )
        admission = await self.store.admit(principal.company_id, plan, requested)
        if admission.verdict is Verdict.THROTTLED:
            raise MeterRefusal(
                Throttled(
                    f"This operation costs {requested} points and "
                    f"{math.floor(admission.status.currently_available)} are available; "
                    f"retry in {math.ceil(admission.retry_after)} s.",
                    retry_after=admission.retry_after,
                ),
                CostReport(plan, requested, None, admission.status, breakdown),
            )
        if admission.verdict is Verdict.QUOTA_EXCEEDED:
            raise MeterRefusal(
                QuotaExceeded(
                    f"Your plan's monthly quota of {plan.monthly_quota} points is used up.",
                    retry_after=_seconds_to_next_month(),
                ),
                CostReport(plan, requested, None, admission.status, breakdown),
            )
        return Charge(plan, cost_plan, requested, admission.status, breakdown)

    def forfeit(self, charge: Charge) -> CostReport:
        """The operation was cut short (its deadline passed): the requested cost stays
        spent, so retrying into a slow backend cannot run past the bucket or the quota.
        The ledger bills nothing for it (:attr:`UsageRecord.billable_cost`)."""
        return CostReport(
            charge.plan, charge.requested, charge.requested, charge.status, charge.breakdown
        )

    async def settle(
        self, principal: Principal, charge: Charge, data: dict[str, Any] | None
    ) -> CostReport:
        actual = charge.cost_plan.actual(data)
        await self.store.settle(principal.company_id, charge.plan, charge.requested, actual)
        status = charge.status
        level = min(
            status.maximum_available, status.currently_available + charge.requested - actual
        )
        return CostReport(
            charge.plan,
            charge.requested,
            actual,
            ThrottleStatus(status.maximum_available, level, status.restore_rate),
            charge.breakdown,
        )


def _seconds_to_next_month() -> float:
    return next_month_start().timestamp() - time.time()
